"""Log-in rate limiting: five wrong log-ins a minute for a name or from an address, then 429 with one line."""

from __future__ import annotations

from fastapi.testclient import TestClient

from pipeline.web.ratelimit import FAILURES, LoginLimiter
from tests.web.conftest import PASSWORD, csrf_of


def test_the_sixth_try_in_a_minute_is_refused_even_with_the_right_password(client: TestClient) -> None:
    for _ in range(FAILURES):
        assert client.post("/api/login", json={"name": "clerk", "password": "guess"}).status_code == 401
    held = client.post("/api/login", json={"name": "clerk", "password": PASSWORD})
    assert held.status_code == 429
    seconds = int(held.headers["Retry-After"])
    assert 1 <= seconds <= 60
    assert held.json()["detail"] == f"登入失敗次數過多：請 {seconds} 秒後再試（每分鐘最多 5 次）"
    # the page says it in its form, with the same status; the address is held for every name
    token = csrf_of(client.get("/login").text)
    page = client.post("/login", data={"name": "analyst", "password": PASSWORD, "csrf_token": token})
    assert page.status_code == 429 and "登入失敗次數過多" in page.text
    assert client.get("/api/me").status_code == 401  # not logged in


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_name_is_held_from_every_address_and_an_address_for_every_name() -> None:
    clock = Clock()
    limiter = LoginLimiter(clock=clock)
    for n in range(FAILURES):
        limiter.failed("clerk", f"10.0.0.{n}")  # one guess from each of five addresses
    assert limiter.wait("Clerk ", "10.0.0.99") == 60  # the name is held, whatever the address
    assert limiter.wait("analyst", "10.0.0.99") == 0
    for n in range(FAILURES):
        limiter.failed(f"user{n}", "192.0.2.7")  # five names from one address
    assert limiter.wait("admin", "192.0.2.7") == 60
    clock.now += 30
    assert limiter.wait("admin", "192.0.2.7") == 30  # until the oldest failure leaves the minute
    clock.now += 30
    assert limiter.wait("admin", "192.0.2.7") == 0 and limiter.wait("clerk", "10.0.0.99") == 0


def test_a_right_password_clears_the_names_failures() -> None:
    limiter = LoginLimiter(clock=Clock())
    for _ in range(FAILURES - 1):
        limiter.failed("clerk", "10.0.0.1")
    limiter.succeeded("clerk")
    limiter.failed("clerk", "10.0.0.2")
    assert limiter.wait("clerk", "10.0.0.3") == 0
