"""正本/副本 lists and the clerk's name (docs/document-json.md#value-conventions)."""

from __future__ import annotations

from extractors.parties import split_parties, split_title_name


def test_cc_list_from_seed_000() -> None:
    names, flagged = split_parties("社團法人臺中市醫師公會、社團法人臺中市大臺中醫師公會")
    assert names == ["社團法人臺中市醫師公會", "社團法人臺中市大臺中醫師公會"]
    assert flagged == []


def test_with_attachments_is_a_flag_not_part_of_the_name() -> None:
    names, flagged = split_parties("衛生福利部(含附件)、本局醫事管理科")
    assert names == ["衛生福利部", "本局醫事管理科"]
    assert flagged == ["衛生福利部"]


def test_all_with_attachments_flags_every_name() -> None:
    names, flagged = split_parties("臺北市醫師公會、新北市醫師公會（均含附件）")
    assert names == ["臺北市醫師公會", "新北市醫師公會"]
    assert flagged == names


def test_separator_inside_brackets_does_not_split() -> None:
    names, _ = split_parties("教育部(高等教育司、技職司)，內政部")
    assert names == ["教育部(高等教育司、技職司)", "內政部"]


def test_lost_separator_split_on_the_bodies_found() -> None:
    """OCR dropped the 、: the ORG entities cover the text end to end, so it is cut there, printed as is."""
    names, _ = split_parties("台中市政府 衛生局彰化縣醫師公會（含附件）")
    assert names == ["台中市政府 衛生局", "彰化縣醫師公會"]


def test_lost_separator_never_cuts_an_unknown_name() -> None:
    names, _ = split_parties("臺中市政府衛生局某某醫事協會")
    assert names == ["臺中市政府衛生局某某醫事協會"]


def test_blank_list_is_none() -> None:
    assert split_parties("") == (None, [])
    assert split_parties(None) == (None, [])


def test_title_and_name() -> None:
    assert split_title_name("技士 林佳儀") == ("技士", "林佳儀")
    assert split_title_name("技士　林佳儀") == ("技士", "林佳儀")
    assert split_title_name("徐榕君") == (None, "徐榕君")
    assert split_title_name("專員陳怡君") == ("專員", "陳怡君")
