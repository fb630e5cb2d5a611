"""The signed token of a bounce address (VERP) and of a mailto: unsubscribe."""

from __future__ import annotations

import pytest

from mailer.delivery import verp

KEYS = ["the-secret-key-" + "k" * 32]


@pytest.mark.parametrize("delivery_id", [0, 1, 35, 36, 123_456_789, 2**53])
@pytest.mark.parametrize("send_id", [None, 1, 99_999])
def test_a_token_reads_back_to_its_delivery_and_send(delivery_id: int, send_id: int | None) -> None:
    token = verp.make_token(verp.BOUNCE, delivery_id, keys=KEYS, send_id=send_id)
    assert token == token.lower() and len(f"bounces+{token}") <= 64
    assert verp.read_token(token, keys=KEYS) == verp.Token(verp.BOUNCE, delivery_id, send_id)
    assert verp.read_token(token.upper(), keys=KEYS) is not None  # case folded in transit
    assert verp.read_token(token, keys=["another key"]) is None


def test_the_workers_fast_envelope_sender_is_the_same_address() -> None:
    senders = verp.EnvelopeSenders("bounces@example.org", keys=KEYS)
    for delivery_id, send_id in [(1, 1), (36, 7), (987_654_321, 4321)]:
        expected = verp.envelope_sender(
            "bounces@example.org", delivery_id, keys=KEYS, send_id=send_id
        )
        assert senders(delivery_id, send_id) == expected
        assert verp.token_in([expected], "Bounces@Example.org") == expected[8:].split("@")[0]


def test_a_token_cannot_be_moved_to_another_delivery_or_send() -> None:
    token = verp.make_token(verp.BOUNCE, 1234, keys=KEYS, send_id=7)
    head, send, mac = token.split("-")
    delivery = head[1:]
    assert verp.read_token(f"d{delivery}-{mac}", keys=KEYS) is None  # send dropped
    assert verp.read_token(f"d{delivery}-8-{mac}", keys=KEYS) is None
    assert verp.read_token(f"u{delivery}-{send}-{mac}", keys=KEYS) is None
