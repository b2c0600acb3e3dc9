"""The gram index per column, with single characters: search counts and ranks from indexes alone.

Before, the gram index held each document's bigrams in one bag: a one-character query and
every "is it in the subject / the parties" test of the ranking were LIKE scans over the
whole archive (hundreds of ms at 100,000 letters, bench/RESULTS.md). Now it holds every
indexed character as well as every bigram, for the subject, the parties and the rest apart:

- SQLite: `document_grams` is rebuilt as a contentless FTS5 table with the columns
  subject, parties, rest (detail=column: a column filter `{subject}: "醫策"` works; no
  positions are needed, each token is one gram).
- PostgreSQL: `document_grams.grams` gains the single characters, and `subject_grams` and
  `parties_grams` (text[], GIN) are added.

Existing rows are re-indexed from their stored search text (`document_text`), as ingest
computes the tokens (pipeline/matching.py `search_rows`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_BATCH = 2000


def _grams(texts: Iterable[str]) -> list[str]:
    # the same as pipeline.matching.grams (copied: a migration does not change with the code)
    texts = list(texts)
    chars = {ch for t in texts for ch in t if ch.isalnum()}
    pairs = {a + b for t in texts for line in t.split("\n") for a, b in pairwise(line)}
    return [*chars, *(p for p in pairs if p[0].isalnum() and p[1].isalnum())]


def _rows(bind: sa.Connection) -> Iterable[list[tuple[int, list[str], list[str], list[str]]]]:
    """Batches of (document id, subject tokens, parties tokens, the rest's tokens)."""
    page = sa.text(
        "SELECT document_id, subject, parties, meta, body FROM document_text "
        "WHERE document_id > :last ORDER BY document_id LIMIT :n"
    )
    last = 0
    while rows := bind.execute(page, {"last": last, "n": _BATCH}).all():
        yield [
            (r[0], _grams([r[1] or ""]), _grams([r[2] or ""]), _grams([r[3] or "", r[4] or ""]))
            for r in rows
        ]
        last = rows[-1][0]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_document_grams_grams")
        op.execute("ALTER TABLE document_grams ADD COLUMN subject_grams text[] NOT NULL DEFAULT '{}'")
        op.execute("ALTER TABLE document_grams ADD COLUMN parties_grams text[] NOT NULL DEFAULT '{}'")
        # the token arrays out of line, uncompressed: the table itself stays narrow (16 MB, not 260, at
        # 100,000 letters), so counting the documents a GIN index finds reads few pages
        op.execute("ALTER TABLE document_grams SET (toast_tuple_target = 128)")
        for name in ("grams", "subject_grams", "parties_grams"):
            op.execute(f"ALTER TABLE document_grams ALTER COLUMN {name} SET STORAGE EXTERNAL")
        update = sa.text(
            "UPDATE document_grams SET grams = string_to_array(:g, ' '), subject_grams = string_to_array(:s, ' '), "
            "parties_grams = string_to_array(:p, ' ') WHERE document_id = :i"
        )
        for batch in _rows(bind):
            bind.execute(update, [
                {"i": i, "g": " ".join({*s, *p, *r}), "s": " ".join(s), "p": " ".join(p)} for i, s, p, r in batch
            ])
        # the indexes are built once the rows are in: quicker than keeping them in step row by row
        op.execute("CREATE INDEX ix_document_grams_grams ON document_grams USING gin (grams)")
        op.execute("CREATE INDEX ix_document_grams_subject ON document_grams USING gin (subject_grams)")
        op.execute("CREATE INDEX ix_document_grams_parties ON document_grams USING gin (parties_grams)")
        return
    op.execute("DROP TABLE document_grams")
    # every character is a token character (grams are separated by spaces and hold none)
    op.execute(
        "CREATE VIRTUAL TABLE document_grams USING fts5(subject, parties, rest, content='', "
        "tokenize=\"unicode61 remove_diacritics 0 categories 'L* M* N* P* S* C*'\", detail=column)"
    )
    insert = sa.text("INSERT INTO document_grams (rowid, subject, parties, rest) VALUES (:i, :s, :p, :r)")
    for batch in _rows(bind):
        bind.execute(insert, [{"i": i, "s": " ".join(s), "p": " ".join(p), "r": " ".join(r)} for i, s, p, r in batch])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX ix_document_grams_parties")
        op.execute("DROP INDEX ix_document_grams_subject")
        op.execute("ALTER TABLE document_grams DROP COLUMN parties_grams")
        op.execute("ALTER TABLE document_grams DROP COLUMN subject_grams")
        op.execute(
            "UPDATE document_grams SET grams = ARRAY(SELECT g FROM unnest(grams) AS g WHERE char_length(g) = 2)"
        )
        return
    op.execute("DROP TABLE document_grams")
    op.execute(
        "CREATE VIRTUAL TABLE document_grams USING fts5(grams, content='', "
        "tokenize=\"unicode61 remove_diacritics 0 categories 'L* M* N* P* S* C*'\", detail=none)"
    )
    insert = sa.text("INSERT INTO document_grams (rowid, grams) VALUES (:i, :g)")
    for batch in _rows(bind):
        bind.execute(insert, [{"i": i, "g": " ".join(g for g in {*s, *p, *r} if len(g) == 2)} for i, s, p, r in batch])
