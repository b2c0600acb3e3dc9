"""Log-in rate limiting: after FAILURES wrong log-ins within WINDOW_S seconds, for a user name or from a
client address, further tries for it are refused (429) until the oldest failure leaves the window.

In memory, per server process: a restart forgets, and several worker processes each count
apart (docs/web.md#log-in-rate-limit). Both keys count: the name stops guessing one account's
password from many addresses, the address stops trying many names from one. A right password
clears its name's failures; the address keeps its own. The client address is the socket's peer
(`gongwen serve` does not trust X-Forwarded-For): behind a reverse proxy every client is the
proxy's address, and the name's limit still holds.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import Request

from pipeline.web.auth import archive_of
from pipeline.web.users import Account, authenticate

FAILURES = 5
WINDOW_S = 60.0
MAX_KEYS = 100_000  # past this many names and addresses tracked, those with no recent failure are dropped


class LoginLimiter:
    """Failed log-ins per user name and per client address, in a sliding window."""

    def __init__(self, failures: int = FAILURES, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failures, self.window_s, self.clock = failures, window_s, clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(name: str, address: str | None) -> list[str]:
        keys = [f"name:{name.strip().casefold()}"]
        if address:
            keys.append(f"addr:{address}")
        return keys

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._seen.get(key)
        if times is None:
            return deque()
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if not times:
            del self._seen[key]
        return times

    def wait(self, name: str, address: str | None) -> int:
        """Seconds until `name` from `address` may try again; 0: now."""
        now = self.clock()
        with self._lock:
            waits = [self.window_s - (now - t[0]) for k in self._keys(name, address)
                     if len(t := self._recent(k, now)) >= self.failures]
        return max(1, int(max(waits) + 0.999)) if waits else 0

    def failed(self, name: str, address: str | None) -> None:
        now = self.clock()
        with self._lock:
            if len(self._seen) >= MAX_KEYS:
                for key in list(self._seen):
                    self._recent(key, now)
            for key in self._keys(name, address):
                times = self._recent(key, now)
                times.append(now)
                self._seen[key] = times

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._seen.pop(self._keys(name, None)[0], None)


def message(seconds: int) -> str:
    return f"登入失敗次數過多：請 {seconds} 秒後再試（每分鐘最多 {FAILURES} 次）"


class TooManyLogins(Exception):
    """Too many wrong log-ins for this name or from this address: 429, try again in `seconds`."""

    def __init__(self, seconds: int) -> None:
        super().__init__(message(seconds))
        self.seconds = seconds


def authenticate_limited(request: Request, name: str, password: str) -> Account | None:
    """`authenticate`, counted: TooManyLogins, without checking the password, while the name or address is held."""
    limiter: LoginLimiter = request.app.state.login_limiter
    address = request.client.host if request.client else None
    wait = limiter.wait(name, address)
    if wait:
        raise TooManyLogins(wait)
    account = authenticate(archive_of(request), name, password)
    if account is None:
        limiter.failed(name, address)
    else:
        limiter.succeeded(name)
    return account
