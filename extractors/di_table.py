"""Print-outs of electronic letters: the DI elements (docs/letter.md#electronic-letters) listed as a table.

A document system's field view prints each element as a row of cells, a label and its value,
or a label, sub-labels and values (`發文日期 | 年 | 2012 | 月 | 12 | 日 | 28`,
`發文字號 | 字 | 衛署醫 | 年度 | 101 | 流水號 | 1010268451`). The rows are read back into the
lines a printed 函 would have (`發文字號：衛署醫字第1010268451號`), so the letter extractor
reads them like any other letter and the document has the same fields.
"""

from __future__ import annotations

import re
from collections import defaultdict
from statistics import median

from extractors.numbering import join_text
from schemas.page import Line, Word

ELEMENTS = (
    "發文機關", "函類別", "地址", "聯絡方式", "受文者", "發文日期", "發文字號", "速別",
    "密等及解密條件或保密期限", "附件", "主旨", "段落", "條列", "正本", "副本", "署名",
)
SUB_LABELS = ("文號", "全銜", "機關代碼", "代碼", "交換表", "年", "月", "日", "字", "年度", "流水號", "支號", "文字", "段名", "序號", "密等", "解密條件或保密期限")
_MARKERS = frozenset((*ELEMENTS[:8], "流水號", "機關代碼", "全銜", "段落", "條列"))
_MIN_MARKERS = 5
_WRAP_LEAD = 1.75  # of the text size: a line wrapped in its cell is closer than the next ruled row
_ROW_TOLERANCE = 0.45  # of the text size: OCR puts a row's cells a few points apart

Values = dict[tuple[str, str], str]


def _same_row(row: list[Line], line: Line) -> bool:
    middle = sum((ln.top + ln.bottom) / 2 for ln in row) / len(row)
    size = min(min(ln.size for ln in row), line.size)
    return abs((line.top + line.bottom) / 2 - middle) <= _ROW_TOLERANCE * size


def _cells(lines: list[Line]) -> list[list[tuple[float, str]]]:
    """Rows of (x, cell text), top to bottom; a line read as one run of cells is split at its spaces."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda ln: (ln.page, ln.top, ln.x0)):
        if rows and rows[-1][0].page == line.page and _same_row(rows[-1], line):
            rows[-1].append(line)
        else:
            rows.append([line])
    out: list[list[tuple[float, str]]] = []
    lead = _WRAP_LEAD * median(ln.size for ln in lines) if lines else 0.0
    previous: list[Line] = []
    for row in rows:
        cells: list[tuple[float, str]] = []
        for line in sorted(row, key=lambda ln: ln.x0):
            parts = line.text.split()
            if parts and parts[0] in ELEMENTS + SUB_LABELS and len(parts) > 1:
                cells.extend((line.x0 + i * 0.01, p) for i, p in enumerate(parts))
            else:
                cells.append((line.x0, line.text.strip()))
        if out and previous and _wraps(previous, row, lead):
            # text wrapped inside the cells of the row above (`發文字` / `號`): each piece joins its cell
            for x, text in cells:
                i = min(range(len(out[-1])), key=lambda k: abs(out[-1][k][0] - x))
                out[-1][i] = (out[-1][i][0], join_text(out[-1][i][1], text))
            previous = row
            continue
        out.append(cells)
        previous = row
    return out


def _wraps(above: list[Line], row: list[Line], lead: float) -> bool:
    """A row that continues the cells above it: closer than a ruled row, every piece under a cell."""
    close = min(ln.top for ln in row) - min(ln.top for ln in above) < lead
    starts = [ln.x0 for ln in above]
    return close and all(any(abs(ln.x0 - x) <= 0.5 * ln.size for x in starts) for ln in row)


def is_di_table(lines: list[Line]) -> bool:
    """Element names standing as cells of their own (a printed 函 has them only before a colon)."""
    words = {word for ln in lines for word in ln.text.split()}
    return len(words & _MARKERS) >= _MIN_MARKERS


def read_values(lines: list[Line]) -> tuple[Values, list[tuple[str, str]]]:
    """(values by (element, sub-label), the body in order: ("", 段名) for each 段落, (序號, 文字) for each 條列)."""
    values: Values = defaultdict(str)
    items: list[tuple[str, str]] = []
    in_paragraph = 0  # 條列 rows since the last 段落
    last: tuple[str, str] | None = None
    for row in _cells(lines):
        first = row[0][1]
        if first not in ELEMENTS:
            if last is not None:  # a value wrapped inside its cell
                for _, text in row:
                    values[last] = join_text(values[last], text)
                if last in (("條列", "文字"), ("段落", "文字")) and items:
                    items[-1] = (items[-1][0], values[last])
            continue
        element, sub = first, ""
        if element in ("條列", "段落"):
            for key in (("條列", "文字"), ("條列", "序號"), ("段落", "段名"), ("段落", "文字")):
                values[key] = ""
        for _, text in row[1:]:
            if text in SUB_LABELS:
                sub = text
                continue
            key = (element, sub)
            if element == "聯絡方式":  # one contact field a row: kept apart, each becomes a line
                values[key] = f"{values[key]}\n{text}".strip()
            elif element == "署名":
                values[key] = f"{values[key]} {text}".strip()
            else:
                values[key] = join_text(values[key], text)
            last = key
        if element == "段落":
            name = values[("段落", "段名")] or "說明："
            items.append(("", name if name.endswith(("：", ":")) else name + "："))
            in_paragraph = 0
            if values[("段落", "文字")]:  # a paragraph without numbered items
                items.append(("", values[("段落", "文字")]))
        if element == "條列":
            # a 序號 cell lost (OCR drops a lone `一、`): the items are in order, so their place numbers them
            in_paragraph += 1
            number = values[("條列", "序號")] or _numeral(in_paragraph) + "、"
            items.append((number, values[("條列", "文字")]))
    return values, items


def _numeral(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def _issue_date(values: Values) -> str | None:
    return issue_date_text(*(values.get(("發文日期", k), "") for k in ("年", "月", "日")))


def issue_date_text(year: str, month: str, day: str) -> str | None:
    """The 發文日期 as a letter prints it, from the 年/月/日 elements (ROC or Gregorian year)."""
    y, m, d = (re.sub(r"\D", "", v) for v in (year, month, day))  # `2012.` as OCR reads it
    if not (y.isdigit() and m.isdigit() and d.isdigit()):
        return None
    return f"{y}年{int(m)}月{int(d)}日" if int(y) > 1911 else f"中華民國{int(y)}年{int(m)}月{int(d)}日"


def _doc_number(values: Values) -> str | None:
    return assemble_doc_number(*(values.get(("發文字號", k), "") for k in ("字", "年度", "流水號", "支號")))


def assemble_doc_number(zi: str, year: str, serial: str, branch: str) -> str | None:
    """The 發文字號 as a letter prints it, from the 字/年度/流水號/支號 elements of a DI file or its print-out.

    The printed number is 年度 + 流水號 + 支號 (衛部醫字第1131660001號), unless the 流水號
    already starts with the year (some systems write the whole number there).
    """
    zi, year, serial, branch = (re.sub(r"\s+", "", v) for v in (zi, year, serial, branch))
    zi = zi.removesuffix("字")
    if not zi or not serial:
        return None
    if year and not (len(serial) >= 9 and serial.startswith(year)):
        serial = year + serial
    return f"{zi}字第{serial}{branch}號"


def as_letter_lines(lines: list[Line], page_width: float) -> list[Line]:
    """The table's rows as the lines of a printed 函: title, contact block, labelled fields, signature."""
    values, items = read_values(lines)
    first = min(lines, key=lambda ln: (ln.page, ln.top))
    page, size = first.page, 12.0
    out: list[tuple[float, float, str]] = []  # (x, size, text)

    def get(element: str, *subs: str) -> str:
        for sub in (*subs, ""):
            value = values.get((element, sub), "").strip()
            if value:
                return value
        return ""

    sender, doc_type = get("發文機關", "全銜"), get("函類別", "代碼", "文字") or "函"
    if sender:
        out.append((page_width * 0.3, 20.0, f"{sender} {doc_type}"))
    right = page_width * 0.55
    if address := get("地址"):
        out.append((right, 10.0, f"地址：{address}"))
    out.extend((right, 10.0, part.strip()) for part in get("聯絡方式").split("\n") if part.strip())
    fields = [
        ("受文者", get("受文者", "交換表", "全銜")),
        ("發文日期", _issue_date(values) or ""),
        ("發文字號", _doc_number(values) or ""),
        ("速別", get("速別", "代碼")),
        ("密等及解密條件或保密期限", get("密等及解密條件或保密期限", "密等", "解密條件或保密期限")),
        ("附件", get("附件", "文字")),
        ("主旨", get("主旨", "文字")),
    ]
    out.extend((72.0, size, f"{label}：{value}") for label, value in fields)
    if items and items[0][0]:
        out.append((72.0, size, "說明："))  # items without a 段落 row
    out.extend((86.0 if number else 72.0, size, f"{number}{text}") for number, text in items)
    for label in ("正本", "副本"):
        if value := get(label, "全銜"):
            out.append((72.0, size, f"{label}：{value}"))
    if signature := get("署名"):
        out.append((right, 18.0, signature))
    made: list[Line] = []
    top = first.top
    read = min(ln.confidence for ln in lines)
    for x, text_size, text in out:
        word = Word(text=text, x0=x, x1=x + text_size * len(text), top=top, bottom=top + text_size, size=text_size)
        made.append(Line(words=[word], text=text, x0=x, x1=word.x1, top=top, bottom=word.bottom, size=text_size, page=page, confidence=read))
        top += text_size * 1.6
    return made
