"""The numbering tree of 說明/辦法/備註 (docs/letter.md#the-numbering-tree).

Levels are not fixed positions: a letter may go 一、 → 1、 without (一). So the depth of a
numbering style is the order in which styles first appear in the list, and a style seen
again closes every deeper level: the way a reader follows the outline, not a table of
levels.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from schemas.letter import Item

HAN_DIGITS = "一二三四五六七八九十百"
STEMS = "甲乙丙丁戊己庚辛壬癸"

# (style, regex). Order matters: bracketed forms before bare ones.
_STYLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("paren_han", re.compile(rf"^[(（]\s*([{HAN_DIGITS}]+)\s*[)）]\s*")),
    ("paren_arabic", re.compile(r"^[(（]\s*([0-9０-９]{1,3})\s*[)）]\s*")),
    ("paren_stem", re.compile(rf"^[(（]\s*([{STEMS}])\s*[)）]\s*")),
    ("han", re.compile(rf"^([{HAN_DIGITS}]+)\s*[、，,.．]+\s*")),
    # "1." must not be a decimal (7.5公分) nor a date (111. 1. 25).
    ("arabic", re.compile(r"^([0-9０-９]{1,3})\s*(?:[、，]|[.．](?!\s*[0-9０-９]))\s*")),
    ("stem", re.compile(rf"^([{STEMS}])\s*[、.．]\s*")),
)

# Bullets that OCR and markdown conversion put before a number (`- (一)`).
_BULLET = re.compile(r"^\s*(?:[-–•●·*]\s+)")

_ASCII_END = re.compile(r"[A-Za-z0-9]$")
_ASCII_START = re.compile(r"^[A-Za-z0-9]")


def join_text(a: str, b: str) -> str:
    """Join a wrapped line to the text before it: no space between Han characters, one between Latin words."""
    a, b = a.rstrip(), b.strip()
    if not a:
        return b
    if not b:
        return a
    if _ASCII_END.search(a) and _ASCII_START.match(b):
        return a + " " + b
    return a + b


def strip_bullet(text: str) -> str:
    return _BULLET.sub("", text, count=1)


def match_number(text: str) -> tuple[str, str, str] | None:
    """(style, label, rest) when `text` starts with an item number, else None."""
    body = strip_bullet(text).lstrip()
    for style, pattern in _STYLES:
        m = pattern.match(body)
        if m:
            label = unicodedata.normalize("NFKC", m.group(1))
            return style, label, body[m.end() :]
    return None


@dataclass
class _Node:
    style: str
    label: str
    text: str
    children: list[_Node] = field(default_factory=list)

    def to_item(self) -> Item:
        return Item(label=self.label, text=self.text.strip(), children=[c.to_item() for c in self.children])


# An item that OCR read into the end of the previous line: `…辦理。 二、本年度…`. Only after
# a sentence or a colon, and only before a number with its 、 or brackets.
_RUN_IN_ITEM = re.compile(
    rf"(?<=[。：:；])[\s.·．]*(?=(?:[{HAN_DIGITS}]+、|[(（](?:[{HAN_DIGITS}]+|[1-9][0-9]?)[)）](?![0-9０-９\-－])|[1-9][0-9]?、))"
)


def split_run_in_items(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        out.extend(p for p in _RUN_IN_ITEM.split(line) if p.strip())
    return out


def parse_items(lines: list[str]) -> list[Item]:
    """Physical lines of a numbered section (label already removed) → item tree.

    A line that does not start with a number continues the item before it; text before
    the first number becomes an unlabelled item.
    """
    roots: list[_Node] = []
    stack: list[_Node] = []
    for raw in split_run_in_items(lines):
        line = raw.strip()
        if not line:
            continue
        hit = match_number(line)
        if hit is None:
            if stack:
                stack[-1].text = join_text(stack[-1].text, line)
            elif roots:
                roots[-1].text = join_text(roots[-1].text, line)
            else:
                roots.append(_Node("none", "", line))
            continue
        style, label, rest = hit
        node = _Node(style, label, rest)
        styles = [n.style for n in stack]
        if style in styles:
            del stack[styles.index(style) :]
        if stack:
            stack[-1].children.append(node)
        else:
            roots.append(node)
        stack.append(node)
    return [n.to_item() for n in roots]


def _label_kind(label: str) -> str | None:
    """The numbering a label is written in (`han`, `arabic`, `stem`), as `match_number` names its bare styles."""
    if label and all(ch in HAN_DIGITS for ch in label):
        return "han"
    if label.isascii() and label.isdigit() and len(label) <= 3:
        return "arabic"
    if len(label) == 1 and label in STEMS:
        return "stem"
    return None


def format_items(items: list[Item]) -> str:
    """An item tree as the letter prints it, one item a line, indented by level (`一、…`, `（一）…`, `1、…`, `（1）…`): what a
    reviewer edits, and what `parse_items` reads back into the same tree. Labels keep no punctuation,
    so each level is written bare unless a level above it is, then in brackets: `parse_items` tells
    levels apart by their form, so no item may share its form with an item it is nested in."""
    lines: list[str] = []

    def walk(level: list[Item], outer: frozenset[str], indent: str) -> None:
        for item in level:
            kind = _label_kind(item.label)
            if kind is not None and kind in outer:
                lines.append(f"{indent}（{item.label}）{item.text}")
                walk(item.children, outer | {f"paren_{kind}"}, indent + "  ")
            else:
                lines.append(indent + (f"{item.label}、{item.text}" if item.label else item.text))
                walk(item.children, outer | {kind} if kind else outer, indent + "  ")

    walk(items, frozenset(), "")
    return "\n".join(lines)


def item_texts(items: list[Item]) -> list[str]:
    """Every item's text, depth first: what dates and references are searched in."""
    out: list[str] = []
    for it in items:
        out.append(it.text)
        out.extend(item_texts(it.children))
    return out
