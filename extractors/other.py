"""Documents that are neither letters nor forms (brochures, attachments): kept with their dates."""

from __future__ import annotations

from extractors.dates import find_dates, to_iso
from extractors.noise import split_noise
from schemas.letter import DateMention, Document
from schemas.page import Line


def extract_other(lines: list[Line], pages: tuple[int, int]) -> Document:
    doc = Document(kind="other", pages=list(pages))
    for line in split_noise(lines).text_lines:
        for found in find_dates(line.text):
            if found.year_given:
                doc.dates.append(DateMention(text=found.text, date=to_iso(found.date)))
    return doc
