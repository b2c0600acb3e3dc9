"""schemathesis against /api (issue 11): no input the schema allows makes the API answer 500.

Runs in-process (ASGI), logged in as an admin with the session's CSRF token, so every
operation is reached past its role check. Skipped where schemathesis is not installed (it is
a dev tool, not a dependency of the application).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from pipeline.db import Archive
from pipeline.web.app import create_app
from tests.web.conftest import PASSWORD

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402  (installed with schemathesis)

EXAMPLES = 15  # per operation: the whole run stays well under a minute


def test_no_generated_input_makes_a_server_error(web_archive: Archive) -> None:
    app = create_app(web_archive, secret="fuzz-secret")
    client = TestClient(app)
    body = client.post("/api/login", json={"name": "admin", "password": PASSWORD}).json()
    headers = {"Cookie": f"gongwen_session={client.cookies['gongwen_session']}", "X-CSRF-Token": body["csrf_token"]}
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    reached = {(o.method.upper(), o.path) for o in operations}
    assert {("GET", "/api/rules"), ("POST", "/api/rules/test"), ("GET", "/api/users"), ("POST", "/api/users"),
            ("POST", "/api/queue/{task_id}/draft"), ("GET", "/api/drafts/{draft_id}"), ("GET", "/api/review/export"),
            ("GET", "/api/letters/{doc_id}/files/{file_id}.pdf"),
            ("GET", "/api/letters/{doc_id}/boxes/{name}.png")} <= reached  # what the pages do (issue 11)
    failures: list[str] = []
    for operation in operations:
        if operation.path == "/api/logout":
            continue  # would end the session the others run in

        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} {case.body!r}: "
                                f"{response.status_code} {response.text[:200]}")

        check()
    assert not failures, "\n".join(failures[:10])
