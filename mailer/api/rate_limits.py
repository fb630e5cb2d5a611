"""Per-key rate limits: ``[api] rate_limit`` requests a minute for each API key.

Counted in memory, in each web process: two ``mailer web`` processes behind a proxy
let a key make up to twice the limit (the limit protects the server from a runaway
script, it is not a quota to bill). The window is fixed: it opens with a key's first
request and a full allowance comes back when it ends.

Every answer to a request made with a usable key says where the key stands, in the
header fields of draft-ietf-httpapi-ratelimit-headers (draft 10):

    RateLimit-Policy: "default";q=120;w=60     the quota: q requests per w seconds
    RateLimit: "default";r=17;t=42             r requests left, for t more seconds

A request over the limit is answered 429, a problem with ``Retry-After`` (seconds).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, g

from mailer.api.problems import ApiProblem

WINDOW_SECONDS = 60
POLICY = "default"
EXTENSION = "mailer.api.rate_limits"


@dataclass(frozen=True)
class Standing:
    """Where one key stands after a request was counted."""

    quota: int
    remaining: int
    reset_seconds: int  # until the window ends and the allowance is whole again
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Policy": f'"{POLICY}";q={self.quota};w={WINDOW_SECONDS}',
            "RateLimit": f'"{POLICY}";r={self.remaining};t={self.reset_seconds}',
        }


class Limiter:
    """A fixed window per key, safe to share between the threads of a web process
    (waitress answers requests on several)."""

    def __init__(
        self,
        quota: int,
        *,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quota = quota
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        # key id -> (when its window opened, requests counted in it)
        self._windows: dict[int, tuple[float, int]] = {}

    def count(self, key_id: int) -> Standing:
        """Count one request of ``key_id``; a request over the quota is not allowed
        (and not counted, so refused retries do not push the window further)."""
        now = self._clock()
        with self._lock:
            opened, used = self._windows.get(key_id, (now, 0))
            if now - opened >= self.window:
                opened, used = now, 0
            allowed = used < self.quota
            if allowed:
                used += 1
            self._windows[key_id] = (opened, used)
        reset = max(1, math.ceil(opened + self.window - now))
        return Standing(
            quota=self.quota,
            remaining=max(0, self.quota - used),
            reset_seconds=reset,
            allowed=allowed,
        )


def init_app(app: Flask, quota: int) -> None:
    app.extensions[EXTENSION] = Limiter(quota)
    app.after_request(_add_headers)


def check(key_id: int) -> None:
    """Count a request of the key; 429 when it is over the limit. The headers are
    added to whatever the request is answered (see ``_add_headers``)."""
    limiter: Limiter = current_app.extensions[EXTENSION]
    standing = limiter.count(key_id)
    g.api_rate_standing = standing
    if not standing.allowed:
        raise ApiProblem(
            429,
            f"This key has made its {standing.quota} requests for this minute: "
            f"try again in {standing.reset_seconds} seconds.",
            headers={"Retry-After": str(standing.reset_seconds)},
        )


def _add_headers(response: Response) -> Response:
    standing = g.get("api_rate_standing")
    if isinstance(standing, Standing):
        response.headers.update(standing.headers())
    return response
