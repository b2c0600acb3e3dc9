"""Golden routing: every sample document routed by the shipped rules, against samples/routing/golden.json.

The golden file was written from the engine's output and then checked entry by entry against
the letters (who they are addressed to, who is on 正本/副本, what they are about); it pins which
associations get a task, which are skipped and why, what goes to triage, and every due date.
"""

from __future__ import annotations

import json

import pytest

from pipeline.routing.config import load_config
from pipeline.routing.engine import Router
from samples.routing.make_golden import OUT, golden_documents, routing_of

GOLDEN = json.loads(OUT.read_text(encoding="utf-8"))
DOCUMENTS = golden_documents()


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(load_config("config/rules.yaml", "config/associations.yaml"))


def test_every_sample_document_has_a_golden_routing() -> None:
    assert sorted(GOLDEN) == sorted(f"{name}#{i}" for name, i, _ in DOCUMENTS)


@pytest.mark.parametrize(("name", "index", "doc"), DOCUMENTS, ids=[f"{n}#{i}" for n, i, _ in DOCUMENTS])
def test_sample_routes_as_golden(router: Router, name: str, index: int, doc: object) -> None:
    assert routing_of(router, doc) == GOLDEN[f"{name}#{index}"]  # type: ignore[arg-type]


def test_golden_covers_the_cases_clerks_meet() -> None:
    """The samples exercise tasks, skips (on 正本/副本, the sender, unregistered bodies), triage and forms."""
    outcomes = {v["outcome"] for v in GOLDEN.values()}
    assert outcomes == {"routed", "triage", "ignored"}
    skipped = [s for v in GOLDEN.values() for s in v["skipped"]]
    assert any("正本" in s for s in skipped) and any("副本" in s for s in skipped)
    assert any("is the sender" in s for s in skipped)
    assert any("not in the associations registry" in s for s in skipped)
    # the federation forwards the ministry's reply (seed 003) to all 22 county physicians' associations
    assert len(GOLDEN["seed_003#1"]["tasks"]) == 22
    # the 臺中 health bureau forwards each 醫策會 letter (seed 000) to both 臺中 physicians' associations
    assert GOLDEN["seed_000#1"]["tasks"] == ["txg-greater-physicians (txg-physicians)", "txg-physicians (txg-physicians)"]
    # its own cover letter already went to them: skipped, no task
    assert GOLDEN["seed_000#0"]["tasks"] == [] and len(GOLDEN["seed_000#0"]["skipped"]) == 2
    # forms: one submission task per registered 編送對象, due by the period rule
    assert GOLDEN["seed_004#0"]["tasks"] == ["mohw-mental-health (form-distribution)"]
    assert GOLDEN["seed_004#0"]["due"] == "2024-01-31"
