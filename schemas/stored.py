"""Where a `Document`'s fields are kept in the archive's `documents` table, derived from the two models.

A text field of `Document` that has a text column of the same name is stored as it is and read back as
it is: a field added to both models is written and shown without a third list to keep in step. The
contact block's fields are the `contact_*` columns. The rest is listed by hand, in
`pipeline/rows.py` (a Document → its rows) and `pipeline/show.py` (rows → the Document): dates and the
meeting time (typed alike in both models, so copied as they are), the page span, the notices (JSON);
trees, parties, dates mentioned, confidence and boxes are rows of tables of their own.
"""

from __future__ import annotations

from sqlalchemy import String

from schemas.letter import Contact, Document
from schemas.orm import DocumentRow


def _as_printed() -> tuple[str, ...]:
    columns = DocumentRow.__table__.columns
    return tuple(
        name
        for name, field in Document.model_fields.items()
        if name in columns and isinstance(columns[name].type, String) and field.annotation == (str | None)
    )


# the Document fields stored in the column of their own name, value unchanged
AS_PRINTED: tuple[str, ...] = _as_printed()
# column → field of the contact block
CONTACT_COLUMNS: dict[str, str] = {f"contact_{name}": name for name in Contact.model_fields}
