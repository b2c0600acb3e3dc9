"""Where a `Document`'s fields are kept in the archive's `documents` table, derived from the two models.

A field of `Document` that has a column of the same name and the same type (text, a date, the
meeting time) is stored as it is and read back as it is: a field added to both models is written and
shown without a third list to keep in step. The contact block's fields are the `contact_*` columns.
The rest is converted by hand, in `pipeline/rows.py` (a Document → its rows) and `pipeline/show.py`
(rows → the Document): the kind, the page span, the notices (JSON); trees, parties, dates mentioned,
confidence and boxes are rows of tables of their own.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from schemas.letter import Contact, Document
from schemas.orm import DocumentRow


def _value_type(annotation: Any) -> Any:
    """`str` of `str | None`, `datetime` of `Annotated[datetime, …] | None`; None for anything else (lists, literals)."""
    if get_origin(annotation) not in (types.UnionType, Union):  # `X | None`, or Optional[Annotated[X, …]]
        return None
    kept = [a for a in get_args(annotation) if a is not type(None)]
    if len(kept) != 1:
        return None
    inner = kept[0]
    return get_args(inner)[0] if get_origin(inner) is Annotated else inner


def _as_is() -> tuple[str, ...]:
    columns = DocumentRow.__table__.columns
    return tuple(
        name
        for name, field in Document.model_fields.items()
        if name in columns and _value_type(field.annotation) is columns[name].type.python_type
    )


# the Document fields stored in the column of their own name, value unchanged (text, dates, the meeting time)
AS_IS: tuple[str, ...] = _as_is()
# column → field of the contact block
CONTACT_COLUMNS: dict[str, str] = {f"contact_{name}": name for name in Contact.model_fields}
