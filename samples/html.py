"""Letters laid out as HTML/CSS and printed to PDF by headless Chromium: a second, independent source.

    python -m samples.html [NAMES...] [--out samples/html] [--check]

The project's own samples are drawn by one engine (reportlab, `samples.render`), so a reading rule
can quietly fit that engine: its line heights, its text order, its thresholds. Here the same kind of
letter is laid out by a browser (tables, CSS grids, hanging indents by `text-indent`, justified text,
letter spacing, `@page` footers) and printed by Skia, the way many offices' web-based 公文 systems
print. Each letter is written once as field values (`LETTERS`); the HTML and the golden JSON
(samples/GOLDEN.md) are both built from them, so the golden is right by construction.

Only regenerating the PDFs needs Chromium (`/usr/bin/chromium`, Debian's `chromium` package) and the
Debian CJK fonts; reading and testing the committed PDFs does not. Output is deterministic for the
same Chromium build: the PDF's creation and modification dates are fixed after printing.
`--check` prints into a temporary folder and fails when a committed PDF's text or golden is stale
(byte equality would tie the check to one Chromium build).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.page_images import page_count

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "html"

MING = "'AR PL UMing TW', 'AR PL UMing TW MBE', serif"
KAI = "'AR PL UKai TW', 'AR PL UKai TW MBE', serif"
HEI = "'WenQuanYi Zen Hei', sans-serif"
FIXED_DATE = b"D:20240101000000+00'00'"


@dataclass(frozen=True)
class Item:
    """One numbered item as printed: `label` with its brackets or 、 (`（一）`, `1.`, `(1)`)."""

    label: str
    text: str
    children: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Contact:
    address: str
    title: str
    name: str
    phone: str
    fax: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Letter:
    """The field values of one letter; the template decides how they are printed."""

    name: str
    template: str
    sender: str
    doc_type: str
    contact: Contact
    recipient: str
    date: tuple[int, int, int]  # ROC year, month, day
    number: str
    subject: str
    explanation: tuple[Item, ...]
    cc_main: tuple[str, ...]
    signatory: str | None
    cc_copy: tuple[str, ...] = ()
    with_attachments: tuple[str, ...] = ()  # names printed with (含附件)
    measures: tuple[Item, ...] = ()
    speed: str = "普通件"
    security: str | None = None
    attachments: str | None = None
    file_code: str | None = None
    retention: str | None = None
    window: tuple[str, ...] = ()  # the recipient's postcode and address for a window envelope
    references: tuple[str, ...] = ()  # 字號 cited in the text, in order
    deadline: str | None = None
    style: dict[str, str] = field(default_factory=dict)

    @property
    def printed_date(self) -> str:
        """`中華民國113年1月5日`, or with the spaces some templates' date fields print (`中華民國 113 年 1 月 5 日`)."""
        y, m, d = self.date
        sep = " " if self.style.get("date") == "spaced" else ""
        return f"中華民國{sep}{y}{sep}年{sep}{m}{sep}月{sep}{d}{sep}日".strip()

    def label(self, word: str) -> str:
        """A label as this template prints it: `主旨：`, or letter-spaced to four characters' width (`主　　旨：`)."""
        if self.style.get("labels") == "spaced" and len(word) == 2:
            return f"{word[0]}　　{word[1]}："
        return f"{word}："


# ---------------------------------------------------------------------------------------------
# golden JSON, by construction

_DATE = re.compile(r"(?:中華民國\s*)?(\d{2,3})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")


def golden_label(printed: str) -> str:
    """`（一）` → `一`, `1.` → `1`, `(1)` → `1`: GOLDEN.md's label form."""
    return unicodedata.normalize("NFKC", printed).strip("()、.． ")


def golden_items(items: Sequence[Item]) -> list[dict[str, Any]] | None:
    if not items:
        return None
    return [{"label": golden_label(i.label), "text": i.text, "children": golden_items(i.children) or []} for i in items]


def item_texts(items: Sequence[Item]) -> list[str]:
    return [t for i in items for t in (i.text, *item_texts(i.children))]


def body_texts(letter: Letter) -> list[str]:
    """Every text of the letter that may hold a date, in reading order."""
    return [letter.printed_date, letter.subject, *item_texts(letter.explanation), *item_texts(letter.measures)]


def golden_dates(letter: Letter) -> list[dict[str, str]]:
    found = []
    for text in body_texts(letter):
        for m in _DATE.finditer(text):
            y, mo, d = (int(g) for g in m.groups())
            found.append({"text": m.group(0), "date": f"{y + 1911:04d}-{mo:02d}-{d:02d}"})
    return found


def golden(letter: Letter, pages: int) -> dict[str, Any]:
    joined = "".join(body_texts(letter))
    for ref in letter.references:
        assert ref in joined, (letter.name, ref)
    c = letter.contact
    y, m, d = letter.date
    doc: dict[str, Any] = {
        "kind": "letter", "pages": [1, pages],
        "file_code": letter.file_code, "retention": letter.retention,
        "sender": letter.sender, "doc_type": letter.doc_type,
        "contact": {"address": c.address, "name": c.name, "title": c.title, "phone": c.phone, "fax": c.fax,
                    "email": c.email},
        "recipient": letter.recipient, "issue_date": f"{y + 1911:04d}-{m:02d}-{d:02d}", "doc_number": letter.number,
        "speed": letter.speed, "security": letter.security, "attachments": letter.attachments,
        "subject": letter.subject, "explanation": golden_items(letter.explanation),
        "measures": golden_items(letter.measures),
        "cc_main": list(letter.cc_main) or None, "cc_copy": list(letter.cc_copy) or None,
        "cc_with_attachments": list(letter.with_attachments) or None,
        "signatory": letter.signatory, "received": None,
        "references": list(letter.references), "dates": golden_dates(letter), "deadline": letter.deadline,
    }
    return {"file": f"{letter.name}.pdf", "pages": pages, "documents": [doc]}


# ---------------------------------------------------------------------------------------------
# HTML

BASE_CSS = """
@page { size: A4; margin: %(margin)s; }
* { box-sizing: border-box; }
body { margin: 0; font-family: %(font)s; font-size: %(size)s; line-height: %(lead)s; color: #000;
       letter-spacing: %(spacing)s; text-align: %(align)s; }
p { margin: 0; }
.hang { padding-left: var(--hang); text-indent: calc(-1 * var(--hang)); }
.item { padding-left: calc(var(--indent) + var(--hang)); text-indent: calc(-1 * var(--hang)); }
.label-only { margin-top: 0.1em; }
.sign { margin-top: 2.2em; margin-left: 52%%; font-size: 1.6em; letter-spacing: 0.2em; }
"""


def e(text: str) -> str:
    return html.escape(text, quote=False)


def hang(label: str, value: str, cls: str = "hang") -> str:
    """A paragraph that hangs after its label, as a 公文 template's paragraph style does."""
    return f'<p class="{cls}" style="--hang:{len(label)}em">{e(label)}{e(value)}</p>'


def items_html(items: Sequence[Item], depth: int = 0, step: float = 2.0) -> str:
    out = []
    for i in items:
        width = sum(1.0 if ord(ch) > 0x2E7F else 0.5 for ch in i.label)
        out.append(f'<p class="item" style="--indent:{depth * step}em;--hang:{width}em">{e(i.label)}{e(i.text)}</p>')
        out.append(items_html(i.children, depth + 1, step))
    return "".join(out)


def cc_line(names: Sequence[str], marked: Sequence[str]) -> str:
    """Names joined by 、; `(均含附件)` once after the last when every name has the attachments."""
    if len(names) > 1 and set(names) <= set(marked):
        return "、".join(names) + "(均含附件)"
    return "、".join(n + ("(含附件)" if n in marked else "") for n in names)


CONTACT_WORDS = {
    "plain": ("地址：", "承辦人：", "電話：", "傳真：", "電子信箱："),
    "spaced": ("地　　址：", "承 辦 人：", "電　　話：", "傳　　真：", "電子信箱："),
    "contact": ("聯絡地址：", "聯絡人：", "聯絡電話：", "傳真電話：", "電子郵件："),
}


def contact_lines(c: Contact, words: str = "plain") -> list[str]:
    label = CONTACT_WORDS[words]
    values = (c.address, f"{c.title} {c.name}", c.phone, c.fax, c.email)
    return [f"{lab}{v}" for lab, v in zip(label, values, strict=True) if v]


def contact_html(letter: Letter, default: str) -> str:
    return "<br>".join(e(x) for x in contact_lines(letter.contact, letter.style.get("contact", default)))


def body_html(letter: Letter, step: float = 2.0) -> str:
    parts = [hang(letter.label("主旨"), letter.subject)]
    for label, items in ((letter.label("說明"), letter.explanation), (letter.label("辦法"), letter.measures)):
        if not items:
            continue
        if len(items) == 1 and not items[0].label:
            parts.append(hang(label, items[0].text))
        else:
            parts.append(f'<p class="label-only">{label}</p>' + items_html(items, 1 if step else 0, step))
    return "".join(parts)


def closing_html(letter: Letter) -> str:
    parts = [hang(letter.label("正本"), cc_line(letter.cc_main, letter.with_attachments))]
    parts.append(hang(letter.label("副本"), cc_line(letter.cc_copy, letter.with_attachments)))
    if letter.signatory:
        parts.append(f'<div class="sign">{e(letter.signatory)}</div>')
    return "".join(parts)


def header_lines(letter: Letter) -> list[tuple[str, str]]:
    return [
        ("受文者：", letter.recipient),
        ("發文日期：", letter.printed_date),
        ("發文字號：", letter.number),
        (letter.label("速別"), letter.speed),
        ("密等及解密條件或保密期限：", letter.security or ""),
        (letter.label("附件"), letter.attachments or ""),
    ]


def heads_html(letter: Letter) -> str:
    """The header fields one a line; `aligned`: values in a column of their own after the longest label."""
    if letter.style.get("header") == "aligned":
        cells = "".join(f"<div>{e(lab)}</div><div>{e(v)}</div>" for lab, v in header_lines(letter))
        return f'<div class="heads" style="display:grid;grid-template-columns:max-content 1fr">{cells}</div>'
    return '<div class="heads">' + "".join(hang(lab, v) for lab, v in header_lines(letter)) + "</div>"


def table_template(letter: Letter) -> str:
    """(a) the header as a table: window address in the left cell, contact block in the right cell."""
    css = """
    .filing { margin-left: 72%; font-size: 0.8em; line-height: 1.4; }
    .title { text-align: center; font-size: 1.9em; letter-spacing: 0.12em; margin: 1.8em 0 0.6em; }
    table.head { width: 100%; border-collapse: collapse; margin-bottom: 0.8em; }
    table.head td { vertical-align: top; padding: 0; font-size: 0.85em; line-height: 1.45; }
    td.win { width: 48%; padding-top: 2.2em !important; }
    .heads p { margin: 0.15em 0; }
    table.ruled { border-collapse: collapse; margin: 0 0 0.8em; width: 100%; }
    table.ruled th, table.ruled td { border: 1px solid #000; padding: 0.15em 0.4em; text-align: left;
                                     font-weight: normal; }
    table.ruled th { width: 1%; white-space: nowrap; }
    """
    filing = f'<div class="filing">檔　　號：{e(letter.file_code or "")}<br>保存年限：{e(letter.retention or "")}</div>'
    head = (f'<table class="head"><tr><td class="win">{"<br>".join(e(w) for w in letter.window)}</td>'
            f'<td class="contact">{contact_html(letter, "plain")}</td></tr></table>')
    if letter.style.get("header") == "ruled":
        # label cells without their colon, value cells beside them, as a form-like template rules them
        rows = "".join(f"<tr><th>{e(lab.rstrip('：').replace('　', ''))}</th><td>{e(v)}</td></tr>"
                       for lab, v in header_lines(letter))
        heads = f'<table class="ruled">{rows}</table>'
    else:
        heads = heads_html(letter)
    body = f'{filing}<div class="title">{e(letter.sender)} {e(letter.doc_type)}</div>'
    return page(letter, css, body + head + heads + body_html(letter) + closing_html(letter))


def grid_template(letter: Letter) -> str:
    """(b) a 書函 whose date, number, speed, security and attachment lines sit in a two-column grid."""
    css = """
    .title { font-family: HEADFONT; font-size: 1.7em; margin: 0.4em 0 0.2em; letter-spacing: 0.05em; }
    .contact { margin-left: 55%; font-size: 0.82em; line-height: 1.5; margin-bottom: 1.2em; }
    .grid { display: grid; grid-template-columns: 1fr 1fr; column-gap: 1.5em; row-gap: 0.1em;
            font-size: 0.92em; margin: 0.3em 0 0.8em; }
    .grid .wide { grid-column: 1 / span 2; }
    """.replace("HEADFONT", HEI)
    lines = header_lines(letter)
    grid = "".join(
        f'<div class="{"wide" if lab in ("附件：",) else ""}">{e(lab)}{e(v)}</div>' for lab, v in lines[1:]
    )
    body = (f'<div class="title">{e(letter.sender)}　{e(letter.doc_type)}</div>'
            f'<div class="contact">{contact_html(letter, "plain")}</div>'
            f'{hang(*lines[0])}<div class="grid">{grid}</div>')
    return page(letter, css, body + body_html(letter) + closing_html(letter))


def tree_template(letter: Letter) -> str:
    """(c) a plain template whose worth is in the body: deep 說明 trees and long wrapped 正本/副本 lists."""
    css = """
    .title { text-align: center; font-size: 1.6em; margin: 0.2em 0 0.8em; }
    .contact { float: right; width: 46%; font-size: 0.8em; line-height: 1.35; margin: 0 0 0.8em; }
    .win { float: left; width: 46%; font-size: 0.85em; padding-top: 1em; }
    .heads { clear: both; }
    """
    body = (f'<div class="title">{e(letter.sender)}{e(letter.doc_type)}</div>'
            f'<div class="contact">{contact_html(letter, "spaced")}</div>'
            f'<div class="win">{"<br>".join(e(w) for w in letter.window)}</div>'
            + heads_html(letter))
    return page(letter, css, body + body_html(letter, step=float(letter.style.get("step", "1.5"))) + closing_html(letter))


def ministry_template(letter: Letter) -> str:
    """(d) a ministry's letterhead: a large title over a rule, the 署名 as a stamp-like block, page footers."""
    css = """
    @page { @bottom-center { content: "第" counter(page) "頁　共" counter(pages) "頁"; font-family: HEADFONT;
            font-size: 9pt; } }
    .letterhead { display: flex; align-items: flex-end; justify-content: center; border-bottom: 2px solid #000;
                  padding-bottom: 0.3em; margin-bottom: 0.6em; }
    .letterhead .org { font-size: 2.4em; letter-spacing: 0.3em; }
    .letterhead .kind { font-size: 2.4em; margin-left: 0.5em; }
    .contact { margin-left: 58%; font-size: 0.78em; line-height: 1.3; margin-bottom: 1em; }
    .heads { font-size: 0.95em; }
    .sign { margin-left: 45%; margin-top: 1.5em; border: 3px double #b00; color: #b00; padding: 0.3em 0.6em;
            display: inline-block; font-size: 1.9em; letter-spacing: 0.35em; }
    """.replace("HEADFONT", MING)
    body = (f'<div class="letterhead"><span class="org">{e(letter.sender)}</span>'
            f'<span class="kind">{e(letter.doc_type)}</span></div>'
            f'<div class="contact">{contact_html(letter, "plain")}</div>'
            + heads_html(letter))
    return page(letter, css, body + body_html(letter) + closing_html(letter))


TEMPLATES = {"table": table_template, "grid": grid_template, "tree": tree_template, "ministry": ministry_template}


def page(letter: Letter, css: str, body: str) -> str:
    s = {"margin": "22mm 20mm 20mm 22mm", "font": MING, "size": "12pt", "lead": "1.5", "spacing": "0",
         "align": "left", **letter.style}
    return (f'<!DOCTYPE html><html lang="zh-Hant-TW"><head><meta charset="utf-8"><title>{e(letter.name)}</title>'
            f"<style>{BASE_CSS % s}{css}</style></head><body>{body}</body></html>")


def letter_html(letter: Letter) -> str:
    return TEMPLATES[letter.template](letter)


# ---------------------------------------------------------------------------------------------
# printing

def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise SystemExit("samples.html needs Chromium to print (apt-get install chromium); reading the PDFs does not")
    return found


def print_pdf(source: Path, out: Path, profile: Path) -> None:
    """One headless print, without Chromium's own date/URL header and footer."""
    subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
         "--no-pdf-header-footer", f"--print-to-pdf={out}", source.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    data = out.read_bytes()
    # the same length keeps the cross-reference offsets right
    data = re.sub(rb"D:\d{14}[+\-Z][0-9']*", lambda m: FIXED_DATE[: len(m.group(0))].ljust(len(m.group(0)), b"'"), data)
    out.write_bytes(data)


def build(letter: Letter, out_dir: Path, work: Path) -> Path:
    source = work / f"{letter.name}.html"
    source.write_text(letter_html(letter), encoding="utf-8")
    pdf = out_dir / f"{letter.name}.pdf"
    print_pdf(source, pdf, work / "profile")
    answer = golden(letter, page_count(pdf))
    (out_dir / f"{letter.name}.json").write_text(json.dumps(answer, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return pdf


def pdf_text(pdf: Path) -> str:
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return "\f".join(p.get_textpage().get_text_range() for p in doc)
    finally:
        doc.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("names", nargs="*")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="fail if a committed PDF or golden is stale")
    args = parser.parse_args(argv)
    from samples.html_letters import LETTERS

    chosen = [x for x in LETTERS if not args.names or x.name in args.names]
    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        out = work / "out" if args.check else args.out
        out.mkdir(parents=True, exist_ok=True)
        for letter in chosen:
            pdf = build(letter, out, work)
            if args.check:
                kept = args.out / pdf.name
                same_json = (out / f"{letter.name}.json").read_text() == (args.out / f"{letter.name}.json").read_text()
                if not kept.exists() or pdf_text(pdf) != pdf_text(kept) or not same_json:
                    stale.append(letter.name)
            else:
                print(f"{pdf.relative_to(Path.cwd()) if pdf.is_relative_to(Path.cwd()) else pdf}: {page_count(pdf)} pages")
    if stale:
        print("stale: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
