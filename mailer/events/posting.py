"""One HTTP POST to an endpoint, and what came of it in words.

Written on ``http.client`` rather than a client library so that the connection goes
to the address ``addresses.check`` just approved (the name is not resolved again: a
name that changed its answer in between cannot reach the office's network), redirects
are never followed, and no more than ``MAX_ANSWER`` bytes of the answer are read.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from mailer.events.addresses import Target

MAX_ANSWER = 2048


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer at all
    excerpt: str  # the start of the body (at most MAX_ANSWER bytes), as text
    error: str  # why it failed, in words; "" when the endpoint answered 2xx
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address
        self._tls = ssl.create_default_context()

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the name, though we connect to the address.
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _seconds(value: float) -> str:
    return f"{value:g} s"


def post(target: Target, *, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    connection: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target, timeout)
        if target.scheme == "https"
        else _PinnedHTTPConnection(target, timeout)
    )
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(MAX_ANSWER).decode("utf-8", errors="replace")
        status = response.status
    except TimeoutError:
        return Answer(None, "", f"timed out after {_seconds(timeout)}", took())
    except ConnectionRefusedError:
        return Answer(None, "", "could not connect (connection refused)", took())
    except ssl.SSLError as exc:
        return Answer(None, "", f"the secure connection failed ({exc.reason or exc})", took())
    except (http.client.HTTPException, OSError) as exc:
        what = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        return Answer(None, "", f"could not connect ({what})"[:500], took())
    finally:
        connection.close()
    if 200 <= status < 300:
        return Answer(status, excerpt, "", took())
    if 300 <= status < 400:
        error = f"answered {status}, a redirect (redirects are not followed)"
    else:
        error = f"answered {status} {response.reason}".strip()
    return Answer(status, excerpt, error[:500], took())
