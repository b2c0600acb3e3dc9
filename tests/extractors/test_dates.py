"""The date layer (docs/letter.md#roc-dates, samples/GOLDEN.md `dates`/`deadline`) on forms and sentences from real letters."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest

from extractors.dates import FoundDate, find_dates, find_deadline, parse_date, parse_meeting_time
from extractors.roc_calendar import RocCalendar, RocConverter, classify_year, cn_to_int

SHARED = Path(os.environ.get("GONGWEN_SHARED", Path(__file__).resolve().parents[3] / "shared"))
D = datetime.date


def _shared(name: str) -> str:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path.read_text(encoding="utf-8")


def _pairs(found: list[FoundDate]) -> list[tuple[str, str]]:
    return [(f.text, f.date.isoformat()) for f in found]


# --- the calendar ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("112", 112), ("１１２", 112), ("一一二", 112), ("一百十二", 112), ("一百一十二", 112),
        ("一百零二", 102), ("九十九", 99), ("十", 10), ("十二", 12), ("二十", 20), ("三十一", 31),
        ("元", 1), ("二〇二三", 2023), ("", None), ("十十", None), ("一二十", None), ("年", None),
    ],
)
def test_cn_to_int(token: str, value: int | None) -> None:
    assert cn_to_int(token) == value


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("112", ("roc", 112)), ("99", ("roc", 99)), ("1", ("roc", 1)), ("一百十二", ("roc", 112)),
        ("2023", ("gregorian", 2023)), ("二〇二三", ("gregorian", 2023)),
        ("201", None), ("0", None), ("1800", None), ("1112", None), ("10522", None),
    ],
)
def test_year_decides_the_calendar(token: str, expected: tuple[str, int] | None) -> None:
    assert classify_year(token) == expected


def test_converter() -> None:
    assert RocConverter.to_gregorian(112, 6, 8) == (2023, 6, 8)
    assert RocConverter.from_gregorian(2023, 6, 8) == (112, 6, 8)
    assert RocConverter.month_length(113, 2) == 29  # 2024 is a leap year
    assert RocConverter.month_length(112, 2) == 28
    assert RocConverter.to_date(1, 1, 1) == D(1912, 1, 1)
    assert RocConverter.to_date(112, 2, 30) is None
    assert RocConverter.to_date(0, 1, 1) is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("中華民國112年6月8日", D(2023, 6, 8)),
        ("112/06/01", D(2023, 6, 1)),
        ("111. 1. 25", D(2022, 1, 25)),
        ("民國元年1月1日", D(1912, 1, 1)),
        ("2023/05/30", None),  # Gregorian: not this calendar's business
        ("12/06/08", None),
        ("十二年六月八日", D(1923, 6, 8)),
        ("112/02/30", None),
        ("中華民國 年 月 日", None),
    ],
)
def test_roc_calendar_whole_string(source: str, expected: datetime.date | None) -> None:
    assert RocCalendar(source).get_date() == expected


# --- find_dates: should parse ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "printed", "iso", "calendar"),
    [
        ("發文日期：中華民國112年6月8日", "中華民國112年6月8日", "2023-06-08", "roc"),
        ("民國112年6月8日", "民國112年6月8日", "2023-06-08", "roc"),
        ("依據衛生福利部111年1月19日衛部資字第1112660027號函辦理(如附件)。", "111年1月19日", "2022-01-19", "roc"),
        ("二、本會於110年12月13日函請衛生福利部研議", "110年12月13日", "2021-12-13", "roc"),
        ("醫事管理科 收文:112/06/01", "112/06/01", "2023-06-01", "roc"),
        ("收文日期\t111. 1. 25", "111. 1. 25", "2022-01-25", "roc"),
        ("收文 112.12.18", "112.12.18", "2023-12-18", "roc"),
        ("112-06-01", "112-06-01", "2023-06-01", "roc"),
        ("99/12/31", "99/12/31", "2010-12-31", "roc"),
        ("38/01/01", "38/01/01", "1949-01-01", "roc"),
        ("民國37年12月31日", "民國37年12月31日", "1948-12-31", "roc"),  # with 年, every ROC year
        ("１１２年６月８日", "１１２年６月８日", "2023-06-08", "roc"),
        ("１１２／０６／０１", "１１２／０６／０１", "2023-06-01", "roc"),
        ("一百十二年六月八日", "一百十二年六月八日", "2023-06-08", "roc"),
        ("中華民國一一二年六月八日", "中華民國一一二年六月八日", "2023-06-08", "roc"),
        ("中華民國一百一十二年十二月三十一日", "中華民國一百一十二年十二月三十一日", "2023-12-31", "roc"),
        ("民國元年1月1日", "民國元年1月1日", "1912-01-01", "roc"),
        ("中華民國 112 年 6 月 8 日", "中華民國 112 年 6 月 8 日", "2023-06-08", "roc"),
        ("113年2月29日", "113年2月29日", "2024-02-29", "roc"),
        ("電 2022/01/19 文", "2022/01/19", "2022-01-19", "gregorian"),
        ("2023-05-30", "2023-05-30", "2023-05-30", "gregorian"),
        ("2023年5月30日", "2023年5月30日", "2023-05-30", "gregorian"),
        ("二〇二三年五月三十日", "二〇二三年五月三十日", "2023-05-30", "gregorian"),
        ("112/06/08", "112/06/08", "2023-06-08", "roc"),
    ],
)
def test_should_parse(text: str, printed: str, iso: str, calendar: str) -> None:
    found = find_dates(text)
    assert len(found) == 1, found
    (f,) = found
    assert (f.text, f.date.isoformat(), f.calendar, f.year_given) == (printed, iso, calendar, True)
    assert text[f.start:f.end] == f.text


# --- find_dates: should not parse -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "中華民國 年 月 日",
        "中華民國　　年　　月　　日",
        "141120070277",
        "1120100216",
        "發文字號：醫評字第1120100216A號",
        "電話：02-8964-3000#3069",
        "電話：(02)2752-7286-153",
        "申請期間可電洽0800-364422查詢進度",
        "電話：04-25265394#3232",
        "表號\t10511-90-02-2",
        "表號\t10522-06-01-2",
        "1112/06/08",  # 12/06/08 must not be read out of a longer number
        "112/06/083",
        "x1/112/06/08",
        "112/06/08/1",
        "12/06/08",  # bare digits: a 1923 date is far likelier a section number or a Western date
        "10. 11. 12",
        "依第12.1.5點辦理",
        "第112.1.5點",
        "交 11:44 章",
        "ISO 9001:2015",
        "192.168.1.1",
        "尺寸為7.5*7.5公分",
        "有關本（112）年度「診所美容醫學品質認證」申請事宜",
        "387140000I_1120070277_ATTACH1.pdf",
        "<https://www.jct.org.tw/np-1252-1.html>",
        "第 1 頁，共 2 頁",
        "112年2月30日",
        "112年2月29日",
        "112年13月1日",
        "112/00/10",
        "112/06/31",
        "201/01/01",
        "元年1月1日",  # 元年 needs 民國
        "1800/01/01",
        "2023-02-29",
        "2023年2月30日",
        "中華民國2023年5月30日",
        "請於9月30日(星期五)前回覆",  # no year and no default_year
        "112年5月",
    ],
)
def test_should_not_parse(text: str) -> None:
    assert find_dates(text) == []


def test_a_date_is_never_read_from_inside_a_longer_number() -> None:
    found = find_dates("文號112/06/08，另見112.06.08、1112.06.08")
    assert _pairs(found) == [("112/06/08", "2023-06-08"), ("112.06.08", "2023-06-08")]


@pytest.mark.parametrize(
    "text",
    [
        "二、統計標準時間：半年報以每年1月1日至6月底及每年7月1日至當年底之事實為準。",
        "1.上年：前一年度12月31日衛生局(所)列冊追蹤照護之精神病人數。",
        "2.本年：該年度12月31日衛生局(所)列冊追蹤照護之精神病人數。",
    ],
)
def test_recurring_and_relative_dates_are_not_dates(text: str) -> None:
    assert find_dates(text, 2023) == []


# --- ranges and years left out --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "default_year", "expected"),
    [
        (
            "三、旨揭認證計畫申請期間自112年5月15日至112年6月30日止，認證資訊及相關申請表單可至醫策會網站下載：",
            None,
            [("112年5月15日", "2023-05-15", True), ("112年6月30日", "2023-06-30", True)],
        ),
        (
            "提出申請（第二階段開放申請時間：112年5月15日至6月30日）",
            None,
            [("112年5月15日", "2023-05-15", True), ("6月30日", "2023-06-30", False)],
        ),
        (
            "112年5月15日（星期一）上午9時起至同年6月30日（星期五）止",
            None,
            [("112年5月15日", "2023-05-15", True), ("6月30日", "2023-06-30", False)],
        ),
        (
            "本計畫執行期間自112年12月1日至1月31日止",
            None,
            [("112年12月1日", "2023-12-01", True), ("1月31日", "2024-01-31", False)],
        ),
        ("112/05/15~112/06/30", None, [("112/05/15", "2023-05-15", True), ("112/06/30", "2023-06-30", True)]),
        ("112/05/15-112/06/30", None, [("112/05/15", "2023-05-15", True), ("112/06/30", "2023-06-30", True)]),
        ("請於9月30日(星期五)前回覆", 2022, [("9月30日", "2022-09-30", False)]),
        ("請於9月30日前回覆", 111, [("9月30日", "2022-09-30", False)]),  # an ROC default year
        ("(三)報名期間：112年8月1日至8月31日，名額200名，額滿為止。", 2023,
         [("112年8月1日", "2023-08-01", True), ("8月31日", "2023-08-31", False)]),
        ("112年5月30日函，另6月30日前", None, [("112年5月30日", "2023-05-30", True)]),  # no context: skipped
    ],
)
def test_ranges_and_missing_years(
    text: str, default_year: int | None, expected: list[tuple[str, str, bool]]
) -> None:
    found = find_dates(text, default_year)
    assert [(f.text, f.date.isoformat(), f.year_given) for f in found] == expected
    assert all(text[f.start:f.end] == f.text for f in found)


# --- deadlines ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "default_year", "expected"),
    [
        ("三、請各校依修正規定檢視實習計畫，並請於112年9月30日前將實習計畫及合作醫院名冊函送本部備查。", None, D(2023, 9, 30)),
        ("請轉知所屬會員醫院填妥後由貴會彙整，並請於112年4月14日前以電子郵件寄送本部醫事司", None, D(2023, 4, 14)),
        ("一、當選人之最新職稱、照片電子檔及具體事蹟摘要，請於9月15日（星期五）前回復本府人事處考核科", 2023, D(2023, 9, 15)),
        ("於9月30日(星期五)前回覆", 2022, D(2022, 9, 30)),
        ("最遲於112年6月30日（星期五）下午5時前寄達", None, D(2023, 6, 30)),
        ("報名至112年6月30日截止", None, D(2023, 6, 30)),
        ("三、旨揭認證計畫申請期間自112年5月15日至112年6月30日止，認證資訊及相關申請表單可至醫策會網站下載：", None, D(2023, 6, 30)),
        ("- (一)本階段申請期間自112年5月15日至112年6月30日止。", None, D(2023, 6, 30)),
        ("三、申請期間自112年3月1日起至112年4月30日止，逾期不予受理", None, D(2023, 4, 30)),
        ("報名期限：112年6月1日至6月30日", None, D(2023, 6, 30)),
        ("(三)報名期間：112年8月1日至8月31日，名額200名，額滿為止。", 2023, D(2023, 8, 31)),
        ("截止日期：112年7月15日", None, D(2023, 7, 15)),
        ("一、請於112年6月10日前報名；二、請於112年6月20日前繳費", None, D(2023, 6, 10)),  # the first one
        (
            "二、本見習課程期間為113年7月1日至113年8月30日。三、有意願之診所，請於113年3月15日前填妥合作意向書",
            None,
            D(2024, 3, 15),
        ),
    ],
)
def test_deadlines(text: str, default_year: int | None, expected: datetime.date) -> None:
    assert find_deadline(text, default_year) == expected


@pytest.mark.parametrize(
    "text",
    [
        "本辦法自112年7月1日起生效。",
        "並自112年1月1日起實施；請貴局加強宣導",
        "本辦法自113年1月1日施行，請查照並轉知所屬。",
        "開會時間：112年7月12日（星期三）下午2時30分",
        "四、表揚大會訂於113年8月10日（星期六）上午9時假本縣南投縣立體育館舉行",
        "一、依據財團法人醫院評鑑暨醫療品質策進會（以下簡稱醫策會）112年5月30日醫評字第1120100216A號、第1120100216B號函辦理。",
        "三、督導考核期間自112年8月1日起至112年10月31日止，本局將另行通知各診所實地考核日期。",
        "接種期間：113年10月1日起至114年3月31日止，疫苗用完為止。",
        "二、經查112年1月1日至112年11月30日止，仍有部分醫療機構未依規定按月申報",
        "密等及解密條件或保密期限：機密（本案至113年12月31日解密）",
        "(一)醫事憑證IC卡補(換)發作業流程，自接受申請日起約5個工作日。",
        "請於9月30日前回覆",  # no year known
        "",
    ],
)
def test_not_deadlines(text: str) -> None:
    assert find_deadline(text) is None


# --- meeting times --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("112年7月12日（星期三）下午2時30分", datetime.datetime(2023, 7, 12, 14, 30)),
        ("中華民國112年7月12日（星期三）下午2時30分", datetime.datetime(2023, 7, 12, 14, 30)),
        ("113年1月18日(星期四)上午10時", datetime.datetime(2024, 1, 18, 10, 0)),
        ("112年7月12日 14:30", datetime.datetime(2023, 7, 12, 14, 30)),
        ("112年7月12日１４：３０", datetime.datetime(2023, 7, 12, 14, 30)),
        ("112年7月12日下午2點", datetime.datetime(2023, 7, 12, 14, 0)),
        ("112年7月12日(三)下午2時半", datetime.datetime(2023, 7, 12, 14, 30)),
        ("112年7月12日中午12時", datetime.datetime(2023, 7, 12, 12, 0)),
        ("112年7月12日晚上7時", datetime.datetime(2023, 7, 12, 19, 0)),
        ("112年11月4日上午9時至下午4時", datetime.datetime(2023, 11, 4, 9, 0)),
        ("中華民國一百十二年七月十二日下午二時三十分", datetime.datetime(2023, 7, 12, 14, 30)),
        ("2023/07/12 14:30", datetime.datetime(2023, 7, 12, 14, 30)),
        ("112年7月12日", None),  # no time: not a meeting time
        ("下午2時30分", None),  # no date
        ("112年7月12日下午25時", None),
    ],
)
def test_meeting_time(text: str, expected: datetime.datetime | None) -> None:
    assert parse_meeting_time(text) == expected


def test_meeting_time_with_year_left_out() -> None:
    assert parse_meeting_time("7月12日下午2時", default_year=2023) == datetime.datetime(2023, 7, 12, 14, 0)


# --- parse_date -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("112/05/30", D(2023, 5, 30)),
        ("中華民國112年5月30日", D(2023, 5, 30)),
        ("  112年5月30日 ", D(2023, 5, 30)),
        ("2023-05-30", D(2023, 5, 30)),
        ("2023/5/30", D(2023, 5, 30)),
        ("2023年5月30日", D(2023, 5, 30)),
        ("111. 1. 25", D(2022, 1, 25)),
        ("", None),
        ("tomorrow", None),
        ("明天", None),
        ("112/05/30 以前", None),
        ("6月30日", None),
        ("112/02/30", None),
        ("112年5月30日至6月30日", None),
    ],
)
def test_parse_date(text: str, expected: datetime.date | None) -> None:
    assert parse_date(text) == expected


# --- whole letters --------------------------------------------------------------------------------


def test_seed_000_whole_text() -> None:
    text = _shared("seeds/000_5fec4682d5a159ab.txt")
    found = find_dates(text)
    assert _pairs(found) == [
        ("中華民國112年6月8日", "2023-06-08"),
        ("112年5月30日", "2023-05-30"),
        ("112年5月15日", "2023-05-15"),
        ("112年6月30日", "2023-06-30"),
        ("中華民國112年5月30日", "2023-05-30"),
        ("112年5月15日", "2023-05-15"),
        ("112年6月30日", "2023-06-30"),
        ("112/06/01", "2023-06-01"),  # receipt stamp
        ("中華民國112年5月30日", "2023-05-30"),
        ("112年5月15日", "2023-05-15"),
        ("112年6月30日", "2023-06-30"),
        ("112/06/01", "2023-06-01"),  # receipt stamp
        ("112年5月15日", "2023-05-15"),  # brochure: 112年5月15日至6月30日
        ("6月30日", "2023-06-30"),
        ("112年5月15日", "2023-05-15"),
        ("6月30日", "2023-06-30"),
    ]
    assert all(text[f.start:f.end] == f.text for f in found)
    # Barcodes (141120070277), 字號 (1120100216), phones (02-8964-3000) and attachment names gave nothing.
    assert all(f.date.year == 2023 for f in found)
    assert find_deadline(text) == D(2023, 6, 30)


def test_seed_003_whole_text() -> None:
    text = _shared("seeds/003_14ea73d44ddfc434.txt")
    found = find_dates(text, 2022)
    assert [(f.text, f.date.isoformat(), f.calendar) for f in found] == [
        ("中華民國111年1月22日", "2022-01-22", "roc"),
        ("111年1月19日", "2022-01-19", "roc"),
        ("110年12月13日", "2021-12-13", "roc"),
        ("111年1月19日", "2022-01-19", "roc"),
        ("111. 1. 25", "2022-01-25", "roc"),  # receipt stamp
        ("中華民國111年1月19日", "2022-01-19", "roc"),
        ("110年12月13日", "2021-12-13", "roc"),
        ("2022/01/19", "2022-01-19", "gregorian"),  # electronic-exchange stamp
    ]
    assert find_deadline(text, 2022) is None


def test_seed_004_forms_have_no_calendar_dates() -> None:
    text = _shared("seeds/004_82c7aa678d812cee.txt")
    assert find_dates(text) == []
    assert find_dates(text, 2023) == []  # 每年1月1日, 該年度12月31日: recurring, not dates


def test_tainan_letter() -> None:
    text = _shared("letters/001_tainan.txt")
    assert _pairs(find_dates(text, 2021)) == [("中華民國110年12月23日", "2021-12-23")]
    assert find_deadline(text, 2021) is None


# --- Gregorian dates: exchange stamps and English attachments, through the whole reading path ------------

_ENGLISH_ATTACHMENT = """@doc letter
@title 衛生福利部 函
@contact 承辦人：技士 陳美玲
受文者：臺灣醫學會
發文日期：中華民國112年6月8日
發文字號：衛部醫字第1121661234號
速別：普通件
附件：國際研討會議程（英文）1份
主旨：檢送國際研討會議程，請查照。
說明：
一、研討會訂於2023/9/1及2023-09-02舉行，請於112年8月15日前報名。
正本：臺灣醫學会
@exchange 電 2023/06/08 文|交 11:44 章
@doc other
@font wqy
@heading International Symposium on Patient Safety
Registration opens on June 8, 2023 and closes on 15th of August 2023.
Sessions are held on 1 Sept. 2023 and Sep 2, 2023 in Taipei; the report follows in May 2023 or on Feb 30, 2024.
"""


def test_english_dates_of_an_attachment_are_read_by_dateparser(tmp_path: Path) -> None:
    """A letter with an English programme attached, rendered by the samples' generator and read like any PDF:
    the letter's Gregorian forms come from the scanner's own parts, the attachment's month-name dates from
    dateparser; a month without a day and an impossible day are no dates."""
    from pipeline.extract import extract_file
    from samples.generator import render_source

    pdf = tmp_path / "english_attachment.pdf"
    render_source(_ENGLISH_ATTACHMENT, pdf)
    result = extract_file(pdf, ocr=None)
    assert result.error is None and [d.kind for d in result.documents] == ["letter", "other"]
    letter, programme = result.documents
    assert [(d.text, d.date) for d in letter.dates] == [
        ("中華民國112年6月8日", datetime.date(2023, 6, 8)), ("2023/9/1", datetime.date(2023, 9, 1)), ("2023-09-02", datetime.date(2023, 9, 2)),
        ("112年8月15日", datetime.date(2023, 8, 15)),
    ]
    assert [(" ".join(d.text.split()), d.date) for d in programme.dates] == [
        ("June 8, 2023", datetime.date(2023, 6, 8)), ("15th of August 2023", datetime.date(2023, 8, 15)),
        ("1 Sept. 2023", datetime.date(2023, 9, 1)), ("Sep 2, 2023", datetime.date(2023, 9, 2)),
    ]


def test_english_dates_need_a_day_and_a_year_and_keep_their_place_among_roc_ones() -> None:
    text = "會議訂於112年9月1日（September 1st, 2023）舉行，may 2023 再議；Feb 29, 2023 不存在，Feb 29, 2024 存在。"
    assert _pairs(find_dates(text)) == [
        ("112年9月1日", "2023-09-01"), ("September 1st, 2023", "2023-09-01"), ("Feb 29, 2024", "2024-02-29"),
    ]
    assert [f.calendar for f in find_dates(text)] == ["roc", "gregorian", "gregorian"]
    assert parse_date("8 June 2023") == D(2023, 6, 8) and parse_date("June 2023") is None
    assert find_deadline("Please register by 15 August 2023.") is None  # deadlines are read from Chinese cues
