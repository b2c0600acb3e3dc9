"""Statistical report forms (公務統計報表): not letters, but documents the archive must hold.

Their header is a small ruled table (公開類 | 年報 | 編製機關 | 表號), so a label is often a
cell of its own with the value in the next cell to its right rather than after a colon.
"""

from __future__ import annotations

import re

from extractors import glossary as g
from extractors.dates import find_dates
from extractors.noise import split_noise
from schemas.letter import DateMention, Document
from schemas.page import Line

_FORM_NUMBER = re.compile(r"[0-9]{4,5}(?:\s*-\s*[0-9]{1,3}){2,3}")
_DUE = re.compile(r"(?:每|於)[^，。；\s]{0,20}?編\s*報")
_SENT_TO = re.compile(r"[一1１]\s*份\s*(?:送|函送|報送|陳送)\s*([^，,。；;、]+)")
_CONTINUED = re.compile(r"[(（]\s*續[^)）]*[)）]\s*$")
_EXPLANATION_SUFFIX = "編製說明"


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _same_row(a: Line, b: Line) -> bool:
    return min(a.bottom, b.bottom) - max(a.top, b.top) > 0.4 * min(a.bottom - a.top, b.bottom - b.top)


def _cell_value(lines: list[Line], i: int, label: str) -> str | None:
    """`表號：X` inline, or the next cell to the right on the same row."""
    text = lines[i].text.strip()
    rest = re.sub(r"^" + g.label_pattern((label,)) + r"\s*[:：]?\s*", "", text)
    if rest and rest != text:
        return rest.strip()
    right = [
        ln for ln in lines
        if ln is not lines[i] and ln.page == lines[i].page and _same_row(ln, lines[i]) and ln.x0 > lines[i].x1
    ]
    if right:
        return min(right, key=lambda ln: ln.x0).text.strip()
    return None


def form_title_key(title: str) -> str:
    """What two pages of one form share: the title without (續2完) and without 編製說明."""
    t = _CONTINUED.sub("", _compact(title))
    t = re.sub(r"^_+", "", t)
    return t.removesuffix(_EXPLANATION_SUFFIX)


def find_form_title(lines: list[Line]) -> str | None:
    """The form's heading: the largest line that is not a header cell or a unit line."""
    candidates = [
        ln
        for ln in lines
        if len(_compact(ln.text)) >= 4
        and not re.match(r"^(中華民國|單位|表號|編製機關|公開類|資料來源|填表)", _compact(ln.text))
        and not _FORM_NUMBER.search(ln.text)
        and not _DUE.search(ln.text)
    ]
    if not candidates:
        return None
    top_size = max(ln.size for ln in candidates)
    # the first of the largest lines: OCR only estimates sizes, a body line may come out as big
    best = next(ln for ln in candidates if ln.size >= 0.9 * top_size)
    return re.sub(r"^[_＿\s]+", "", best.text.strip())


def _merge_header_cells(lines: list[Line]) -> list[Line]:
    """Join the wrapped text of a header cell (`每半年終了1個月內編` / `報`) into one line.

    Only above the form's title: below it, lines at one x are separate paragraphs.
    """
    first_page = lines[0].page if lines else 0
    title_size = max((ln.size for ln in lines if ln.page == first_page), default=0.0)
    title_top = next((ln.top for ln in lines if ln.page == first_page and ln.size >= title_size - 0.1), 0.0)
    merged: list[Line] = []
    absorbed: set[int] = set()
    for i, line in enumerate(lines):
        if i in absorbed:
            continue
        if line.page == first_page and line.top < title_top:
            for j in range(i + 1, min(i + 8, len(lines))):
                cand = lines[j]
                gap = cand.top - line.bottom
                if cand.page == line.page and abs(cand.x0 - line.x0) < 2 and -1 < gap < 0.8 * line.size:
                    line = Line(
                        words=[*line.words, *cand.words], text=line.text + cand.text, x0=line.x0,
                        x1=max(line.x1, cand.x1), top=line.top, bottom=cand.bottom, size=line.size,
                        colour=line.colour, page=line.page,
                    )
                    absorbed.add(j)
        merged.append(line)
    return merged


_CELL_LABELS = re.compile(r"\s*(?=(?:編\s*製\s*機\s*關|表\s*號))")


def split_merged_cells(lines: list[Line]) -> list[Line]:
    """`每月終了後10日內編 編製機關`: OCR read two header cells as one line; cut before the label.

    The cut position on the page is estimated from the share of characters before it.
    """
    out: list[Line] = []
    for line in lines:
        out.extend(line.cut([m.start() for m in _CELL_LABELS.finditer(line.text) if m.start() > 0]))
    return out


def extract_form(lines: list[Line], pages: tuple[int, int]) -> Document:
    split = split_noise(lines)
    text_lines = _merge_header_cells(split_merged_cells(split.text_lines))
    doc = Document(kind="form", pages=list(pages))
    conf: dict[str, float] = {}
    for i, line in enumerate(text_lines):
        compact = _compact(line.text)
        if doc.form_number is None and compact.startswith("表號"):
            value = _cell_value(text_lines, i, "表號")
            m = _FORM_NUMBER.search(value or "")
            if m:
                doc.form_number = _compact(m.group(0))
                conf["form_number"] = 0.95
        elif doc.compiler is None and compact.startswith("編製機關"):
            value = _cell_value(text_lines, i, "編製機關")
            if value:
                # OCR may read the 表號 cell below-right into the same line
                value = _FORM_NUMBER.sub("", value).strip() or None
            if value:
                doc.compiler = value
                conf["compiler"] = 0.9
        if doc.period is None and compact in g.FORM_PERIODS:
            doc.period = compact
            conf["period"] = 0.95
        if doc.due is None:
            m = _DUE.search(compact)
            if m:
                doc.due = m.group(0)
                conf["due"] = 0.9
    if doc.form_number is None:
        for line in text_lines:
            m = _FORM_NUMBER.search(line.text)
            if m and "表號" in line.text:
                doc.form_number = _compact(m.group(0))
                conf["form_number"] = 0.7
    first_page = [ln for ln in text_lines if ln.page == pages[0]]
    title = find_form_title(first_page)
    if title:
        doc.title = title.removesuffix(_EXPLANATION_SUFFIX) if title.endswith(_EXPLANATION_SUFFIX) else title
        conf["title"] = 0.8
    doc.distribution = _distribution(text_lines)
    if doc.distribution:
        conf["distribution"] = 0.85
    for line in text_lines:
        for found in find_dates(line.text):
            doc.dates.append(DateMention(text=found.text, date=found.date))
    doc.confidence = conf
    return doc


def _distribution(lines: list[Line]) -> list[str] | None:
    """Bodies a copy goes to, from 編送對象 (or 填表說明 when there is none); 自存 is not one."""
    texts = [_compact(ln.text) for ln in lines]
    joined_by_section: list[str] = []
    for i, t in enumerate(texts):
        if "編送對象" in t or "填表說明" in t:
            joined_by_section.append("".join(texts[i : i + 3]))
    for source in sorted(joined_by_section, key=lambda s: "編送對象" not in s):
        names = [m.group(1) for m in _SENT_TO.finditer(source)]
        names = [n for n in names if n and n != "自存"]
        if names:
            return list(dict.fromkeys(names))
    return None
