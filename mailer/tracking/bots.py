"""Telling people from machines, without storing anything about either.

Mail security scanners (Microsoft Safe Links, Proofpoint, Mimecast, Barracuda), link
previewers and crawlers open links before, or instead of, the person. A hit is not
counted as a person when it is a HEAD request, when its user agent names a known
scanner or library, or when the same visitor hits the same link again within
REPEAT_WINDOW. "The same visitor" is a keyed hash of address and user agent held in
this process's memory for that window only: nothing about it reaches the database.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable

REPEAT_WINDOW = 60.0  # seconds
_MAX_REMEMBERED = 50_000

SCANNER_AGENTS = re.compile(
    r"bot\b|bot/|crawler|spider|slurp|preview|scanner|scan\b|safelinks|safe links|"
    r"proofpoint|mimecast|barracuda|forcepoint|symantec|trendmicro|sophos|fortiguard|"
    r"zscaler|checkpoint|urldefense|microsoft office|ms-office|outlook-ios|"
    r"curl/|wget/|python-requests|python-urllib|aiohttp|go-http-client|okhttp|java/|"
    r"libwww|httpclient|headlesschrome|phantomjs|facebookexternalhit|slackbot|"
    r"twitterbot|linkedinbot|whatsapp|telegrambot|discordbot|skypeuripreview",
    re.IGNORECASE,
)


class Recent:
    """Who hit what in the last REPEAT_WINDOW seconds, as keyed hashes in memory."""

    def __init__(
        self, window: float = REPEAT_WINDOW, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window = window
        self.clock = clock
        self._key = secrets.token_bytes(16)  # new each start: the hashes mean nothing later
        self._seen: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def repeated(self, visitor: str, target: str) -> bool:
        digest = hmac.new(self._key, f"{visitor}\0{target}".encode(), hashlib.sha256).digest()
        now = self.clock()
        with self._lock:
            if len(self._seen) > _MAX_REMEMBERED:
                self._seen = {k: t for k, t in self._seen.items() if now - t < self.window}
            last = self._seen.get(digest)
            self._seen[digest] = now
        return last is not None and now - last < self.window


RECENT = Recent()


def is_person(*, method: str, user_agent: str, visitor: str, target: str) -> bool:
    """Whether to count this hit as a person."""
    if method != "GET":
        return False
    if not user_agent.strip() or SCANNER_AGENTS.search(user_agent):
        return False
    return not RECENT.repeated(visitor, target)
