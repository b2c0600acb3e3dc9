"""Documents that are neither letters nor forms (brochures, attachments): kept with their dates."""

from __future__ import annotations

from extractors.dates import find_dates
from extractors.noise import split_noise
from extractors.numbering import join_text
from schemas.letter import DateMention, Document
from schemas.page import Line


def extract_other(lines: list[Line], pages: tuple[int, int]) -> Document:
    doc = Document(kind="other", pages=list(pages))
    text = ""
    for line in split_noise(lines).text_lines:
        text = join_text(text, line.text)  # a date may wrap across lines
    doc.text = text or None
    for found in find_dates(text):
        # without a letter there is no year to lend: only dates whose year is printed or
        # comes from the start of their range (find_dates without default_year)
        doc.dates.append(DateMention(text=found.text, date=found.date))
    return doc
