"""``parse`` gives a Report for anything with a header block, and says Unreadable for
the rest: never another exception, never a reader tripping over its input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer.bounces.parsing import Unreadable, parse
from mailer.bounces.reports import REPORT_KINDS

from .fixtures import BOUNCE_ADDRESS, MESSAGES

FIXTURES = sorted(path.read_bytes() for path in MESSAGES.glob("*.msg") if path.stat().st_size)
# What breaks parsers: line ends, MIME boundaries, encoded words, field separators.
NASTY = [
    b"\n",
    b"\r\n",
    b"\n\n",
    b"--",
    b":",
    b";",
    b"<",
    b">",
    b"=?utf-8?q?",
    b"=?x-unknown?b?",
    b"?=",
    b"\x00",
    b"\xff\xfe",
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="',
    b"Content-Type: message/delivery-status\n\n",
    b"Content-Type: message/feedback-report\n\n",
    b"Content-Type: message/rfc822\n\n",
    b"Content-Transfer-Encoding: base64\n",
    b'charset="no-such-charset"',
    b"Action: failed\nStatus: 5.",
    b"Final-Recipient: rfc822;",
]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _never_trips(data: bytes) -> None:
    try:
        report = parse(data, source="pipe", bounce_address=BOUNCE_ADDRESS)
    except Unreadable:
        return
    assert report.kind in REPORT_KINDS
    assert "a reader failed" not in report.detail
    assert report.raw == data
    assert "\n" not in report.subject and "\r" not in report.subject
    for failure in report.failures:
        assert "\n" not in failure.address and "\n" not in failure.diagnostic


@SETTINGS
@given(st.binary(max_size=4000))
def test_random_bytes(data: bytes) -> None:
    _never_trips(data)


@SETTINGS
@given(st.lists(st.sampled_from([*NASTY, b"a", b"X-Header: v", b" "]), max_size=200))
def test_random_pieces_of_messages(pieces: list[bytes]) -> None:
    _never_trips(b"".join(pieces))


def _mutate(data: st.DataObject) -> bytes:
    message = bytearray(data.draw(st.sampled_from(FIXTURES)))
    for _ in range(data.draw(st.integers(min_value=1, max_value=12))):
        where = data.draw(st.integers(min_value=0, max_value=len(message)))
        action = data.draw(st.sampled_from(["insert", "delete", "flip", "cut"]))
        if action == "insert":
            message[where:where] = data.draw(st.sampled_from(NASTY) | st.binary(max_size=20))
        elif action == "delete":
            del message[where : where + data.draw(st.integers(min_value=1, max_value=200))]
        elif action == "flip" and where < len(message):
            message[where] = data.draw(st.integers(min_value=0, max_value=255))
        elif action == "cut":
            del message[where:]
    return bytes(message)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_fixtures(data: st.DataObject) -> None:
    _never_trips(_mutate(data))


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_many_mutated_fixtures(data: st.DataObject) -> None:
    _never_trips(_mutate(data))
