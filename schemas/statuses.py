"""The states of a forwarding task (docs/routing.md#tasks), apart from the routing types in `schemas.routing`,
and the roles of the web application's users (docs/web.md#roles).

`gongwen queue list --help` and `gongwen users add --help` name them, and every `gongwen` command
registers those options: here they cost nothing to import, where `schemas.routing` loads
pydantic (0.1 s) and `schemas.orm` SQLAlchemy.
"""

from __future__ import annotations

TASK_STATUSES: tuple[str, ...] = ("pending", "claimed", "done", "rejected")
OPEN_STATUSES: tuple[str, ...] = ("pending", "claimed")
# each role can do what the one before it can, and more: read; clear the queue; manage users and rules
USER_ROLES: tuple[str, ...] = ("analyst", "clerk", "admin")
