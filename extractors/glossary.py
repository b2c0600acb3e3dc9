"""The one place where the Chinese vocabulary of a 公文 meets the English names of the code.

Every label the extractor looks for, every 文別 and every job title it strips from a
contact name is listed here, so that supporting a new agency's wording is an edit of
this table rather than a hunt through regexes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Printed label → Document field key. Several labels may map to one key; the first
# listed is the canonical wording of 文書處理手冊.
HEADER_LABELS: dict[str, tuple[str, ...]] = {
    "file_code": ("檔號",),
    "retention": ("保存年限",),
    "recipient": ("受文者", "受文單位"),
    "issue_date": ("發文日期",),
    "doc_number": ("發文字號",),
    "speed": ("速別",),
    "security": ("密等及解密條件或保密期限", "密等及解密條件", "密等"),
    "attachments": ("附件",),
}

CONTACT_LABELS: dict[str, tuple[str, ...]] = {
    "address": ("地址", "機關地址", "聯絡地址"),
    "unit": ("承辦單位", "承辦科室"),
    "name": ("承辦人員", "承辦人", "聯絡人", "承辦單位聯絡人"),
    "phone": ("聯絡電話", "電話"),
    "fax": ("傳真電話", "傳真"),
    "email": ("電子信箱", "電子郵件", "電子郵箱", "E-mail", "Email", "E-Mail", "email", "e-mail"),
}

BODY_LABELS: dict[str, tuple[str, ...]] = {
    "subject": ("主旨",),
    "explanation": ("說明",),
    "measures": ("辦法",),
    "cc_main": ("正本",),
    "cc_copy": ("副本",),
    "summary": ("要旨",),  # a compiler's summary above a quoted letter: read so it leaks nowhere, not kept
}

MEETING_LABELS: dict[str, tuple[str, ...]] = {
    "subject": ("開會事由", "會議事由"),
    "meeting_time": ("開會時間", "會議時間"),
    "meeting_place": ("開會地點", "會議地點"),
    "chair": ("主持人", "主席"),
    "meeting_contact": ("聯絡人及電話", "聯絡人及聯絡電話"),
    "attendees": ("出席者", "出席人員", "出席單位"),
    "observers": ("列席者", "列席人員", "列席單位"),
    "notes": ("備註",),
}

FORM_LABELS: dict[str, tuple[str, ...]] = {
    "form_number": ("表號",),
    "compiler": ("編製機關",),
    "distribution": ("編送對象",),
}

# 文別: the word after the agency's title. Longer first so that 書函 wins over 函.
DOC_TYPES: tuple[str, ...] = (
    "開會通知單",
    "會勘通知單",
    "開會通知",
    "書函",
    "公告",
    "函",
    "令",
    "通知",
)

SPEEDS: tuple[str, ...] = ("最速件", "特急件", "速件", "普通件")

SECURITY_LEVELS: tuple[str, ...] = ("絕對機密", "極機密", "機密", "密", "普通")

FORM_PERIODS: tuple[str, ...] = ("半年報", "年報", "季報", "月報", "週報", "日報")

# Job titles printed before a clerk's name (技士　林佳儀). Longest first.
JOB_TITLES: tuple[str, ...] = tuple(
    sorted(
        (
            "技士", "技正", "技佐", "科員", "專員", "視察", "科長", "股長", "課長", "組長", "主任",
            "約僱人員", "約聘人員", "助理員", "組員", "辦事員", "研究員", "管理師", "護理師",
            "專案管理師", "專案助理", "助理", "秘書", "專門委員", "簡任技正", "薦任科員",
            "高級分析師", "分析師", "設計師", "承辦人", "幹事", "總幹事", "副組長", "輔導員",
            "督導", "專案經理", "執行秘書", "副研究員", "助理研究員", "行政專員", "衛生稽查員",
            "稽查員", "社工師", "心理師", "藥師", "醫師", "護士", "教官", "書記",
            "稅務員", "社工督導", "社會工作員", "社會工作督導", "社工員", "課員", "技術員",
            "工程員", "工程司", "護理長", "檢驗員", "研究助理", "行政助理", "約用人員", "臨時人員",
            "專案人員", "聘用人員", "約聘研究員", "組長", "隊長", "所長", "站長", "會計員", "統計員",
            "人事管理員", "辦事員", "秘書室主任", "專任助理", "專案專員", "專員兼組長", "承辦員",
        ),
        key=len,
        reverse=True,
    )
)

# Words stamped or written on a page that are never letter content.
MARGIN_MARKS: tuple[str, ...] = (
    "正本", "副本", "有附件", "附件", "擬公布網站", "擬辦", "存查", "速辦", "急", "影本", "抄本",
)

# Trailing flags on a 正本/副本 name.
WITH_ATTACHMENTS = re.compile(r"[（(]\s*(均|並)?\s*含\s*附\s*件\s*[）)]\s*$")

COLON = "[:：]"

# OCR engines trained on both scripts print some Traditional characters of labels in their
# Simplified form (速别, 说明). For *finding labels* only, such characters are read as the
# Traditional ones; the printed text is never rewritten. One character to one character,
# so offsets stay valid.
# The same for characters OCR confuses with a label's (`辨法：` for 辦法).
_LABEL_FORM = str.maketrans(
    "别说发号办话传电邮联络开时间点备注编制机关单检录处级经员务计长绝对极辨",
    "別說發號辦話傳電郵聯絡開時間點備註編製機關單檢錄處級經員務計長絕對極辦",
)


def label_form(text: str) -> str:
    """Text as label matching sees it: Simplified label characters mapped (specks: extractors.labels)."""
    return text.translate(_LABEL_FORM)


@dataclass(frozen=True)
class Label:
    key: str
    text: str


def label_pattern(words: tuple[str, ...]) -> str:
    """A regex alternative that tolerates spaces inside a label (檔　　號, 發 文 日 期)."""
    parts = [r"\s*".join(re.escape(ch) for ch in w) for w in sorted(words, key=len, reverse=True)]
    return "(?:" + "|".join(parts) + ")"


def _compile(table: dict[str, tuple[str, ...]]) -> list[tuple[str, re.Pattern[str]]]:
    return [
        (key, re.compile(r"^\s*(?:" + label_pattern(words) + r")\s*" + COLON + r"\s*", re.IGNORECASE))
        for key, words in table.items()
    ]


HEADER_RES = _compile(HEADER_LABELS)
CONTACT_RES = _compile(CONTACT_LABELS)
BODY_RES = _compile(BODY_LABELS)
MEETING_RES = _compile(MEETING_LABELS)
FORM_RES = _compile(FORM_LABELS)


_COLON_LIKE = re.compile(r"[:：;；]")
COLON_RE = _COLON_LIKE  # a colon as OCR prints it (`;` for `：`)


def _within_one_edit(a: str, b: str) -> bool:
    """Levenshtein distance ≤ 1, without building the table: OCR misreads one character."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


within_one_edit = _within_one_edit


def fuzzy_label(text: str, tables: list[dict[str, tuple[str, ...]]]) -> tuple[str, str] | None:
    """A label misread by OCR (`發文宇號：`, `主 旨;`): one wrong, missing or extra character.

    Only labels of three characters or more: two-character labels differ from each other by
    one character (正本/副本), so a misread one cannot be told apart.
    """
    m = _COLON_LIKE.search(text, 0, 18)
    if m is None:
        return None
    head = re.sub(r"\s+", "", text[: m.start()])
    if len(head) < 2:
        return None
    for table in tables:
        for key, words in table.items():
            for word in words:
                if len(word) >= 3 and _within_one_edit(head, word):
                    return key, text[m.end() :].lstrip()
                if head == word:
                    return key, text[m.end() :].lstrip()
    return None
