"""Write samples/routing/golden.json: the routing of every sample's golden document (docs/routing.md).

Run once after a deliberate change of config/*.yaml, then READ THE DIFF entry by entry: the file is
the hand-checked answer the tests hold routing to, not a snapshot to refresh blindly.

    .venv/bin/python -m samples.routing.make_golden
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from pipeline.routing.config import load_config
from pipeline.routing.engine import Router, routing_input
from schemas.letter import Document

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLES = ROOT / "samples" / "born_digital"
OUT = Path(__file__).resolve().parent / "golden.json"
# the day every sample counts as ingested (the due date of a letter without deadline or stamp counts from it)
INGESTED = datetime.date(2024, 1, 2)


def golden_documents() -> list[tuple[str, int, Document]]:
    out = []
    for path in sorted(SAMPLES.glob("*.json")):
        if path.name.endswith(".layout.json"):
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        for i, doc in enumerate(data["documents"]):
            out.append((path.stem, i, Document.model_validate(doc)))
    return out


def routing_of(router: Router, doc: Document) -> dict[str, Any]:
    d = router.route(routing_input(doc, None, INGESTED))
    return {
        "outcome": d.outcome,
        "due": d.due.isoformat() if d.due else None,
        "tasks": sorted(f"{t.association} ({t.rule})" for t in d.targets),
        "skipped": sorted(f"{s.association or '-'}: {s.why}" for s in d.skipped),
    }


def main() -> None:
    router = Router(load_config(ROOT / "config" / "rules.yaml", ROOT / "config" / "associations.yaml"))
    golden = {f"{name}#{i}": routing_of(router, doc) for name, i, doc in golden_documents()}
    OUT.write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
