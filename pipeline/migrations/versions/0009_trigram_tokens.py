"""PostgreSQL's gram index holds trigrams too: searches of three characters and more from the index.

Before, a form of three characters or more was found by its bigrams and then checked with
LIKE in every candidate's TOASTed text: 150–250 ms a statement at 100,000 letters, repeated by
the count and each rank (bench/RESULTS.md). With every indexed trigram in `grams`,
`subject_grams` and `parties_grams`, a form of three characters is answered by the index
exactly, and a longer one by its trigrams (pipeline/search.py checks the hits shown in the
text). SQLite is unchanged: its FTS5 trigram index over the text already answers these.

Existing rows are re-indexed from their stored search text (`document_text`), as ingest
computes the tokens (pipeline/matching.py `search_rows`, `LONGEST_GRAM`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

_BATCH = 2000
_INDEXES = {"grams": "ix_document_grams_grams", "subject_grams": "ix_document_grams_subject",
            "parties_grams": "ix_document_grams_parties"}


def _grams(texts: Iterable[str]) -> list[str]:
    # the same as pipeline.matching.grams(texts, 3) (copied: a migration does not change with the code)
    texts = list(texts)
    out = {ch for t in texts for ch in t if ch.isalnum()}
    for t in texts:
        for line in t.split("\n"):
            for n in (2, 3):
                out.update(g for i in range(len(line) - n + 1) if (g := line[i : i + n]).isalnum())
    return list(out)


def _reindex(bind: sa.Connection) -> None:
    page = sa.text(
        "SELECT document_id, subject, parties, meta, body FROM document_text "
        "WHERE document_id > :last ORDER BY document_id LIMIT :n"
    )
    update = sa.text(
        "UPDATE document_grams SET grams = string_to_array(:g, ' '), subject_grams = string_to_array(:s, ' '), "
        "parties_grams = string_to_array(:p, ' ') WHERE document_id = :i"
    )
    last = 0
    while rows := bind.execute(page, {"last": last, "n": _BATCH}).all():
        batch = []
        for i, subject, parties, meta, body in rows:
            s, p, r = _grams([subject or ""]), _grams([parties or ""]), _grams([meta or "", body or ""])
            batch.append({"i": i, "g": " ".join({*s, *p, *r}), "s": " ".join(s), "p": " ".join(p)})
        bind.execute(update, batch)
        last = rows[-1][0]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for index in _INDEXES.values():  # rebuilt once the rows are in: quicker than kept in step row by row
        op.execute(f"DROP INDEX IF EXISTS {index}")
    _reindex(bind)
    for col, index in _INDEXES.items():
        op.execute(f"CREATE INDEX {index} ON document_grams USING gin ({col})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "UPDATE document_grams SET "
        + ", ".join(f"{c} = ARRAY(SELECT g FROM unnest({c}) AS g WHERE char_length(g) < 3)" for c in _INDEXES)
    )
