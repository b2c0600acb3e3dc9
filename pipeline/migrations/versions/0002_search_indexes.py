"""Full-text indexes over document_text: any substring of two characters or more, per dialect.

SQLite: `document_fts`, an FTS5 trigram index whose content is document_text (triggers
keep it in step), and `document_grams`, a contentless FTS5 index of each document's
bigrams, one token each (pipeline/matching.py computes them), for two-character queries.

PostgreSQL: `document_grams`, a GIN-indexed text[] of each document's bigrams, serves every
query of two characters or more (a query's bigrams must all be there, then the text is
checked); a GIN trigram index over the whole text as well would double the cost of every
insert for little gain (bench/RESULTS.md). pg_trgm indexes party names and 字號 for
`--sender`, `--recipient` and partial `--number`.

Revision ID: 0002
Revises: 0001
Create Date: 2024-11-22
"""

from __future__ import annotations

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_SQLITE_UP = [
    """CREATE VIRTUAL TABLE document_fts USING fts5(
        subject, parties, meta, body,
        content='document_text', content_rowid='document_id', tokenize='trigram')""",
    """CREATE TRIGGER document_text_ai AFTER INSERT ON document_text BEGIN
        INSERT INTO document_fts (rowid, subject, parties, meta, body)
        VALUES (new.document_id, new.subject, new.parties, new.meta, new.body);
    END""",
    """CREATE TRIGGER document_text_ad AFTER DELETE ON document_text BEGIN
        INSERT INTO document_fts (document_fts, rowid, subject, parties, meta, body)
        VALUES ('delete', old.document_id, old.subject, old.parties, old.meta, old.body);
    END""",
    """CREATE TRIGGER document_text_au AFTER UPDATE ON document_text BEGIN
        INSERT INTO document_fts (document_fts, rowid, subject, parties, meta, body)
        VALUES ('delete', old.document_id, old.subject, old.parties, old.meta, old.body);
        INSERT INTO document_fts (rowid, subject, parties, meta, body)
        VALUES (new.document_id, new.subject, new.parties, new.meta, new.body);
    END""",
    # every character is a token character (bigrams are separated by spaces and hold none);
    # detail=none: a bigram query needs only which documents hold the token
    "CREATE VIRTUAL TABLE document_grams USING fts5(grams, content='', "
    "tokenize=\"unicode61 remove_diacritics 0 categories 'L* M* N* P* S* C*'\", detail=none)",
]
_SQLITE_DOWN = [
    "DROP TABLE document_grams",
    "DROP TRIGGER document_text_au",
    "DROP TRIGGER document_text_ad",
    "DROP TRIGGER document_text_ai",
    "DROP TABLE document_fts",
]

# pg_trgm lives in one schema per database: in `public`, so that an archive made first in a schema
# of its own (a test's, a benchmark's) does not take it along when that schema is dropped; its
# operator class is named with the schema it is really in (see `upgrade`), which need not be on
# the archive's search path
_PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public",
    """CREATE TABLE document_grams (
        document_id integer PRIMARY KEY REFERENCES documents (id),
        grams text[] NOT NULL)""",
    "CREATE INDEX ix_document_grams_grams ON document_grams USING gin (grams)",
    "CREATE INDEX ix_parties_name_key_trgm ON parties USING gin (name_key gin_trgm_ops)",
    "CREATE INDEX ix_documents_doc_number_key_trgm ON documents USING gin (doc_number_key gin_trgm_ops)",
    # newest first as search orders it (SQLite reads ix_documents_issue_date_id backwards)
    "CREATE INDEX ix_documents_recent ON documents (issue_date DESC NULLS LAST, id DESC)",
]
_PG_DOWN = [
    "DROP INDEX ix_documents_recent",
    "DROP INDEX ix_documents_doc_number_key_trgm",
    "DROP INDEX ix_parties_name_key_trgm",
    "DROP TABLE document_grams",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        for statement in _SQLITE_UP:
            op.execute(statement)
        return
    op.execute(_PG_UP[0])
    schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
    ).scalar_one()
    for statement in _PG_UP[1:]:
        op.execute(statement.replace("gin_trgm_ops", f'"{schema}".gin_trgm_ops'))


def downgrade() -> None:
    for statement in _PG_DOWN if op.get_bind().dialect.name == "postgresql" else _SQLITE_DOWN:
        op.execute(statement)
