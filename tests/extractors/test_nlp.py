"""The offline spaCy `zh` pipeline: entities of the seed letters' header, body and contact blocks."""

from __future__ import annotations

import itertools

import pytest
import spacy

from extractors.nlp import Entity, build_nlp, entities

# The header and contact blocks of the seed letters, as extracted (shared/seeds).
HEADER_000 = """臺中市政府衛生局 函

地址：420206臺中市豐原區中興路136號
承辦人：技士 林佳儀
電話：04-25265394#3232
傳真：04-25156592或04-25155449
電子信箱：hbtcm01696@taichung.gov.tw

受文者：社團法人臺中市大臺中醫師公會

發文日期：中華民國112年6月8日

發文字號：中市衛醫字第1120070277號
"""
BODY_000 = (
    "一、依據財團法人醫院評鑑暨醫療品質策進會（以下簡稱醫策會）112年5月30日醫評字第1120100216A號、第1120100216B號函辦理。\n"
    "三、旨揭認證計畫申請期間自112年5月15日至112年6月30日止，認證資訊及相關申請表單可至醫策會網站下載：\n"
    "(一)診所美容醫學品質認證網址：<https://www.jct.org.tw/np-1252-1.html>。\n"
    "四、如有上開認證作業相關問題，請洽醫策會人員（電話：02-8964-3000）：\n"
    "醫事管理科 收文:112/06/01\n"
    "四、如對認證作業有相關問題，歡迎來電洽詢：02-8964-3000分機3070楊小姐、3069徐小姐。\n"
)
CONTACT_JCT = """地址：220835新北市板橋區三民路二段31號5樓

承辦人：徐榕君

電話：02-8964-3000#3069

電子信箱：jamie.hsu@jct.org.tw
"""
HEADER_003 = """中華民國醫師公會全國聯合會 函

地址：10688台北市大安區安和路一段29號9樓

承辦人：楊蕙宇

電話：(02)2752-7286-153

傳真：(02)2771-8392

Email：t50129a@tma.tw

受文者：各縣市醫師公會

發文日期：中華民國111年1月22日

發文字號：全醫聯字第1110000119號
"""
STAMP_003 = "彰化縣醫師公會\t\n收文日期\t111. 1. 25\n收文字號\t彰醫字第 129 號\n"
CONTACT_MOHW = """聯絡人：林鴻鑫

聯絡電話：(02)8590-6331

傳真：(02)8590-6031

電子郵件：cchslin@mohw.gov.tw
"""
BROCHURE = "欲知詳情，歡迎立即與我們聯繫!!\n02-89643000轉診所美容醫學品質認證小組\nE-mail: AMCQC@jct.org.tw\n"
EXCHANGE = "電 2022/01/19 文\n交 11:44 章"
HOTLINE = "3、如有急件必要，申請期間可電洽0800-364422查詢進度，並向服務人員反映。"


def _by_label(ents: list[Entity], label: str) -> list[str]:
    return [e.text for e in ents if e.label == label]


def test_blank_zh_needs_nothing_to_download() -> None:
    nlp = spacy.blank("zh")
    assert nlp.config["nlp"]["tokenizer"]["segmenter"] == "char"
    assert [t.text for t in nlp("衛福部函")] == ["衛", "福", "部", "函"]


def test_pipeline_shape_and_cache() -> None:
    nlp = build_nlp()
    assert nlp is build_nlp()
    assert nlp.pipe_names == ["gazetteer_ruler", "gongwen_patterns"]
    assert len(nlp.get_pipe("gazetteer_ruler")) > 1000  # type: ignore[arg-type]


def test_tokens_are_characters_with_their_matching_form() -> None:
    doc = build_nlp().make_doc("台中市 政府\n")
    assert [(t.text, t.norm_) for t in doc] == [("台", "臺"), ("中", "中"), ("市 ", "市"), ("政", "政"), ("府\n", "府")]


def test_header_000() -> None:
    ents = entities(HEADER_000)
    assert _by_label(ents, "PHONE") == ["04-25265394#3232", "04-25156592", "04-25155449"]
    assert _by_label(ents, "EMAIL") == ["hbtcm01696@taichung.gov.tw"]
    assert _by_label(ents, "DATE") == ["中華民國112年6月8日"]
    assert _by_label(ents, "DOC_NUMBER") == ["中市衛醫字第1120070277號"]
    orgs = [(e.text, e.canonical) for e in ents if e.label == "ORG"]
    assert orgs == [
        ("臺中市政府衛生局", "臺中市政府衛生局"),
        ("社團法人臺中市大臺中醫師公會", "社團法人臺中市大臺中醫師公會"),
    ]


def test_body_000() -> None:
    ents = entities(BODY_000)
    numbers = [(e.text, e.canonical) for e in ents if e.label == "DOC_NUMBER"]
    assert numbers == [
        ("醫評字第1120100216A號", "醫評字第1120100216A號"),
        ("第1120100216B號", "醫評字第1120100216B號"),
    ]
    assert _by_label(ents, "DATE") == ["112年5月30日", "112年5月15日", "112年6月30日", "112/06/01"]
    assert _by_label(ents, "URL") == ["https://www.jct.org.tw/np-1252-1.html"]
    assert _by_label(ents, "PHONE") == ["02-8964-3000", "02-8964-3000分機3070"]
    assert {e.canonical for e in ents if e.label == "ORG"} == {"財團法人醫院評鑑暨醫療品質策進會"}
    assert _by_label(ents, "ORG").count("醫策會") == 3


@pytest.mark.parametrize(
    ("text", "phones", "emails"),
    [
        (CONTACT_JCT, ["02-8964-3000#3069"], ["jamie.hsu@jct.org.tw"]),
        (HEADER_003, ["(02)2752-7286-153", "(02)2771-8392"], ["t50129a@tma.tw"]),
        (CONTACT_MOHW, ["(02)8590-6331", "(02)8590-6031"], ["cchslin@mohw.gov.tw"]),
        (BROCHURE, ["02-89643000"], ["AMCQC@jct.org.tw"]),
        (HOTLINE, ["0800-364422"], []),
        (
            "電話：06-3901104\n傳真：06-2982354\n電子信箱：yutinglin901@mail.tainan.gov.tw",
            ["06-3901104", "06-2982354"],
            ["yutinglin901@mail.tainan.gov.tw"],
        ),
    ],
)
def test_contact_blocks(text: str, phones: list[str], emails: list[str]) -> None:
    ents = entities(text)
    assert _by_label(ents, "PHONE") == phones
    assert _by_label(ents, "EMAIL") == emails


def test_header_003_and_receipt_stamp() -> None:
    ents = entities(HEADER_003 + STAMP_003)
    assert _by_label(ents, "DOC_NUMBER") == ["全醫聯字第1110000119號", "彰醫字第 129 號"]
    assert [e.canonical for e in ents if e.label == "DOC_NUMBER"] == [
        "全醫聯字第1110000119號",
        "彰醫字第129號",
    ]
    assert _by_label(ents, "DATE") == ["中華民國111年1月22日", "111. 1. 25"]
    assert [e.canonical for e in ents if e.label == "ORG"] == ["中華民國醫師公會全國聯合會", "彰化縣醫師公會"]


def test_dates_never_start_inside_a_longer_number() -> None:
    ents = entities("收文:112/06/08 條碼141120070277 表號10511-90-02-2 " + EXCHANGE)
    assert _by_label(ents, "DATE") == ["112/06/08", "2022/01/19"]
    assert _by_label(ents, "PHONE") == []


def test_templates_are_not_numbers() -> None:
    ents = entities("如需掛上發文字號，則應為「府○○字第0000000000號」。")
    assert [e for e in ents if e.label in {"DOC_NUMBER", "PHONE"}] == []


def test_tai_variant_and_alias_orgs() -> None:
    ents = entities("函轉台中市政府衛生局及衛福部食藥署、醫策會")
    assert [(e.text, e.canonical) for e in ents] == [
        ("台中市政府衛生局", "臺中市政府衛生局"),
        ("衛福部食藥署", "衛生福利部食品藥物管理署"),
        ("醫策會", "財團法人醫院評鑑暨醫療品質策進會"),
    ]


def test_the_ruler_sets_doc_ents_with_the_canonical_id() -> None:
    doc = build_nlp()("受文者：台中市政府衛生局")
    assert [(e.text, e.label_, e.id_) for e in doc.ents] == [("台中市政府衛生局", "ORG", "臺中市政府衛生局")]


def test_orgs_survive_ocr_spaces() -> None:
    ents = entities("正本：臺中市政府 衛生局")
    assert [(e.text, e.canonical) for e in ents] == [("臺中市政府 衛生局", "臺中市政府衛生局")]


def test_a_body_glued_to_a_doc_number_is_cut_off_its_prefix() -> None:
    """The 代字 run starts after the known body (台 spelling, OCR space) that precedes it."""
    ents = entities("依據台中市政府 府授衛字第1120070277號函")
    assert [(e.label, e.text) for e in ents] == [("ORG", "台中市政府"), ("DOC_NUMBER", "府授衛字第1120070277號")]


def test_offsets_and_no_overlaps() -> None:
    text = HEADER_000 + BODY_000 + CONTACT_JCT + HEADER_003 + STAMP_003 + CONTACT_MOHW + BROCHURE + EXCHANGE
    ents = entities(text)
    for e in ents:
        assert text[e.start : e.end] == e.text
    for a, b in itertools.pairwise(ents):
        assert a.end <= b.start


def test_five_kilobytes_read_whole() -> None:
    """Speed is measured in bench/speed.py; here only that a long text is read without overlaps."""
    text = (HEADER_000 + BODY_000 + CONTACT_JCT + HEADER_003 + STAMP_003 + CONTACT_MOHW) * 3
    text = text.encode()[: 5 * 1024].decode(errors="ignore")
    ents = entities(text)
    assert ents
    for a, b in itertools.pairwise(ents):
        assert a.end <= b.start
