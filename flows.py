"""The README's main job, and the entry point operators know: `python flows.py [PATH...]`.

Runs the Prefect flow `ingest-letters` over PATH (default samples/): extract, store and route
every PDF, in Prefect's embedded mode (no server to start). The flows themselves live in
`pipeline/flows.py`, inside the package, so the `gongwen` command and an installed wheel have
them too: `gongwen ingest PATH...` runs the same flow, `gongwen ingest --inbox DIR` the
mail room's `ingest-inbox`, `gongwen serve-flows` serves it on a schedule.
"""

from __future__ import annotations

import sys

from pipeline.flows import IngestRun, inbox_flow, ingest_flow, main

__all__ = ["IngestRun", "inbox_flow", "ingest_flow", "main"]

if __name__ == "__main__":
    sys.exit(main())
