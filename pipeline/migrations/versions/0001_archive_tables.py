"""The archive's tables, from the first one: files, documents and what hangs off them.

Revision ID: 0001
Revises:
Create Date: 2024-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table('files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('store_path', sa.String(length=200), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('text_source', sa.String(length=50), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('ingested_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_files')),
    sa.UniqueConstraint('sha256', name=op.f('uq_files_sha256'))
    )
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=True),
    sa.Column('parent', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('name', name=op.f('uq_organisations_name'))
    )
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('page_first', sa.Integer(), nullable=False),
    sa.Column('page_last', sa.Integer(), nullable=False),
    sa.Column('file_code', sa.Text(), nullable=True),
    sa.Column('retention', sa.Text(), nullable=True),
    sa.Column('sender', sa.Text(), nullable=True),
    sa.Column('doc_type', sa.String(length=40), nullable=True),
    sa.Column('recipient', sa.Text(), nullable=True),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('doc_number', sa.String(length=200), nullable=True),
    sa.Column('doc_number_key', sa.String(length=200), nullable=True),
    sa.Column('letter_key', sa.String(length=450), nullable=True),
    sa.Column('speed', sa.String(length=20), nullable=True),
    sa.Column('security', sa.Text(), nullable=True),
    sa.Column('attachments', sa.Text(), nullable=True),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('signatory', sa.Text(), nullable=True),
    sa.Column('contact_address', sa.Text(), nullable=True),
    sa.Column('contact_unit', sa.Text(), nullable=True),
    sa.Column('contact_name', sa.Text(), nullable=True),
    sa.Column('contact_title', sa.Text(), nullable=True),
    sa.Column('contact_phone', sa.Text(), nullable=True),
    sa.Column('contact_fax', sa.Text(), nullable=True),
    sa.Column('contact_email', sa.Text(), nullable=True),
    sa.Column('meeting_time', sa.DateTime(), nullable=True),
    sa.Column('meeting_place', sa.Text(), nullable=True),
    sa.Column('chair', sa.Text(), nullable=True),
    sa.Column('form_number', sa.String(length=100), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('compiler', sa.Text(), nullable=True),
    sa.Column('period', sa.Text(), nullable=True),
    sa.Column('due', sa.Text(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_documents_file_id_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('letter_key', name=op.f('uq_documents_letter_key'))
    )
    op.create_index(op.f('ix_documents_doc_number_key'), 'documents', ['doc_number_key'], unique=False)
    op.create_index(op.f('ix_documents_file_id'), 'documents', ['file_id'], unique=False)
    op.create_index('ix_documents_issue_date_id', 'documents', ['issue_date', 'id'], unique=False)
    op.create_index(op.f('ix_documents_kind'), 'documents', ['kind'], unique=False)
    op.create_index(op.f('ix_documents_speed'), 'documents', ['speed'], unique=False)

    op.create_table('appearances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('page_first', sa.Integer(), nullable=False),
    sa.Column('page_last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_appearances_document_id_documents')),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_appearances_file_id_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appearances')),
    sa.UniqueConstraint('file_id', 'position', name='uq_appearances_file_id_position')
    )
    op.create_index(op.f('ix_appearances_document_id'), 'appearances', ['document_id'], unique=False)

    op.create_table('citations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('doc_number', sa.String(length=200), nullable=False),
    sa.Column('doc_number_key', sa.String(length=200), nullable=False),
    sa.Column('cited_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cited_id'], ['documents.id'], name=op.f('fk_citations_cited_id_documents')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_citations_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_citations'))
    )
    op.create_index(op.f('ix_citations_cited_id'), 'citations', ['cited_id'], unique=False)
    op.create_index(op.f('ix_citations_doc_number_key'), 'citations', ['doc_number_key'], unique=False)
    op.create_index('ix_citations_document_id_position', 'citations', ['document_id', 'position'], unique=False)

    op.create_table('dates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_dates_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dates'))
    )
    op.create_index(op.f('ix_dates_date'), 'dates', ['date'], unique=False)
    op.create_index('ix_dates_document_id_position', 'dates', ['document_id', 'position'], unique=False)

    op.create_table('document_text',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('parties', sa.Text(), nullable=False),
    sa.Column('meta', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_text_document_id_documents')),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_document_text'))
    )
    op.create_table('field_confidences',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_field_confidences_document_id_documents')),
    sa.PrimaryKeyConstraint('document_id', 'field', name=op.f('pk_field_confidences'))
    )
    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=12), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_items_document_id_documents')),
    sa.ForeignKeyConstraint(['parent_id'], ['items.id'], name=op.f('fk_items_parent_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items'))
    )
    op.create_index('ix_items_document_id_section_seq', 'items', ['document_id', 'section', 'seq'], unique=False)

    op.create_table('parties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_key', sa.Text(), nullable=False),
    sa.Column('with_attachments', sa.Boolean(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_parties_document_id_documents')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_parties_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parties'))
    )
    op.create_index('ix_parties_document_id_role', 'parties', ['document_id', 'role'], unique=False)
    op.create_index(op.f('ix_parties_organisation_id'), 'parties', ['organisation_id'], unique=False)
    op.create_index('ix_parties_role_name_key', 'parties', ['role', 'name_key'], unique=False)

    op.create_table('received_stamps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('appearance_id', sa.Integer(), nullable=False),
    sa.Column('org', sa.Text(), nullable=True),
    sa.Column('date', sa.Date(), nullable=True),
    sa.Column('number', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['appearance_id'], ['appearances.id'], name=op.f('fk_received_stamps_appearance_id_appearances')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_received_stamps_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_received_stamps')),
    sa.UniqueConstraint('appearance_id', name=op.f('uq_received_stamps_appearance_id'))
    )
    op.create_index(op.f('ix_received_stamps_document_id'), 'received_stamps', ['document_id'], unique=False)



def downgrade() -> None:
    op.drop_index(op.f('ix_received_stamps_document_id'), table_name='received_stamps')

    op.drop_table('received_stamps')
    op.drop_index('ix_parties_role_name_key', table_name='parties')
    op.drop_index(op.f('ix_parties_organisation_id'), table_name='parties')
    op.drop_index('ix_parties_document_id_role', table_name='parties')

    op.drop_table('parties')
    op.drop_index('ix_items_document_id_section_seq', table_name='items')

    op.drop_table('items')
    op.drop_table('field_confidences')
    op.drop_table('document_text')
    op.drop_index('ix_dates_document_id_position', table_name='dates')
    op.drop_index(op.f('ix_dates_date'), table_name='dates')

    op.drop_table('dates')
    op.drop_index('ix_citations_document_id_position', table_name='citations')
    op.drop_index(op.f('ix_citations_doc_number_key'), table_name='citations')
    op.drop_index(op.f('ix_citations_cited_id'), table_name='citations')

    op.drop_table('citations')
    op.drop_index(op.f('ix_appearances_document_id'), table_name='appearances')

    op.drop_table('appearances')
    op.drop_index(op.f('ix_documents_speed'), table_name='documents')
    op.drop_index(op.f('ix_documents_kind'), table_name='documents')
    op.drop_index('ix_documents_issue_date_id', table_name='documents')
    op.drop_index(op.f('ix_documents_file_id'), table_name='documents')
    op.drop_index(op.f('ix_documents_doc_number_key'), table_name='documents')

    op.drop_table('documents')
    op.drop_table('organisations')
    op.drop_table('files')
