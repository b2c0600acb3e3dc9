"""The states of a forwarding task (docs/routing.md#tasks), apart from the routing types in `schemas.routing`.

`gongwen queue list --help` names them, and every `gongwen` command registers that option: here
they cost nothing to import, where `schemas.routing` loads pydantic (0.1 s).
"""

from __future__ import annotations

TASK_STATUSES: tuple[str, ...] = ("pending", "claimed", "done", "rejected")
OPEN_STATUSES: tuple[str, ...] = ("pending", "claimed")
