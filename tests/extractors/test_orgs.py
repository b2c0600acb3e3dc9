"""The organisation gazetteer: canonical names, and the bodies the letter pipeline finds in text
(its span ruler on matching forms: variants, OCR spaces, offsets into the printed text)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractors.nlp import organisations as find_orgs
from extractors.orgs import canonical_org, gazetteer, normalize_for_match

MEDICAL_BODY = "財團法人醫院評鑑暨醫療品質策進會"


@pytest.mark.parametrize(
    ("printed", "canonical"),
    [
        ("醫策會", MEDICAL_BODY),
        ("醫院評鑑暨醫療品質策進會", MEDICAL_BODY),
        (MEDICAL_BODY, MEDICAL_BODY),
        ("衛福部", "衛生福利部"),
        ("衛生福利部", "衛生福利部"),
        ("衛 生 福 利 部", "衛生福利部"),  # OCR spaces
        ("台中市政府衛生局", "臺中市政府衛生局"),
        ("臺中市衛生局", "臺中市政府衛生局"),
        ("彰化縣政府衛生局", "彰化縣衛生局"),
        ("臺中市醫師公會", "社團法人臺中市醫師公會"),
        ("社團法人臺中市大臺中醫師公會", "社團法人臺中市大臺中醫師公會"),
        ("台中市大台中醫師公會", "社團法人臺中市大臺中醫師公會"),
        ("社團法人彰化縣醫師公會", "彰化縣醫師公會"),
        ("彰化縣醫師公會", "彰化縣醫師公會"),
        ("醫師公會全聯會", "中華民國醫師公會全國聯合會"),
        ("全聯會", "中華民國醫師公會全國聯合會"),
        ("牙醫全聯會", "中華民國牙醫師公會全國聯合會"),
        ("藥師全聯會", "中華民國藥師公會全國聯合會"),
        ("護理師護士公會全聯會", "中華民國護理師護士公會全國聯合會"),
        ("台灣醫院協會", "社團法人台灣醫院協會"),
        ("臺灣醫院協會", "社團法人台灣醫院協會"),
        ("食藥署", "衛生福利部食品藥物管理署"),
        ("衛福部食藥署", "衛生福利部食品藥物管理署"),
        ("食品藥物管理署", "衛生福利部食品藥物管理署"),
        ("健保署", "衛生福利部中央健康保險署"),
        ("疾管署", "衛生福利部疾病管制署"),
        ("國健署", "衛生福利部國民健康署"),
        ("心理健康司", "衛生福利部心理健康司"),
        ("衛生福利部社會救助及社工司", "衛生福利部社會救助及社工司"),
        ("醫事司", "衛生福利部醫事司"),
        ("健保署中區業務組", "衛生福利部中央健康保險署中區業務組"),
        ("僑委會", "僑務委員會"),
        ("退輔會", "國軍退除役官兵輔導委員會"),
        ("國發會", "國家發展委員會"),
        ("行政院國家發展委員會", "國家發展委員會"),
        ("國衛院", "國家衛生研究院"),
        ("財團法人國家衛生研究院", "國家衛生研究院"),
        ("藥害救濟基金會", "財團法人藥害救濟基金會"),
        ("臺大醫院", "國立臺灣大學醫學院附設醫院"),
        ("數發部", "數位發展部"),
        ("行政院衛生署", "行政院衛生署"),  # a predecessor keeps its own name
        ("台北市政府社會局", "臺北市政府社會局"),  # local government + an ordinary unit
        ("臺南市政府秘書處", "臺南市政府秘書處"),
    ],
)
def test_canonical_org(printed: str, canonical: str) -> None:
    assert canonical_org(printed) == canonical


@pytest.mark.parametrize(
    "printed", ["", "本局醫事管理科", "各縣市醫師公會", "臺中市", "某某協會", "工程會議"]
)
def test_unknown_is_none(printed: str) -> None:
    assert canonical_org(printed) is None


def test_normalize_for_match() -> None:
    assert normalize_for_match("台中市 政府\n衛生局") == "臺中市政府衛生局"
    assert normalize_for_match("林啓禎") == "林啟禎"
    assert normalize_for_match("ＡＢＣ１２３（一）") == "ABC123(一)"
    assert normalize_for_match("⾏政院") == "行政院"  # a Kangxi radical from a PDF text layer


@pytest.mark.parametrize("printed", ["臺中市大臺中醫師公會", "台中市大臺中醫師公會", "臺中市大台中醫師公會", "台中市大台中醫師公會"])
def test_every_tai_spelling_is_found_and_kept_as_printed(printed: str) -> None:
    (m,) = find_orgs(f"函轉{printed}辦理")
    assert (m.text, m.canonical) == (printed, "社團法人臺中市大臺中醫師公會")


def test_ruler_patterns_are_the_matching_forms() -> None:
    """The ruler holds no 台 spelling and no spaces: variants are matched through each token's NORM."""
    patterns = list(gazetteer().patterns())
    assert all(normalize_for_match(form) == form for _, form, _ in patterns)
    assert ("ORG", "衛福部", "衛生福利部") in patterns
    assert ("LOCAL_UNIT", "社會局", "社會局") in patterns


def test_seed_000_explanation_mentions_the_sender_and_its_abbreviation() -> None:
    text = "一、依據財團法人醫院評鑑暨醫療品質策進會（以下簡稱醫策會）112年5月30日醫評字第1120100216A號、第1120100216B號函辦理。"
    found = find_orgs(text)
    assert [(m.text, m.canonical) for m in found] == [(MEDICAL_BODY, MEDICAL_BODY), ("醫策會", MEDICAL_BODY)]
    for m in found:
        assert text[m.start : m.end] == m.text


def test_cc_list_of_seed_000_is_two_associations_not_three() -> None:
    text = "正本：社團法人臺中市醫師公會、社團法人臺中市大臺中醫師公會"
    assert [m.canonical for m in find_orgs(text)] == [
        "社團法人臺中市醫師公會",
        "社團法人臺中市大臺中醫師公會",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("醫策會配合衛生福利部政策，辦理旨揭相關認證", ["財團法人醫院評鑑暨醫療品質策進會", "衛生福利部"]),
        ("(六)加入僑委會「i僑卡」之特約美容醫療機構。", ["僑務委員會"]),
        ("醫策會與衛福部共同開辦診所美容醫學品質認證", [MEDICAL_BODY, "衛生福利部"]),
        ("受文者：臺中市政府衛生局", ["臺中市政府衛生局"]),
        ("受文者：中華民國醫師公會全國聯合會", ["中華民國醫師公會全國聯合會"]),
        ("彰化縣醫師公會\t\n收文日期\t111. 1. 25", ["彰化縣醫師公會"]),
        ("目前已有臺大醫院等12家醫院申請使用", ["國立臺灣大學醫學院附設醫院"]),
        ("一份送衛生福利部心理健康司，一份送本府主計處", ["衛生福利部心理健康司"]),
        ("一份送衛生福利部食品藥物管理署，一份送本府主計處", ["衛生福利部食品藥物管理署"]),
        ("係由國軍退除役官兵輔導委員會編列預算補助", ["國軍退除役官兵輔導委員會"]),
        ("係指衛生福利部社會救助及社工司委託收治之小康計畫床", ["衛生福利部社會救助及社工司"]),
        ("副本：臺南市政府秘書處文書科", ["臺南市政府秘書處"]),
        ("行政院公共工程委員會召開工程會議", ["行政院公共工程委員會"]),  # 工程會議 is a meeting
        ("請工程會於會勘後", ["行政院公共工程委員會"]),
        ("函轉台北市政府社會局", ["臺北市政府社會局"]),
    ],
)
def test_find_orgs_in_seed_sentences(text: str, expected: list[str]) -> None:
    found = find_orgs(text)
    assert [m.canonical for m in found] == expected
    for m in found:
        assert text[m.start : m.end] == m.text


def test_name_broken_across_lines_keeps_printed_text() -> None:
    text = "財團法人醫院評鑑暨醫療品質策進\n會 函"
    (m,) = find_orgs(text)
    assert m.canonical == MEDICAL_BODY
    assert m.text == "財團法人醫院評鑑暨醫療品質策進\n會"
    assert (m.start, m.end) == (0, 17)


def test_tainan_cc_list_every_unit_found() -> None:
    units = (
        "臺南市政府人事處、臺南市政府主計處、臺南市政府法制處、臺南市政府政風處、臺南市政府研究發展考核委員會、"
        "臺南市政府秘書處、臺南市政府新聞及國際關係處、臺南市政府原住民族事務委員會、臺南市政府客家事務委員會、"
        "臺南市政府工務局、臺南市政府文化局、臺南市政府水利局、臺南市政府民政局、臺南市政府交通局、臺南市政府地政局、"
        "臺南市政府社會局、臺南市政府消防局、臺南市政府教育局、臺南市政府都市發展局、臺南市政府勞工局、"
        "臺南市政府財政稅務局、臺南市政府經濟發展局、臺南市政府農業局、臺南市政府衛生局、臺南市政府環境保護局、"
        "臺南市政府警察局、臺南市政府觀光旅遊局"
    )
    found = find_orgs("正本：" + units)
    assert [m.text for m in found] == units.split("、")
    assert all(m.canonical == m.text for m in found)


def test_generated_local_unit_is_the_government_and_its_unit() -> None:
    (m,) = find_orgs("請台北市政府 社會局轉知")
    assert (m.text, m.canonical) == ("台北市政府 社會局", "臺北市政府社會局")
    assert canonical_org(m.text) == m.canonical
    assert gazetteer().get("臺北市政府社會局") is None  # made from the government and the unit, not listed


# ---- the data file itself ----------------------------------------------------------

_COUNTIES = (
    "臺北市 新北市 桃園市 臺中市 臺南市 高雄市 基隆市 新竹市 嘉義市 新竹縣 苗栗縣 "
    "彰化縣 南投縣 雲林縣 嘉義縣 屏東縣 宜蘭縣 花蓮縣 臺東縣 澎湖縣 金門縣 連江縣"
)
COUNTIES = _COUNTIES.split(" ")


GOVERNMENT_KINDS = {"ministry", "council", "central_agency", "department", "local_government", "local_agency"}


def test_gazetteer_size() -> None:
    assert len(gazetteer()) >= 300


@pytest.mark.parametrize("county", COUNTIES)
def test_every_county_has_government_and_health_bureau(county: str) -> None:
    g = gazetteer()
    gov = g.get(county + "政府")
    assert gov is not None and gov.kind == "local_government"
    bureaus = [o for o in g if o.parent == gov.name and o.name.startswith(county) and "衛生" in o.name]
    assert len(bureaus) == 1
    assert canonical_org(county.replace("臺", "台") + "政府") == gov.name


def test_gazetteer_integrity() -> None:
    g = gazetteer()
    for org in g:
        assert canonical_org(org.name) == org.name, org.name
        if org.parent is not None:
            assert g.get(org.parent) is not None, org
        if org.successor is not None:
            assert g.get(org.successor) is not None, org
        if org.kind in GOVERNMENT_KINDS:
            assert "台" not in org.name, org.name  # official 臺 form; 台 is derived
        for alias in org.aliases:
            assert canonical_org(alias) == org.name, (alias, org.name)


def test_member_associations_of_the_national_union() -> None:
    members = {o.name for o in gazetteer().children("中華民國醫師公會全國聯合會")}
    assert {"社團法人臺中市醫師公會", "社團法人臺中市大臺中醫師公會", "彰化縣醫師公會"} <= members
    assert len(members) >= 22


def test_archive_links_are_what_the_ruler_finds_in_every_golden_party_name() -> None:
    """The archive links a party by looking its whole printed name up (`canonical_org`, no spaCy at
    search or correction time); the letter pipeline's ruler, reading the same name, finds the same body
    covering it, or none: one table of names, read the same way by both."""
    from pipeline.matching import party_names
    from schemas.letter import Document

    root = Path(__file__).resolve().parents[2] / "samples"
    names = {
        name
        for golden in root.glob("*/*.json")
        if not golden.name.endswith(".layout.json")
        for raw in json.loads(golden.read_text(encoding="utf-8")).get("documents", [])
        for _, name in party_names(Document.model_validate(raw))
    }
    assert len(names) > 150
    linked = 0
    for name in sorted(names):
        found = find_orgs(name)
        whole = found[0].canonical if len(found) == 1 and found[0].text == name.strip() else None
        assert whole == canonical_org(name), (name, [(m.text, m.canonical) for m in found])
        linked += whole is not None
    assert linked > 100
