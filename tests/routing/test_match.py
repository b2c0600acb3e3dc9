"""Matching Chinese text as clerks mean it (docs/routing.md#matching): no word boundaries, variants folded, aliases, bounded regexes."""

from __future__ import annotations

import datetime
import threading

from pipeline.routing.engine import Router
from pipeline.routing.match import REGEX_STRIKES
from schemas.routing import AllOf, Association, Match, Not, RoutingConfig, RoutingInput, Rule

REGISTRY = (
    Association(id="txg-physicians", name="社團法人臺中市醫師公會", aliases=["中市醫師公會"], tags=["physicians", "county:臺中市"]),
    Association(id="tw-physicians", name="中華民國醫師公會全國聯合會", tags=["federation"]),
    Association(id="tw-dentists", name="中華民國牙醫師公會全國聯合會", tags=["federation"]),
)
DAY = datetime.date(2024, 3, 4)


def _router(*conditions: Match | Not | AllOf, to: tuple[str, ...] = ("txg-physicians",)) -> Router:
    rules = tuple(Rule(name=f"r{i}", when=c, to=to, line=i + 1) for i, c in enumerate(conditions))
    return Router(RoutingConfig(REGISTRY, rules))


def _letter(**fields: object) -> RoutingInput:
    return RoutingInput(document_id=None, kind="letter", ingested=DAY, **fields)  # type: ignore[arg-type]


def _tasks(router: Router, doc: RoutingInput) -> list[str]:
    return [t.association for t in router.route(doc).targets]


def test_no_word_boundaries_and_variants_folded() -> None:
    router = _router(Match("subject", "any", "台中 診所"))
    assert _tasks(router, _letter(subject="請轉知臺中市轄內診所配合辦理")) == ["txg-physicians"]
    assert _tasks(router, _letter(subject="請轉知所屬會員")) == []


def test_full_width_case_and_whitespace_are_folded() -> None:
    router = _router(Match("subject", "literal", "COVID-19 疫苗"))
    assert _tasks(router, _letter(subject="有關ｃｏｖｉｄ－１９\u3000疫苗接種事宜")) == ["txg-physicians"]


def test_all_needs_every_word() -> None:
    router = _router(Match("text", "all", "診所 美容醫學"))
    assert _tasks(router, _letter(subject="診所品質認證", explanation=["美容醫學品質認證申請"])) == ["txg-physicians"]
    assert _tasks(router, _letter(subject="診所品質認證", explanation=["細胞治療品質認證"])) == []


def test_a_body_matches_by_any_of_its_names() -> None:
    router = _router(Match("sender", "any", "衛福部"))
    assert _tasks(router, _letter(sender="衛生福利部")) == ["txg-physicians"]
    router = _router(Match("sender", "any", "衛生福利部"))
    assert _tasks(router, _letter(sender="衛福部")) == ["txg-physicians"]
    # a registry alias, and the 台 spelling of the registered name
    router = _router(Match("cc", "any", "中市醫師公會"), to=("tw-physicians",))
    assert _tasks(router, _letter(cc_main=["台中市醫師公會"])) == ["tw-physicians"]


def test_an_alias_does_not_match_a_different_body_that_contains_it() -> None:
    """全聯會 names the physicians' federation: the dentists' 牙醫師公會全聯會 is another body."""
    router = _router(Match("recipient", "any", "全聯會"))
    assert _tasks(router, _letter(recipient="中華民國醫師公會全國聯合會")) == ["txg-physicians"]
    assert _tasks(router, _letter(recipient="中華民國牙醫師公會全國聯合會")) == []
    assert _tasks(router, _letter(recipient="牙醫師公會全聯會")) == []


def test_not_any_all_nest() -> None:
    cond = AllOf((Match("subject", "any", "診所"), Not(Match("subject", "any", "牙醫"))))
    router = _router(cond)
    assert _tasks(router, _letter(subject="診所感染管制")) == ["txg-physicians"]
    assert _tasks(router, _letter(subject="牙醫診所感染管制")) == []


def test_fuzzy_tolerates_an_ocr_slip() -> None:
    router = _router(Match("subject", "fuzzy", "診所美容醫學品質認證", threshold=85))
    assert _tasks(router, _letter(subject="有關本年度「診所美容醫學品貿認證」申請事宜")) == ["txg-physicians"]
    assert _tasks(router, _letter(subject="有關本年度醫院評鑑申請事宜")) == []


def test_regex_on_folded_text() -> None:
    router = _router(Match("references", "regex", r"^醫評字第\d{10}[A-Z]?號$"))
    assert _tasks(router, _letter(references=["醫評字第１１２０１００２１６Ａ號"])) == ["txg-physicians"]


def test_reason_names_condition_line_and_printed_text() -> None:
    router = _router(Match("subject", "any", "台中", line=7))
    decision = router.route(_letter(subject="檢送臺中市112年度診所名冊"))
    assert "subject any '台中' (line 7)" in decision.targets[0].reason
    assert "«臺中»" in decision.targets[0].reason  # the letter's own characters, as printed


def test_skips_targets_that_have_the_letter_or_sent_it() -> None:
    router = _router(Match("subject", "any", "診所"), to=("txg-physicians", "tw-physicians", "tw-dentists"))
    decision = router.route(_letter(subject="診所", sender="中華民國牙醫師公會全國聯合會", cc_copy=["臺中市醫師公會(含附件)", "醫師全聯會"]))
    assert decision.targets == [] and decision.outcome == "routed"
    why = {s.association: s.why for s in decision.skipped}
    assert why["txg-physicians"].startswith("already has the letter: 副本")
    assert why["tw-physicians"] == "already has the letter: 副本 醫師全聯會"
    assert why["tw-dentists"].startswith("is the sender")


def test_nothing_matches_a_letter_goes_to_triage_an_attachment_is_ignored() -> None:
    router = _router(Match("subject", "any", "診所"))
    assert router.route(_letter(subject="公務人員選拔")).outcome == "triage"
    assert router.route(RoutingInput(document_id=None, kind="other", ingested=DAY)).outcome == "ignored"


def test_a_pathological_regex_cannot_hang_routing() -> None:
    """(a|aa)+$ backtracks exponentially on 'aaa…b': each search gives up, then the pattern is switched off."""
    router = _router(Match("subject", "regex", r"(a|aa)+$", line=3))
    docs = [_letter(subject="a" * 40 + "b") for _ in range(20)]
    decisions: list[object] = []
    worker = threading.Thread(target=lambda: decisions.extend(router.route(d) for d in docs), daemon=True)
    worker.start()
    worker.join(timeout=60)  # without the time limit one search alone would run for days
    assert not worker.is_alive(), "routing hung on a pathological regex"
    assert all(d.outcome == "triage" for d in decisions)  # type: ignore[attr-defined]
    warnings = router.guard.warnings
    assert len(warnings) == REGEX_STRIKES
    assert "switched off" in warnings[-1] and "line 3" in warnings[-1]
