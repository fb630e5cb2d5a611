"""The signed link tokens: what itsdangerous would make, readable, and unforgeable."""

from __future__ import annotations

import secrets

import pytest
from flask import Flask
from itsdangerous import URLSafeSerializer

from contacts import tokens
from mailer.config import Config
from mailer.delivery.worker import secret_keys_for

KEYS = ["current-" + "k" * 40, "older-" + "o" * 40]
LINK_KEY = "Ab-_0123xyzQ"  # what contacts.models.new_link_key makes


@pytest.mark.parametrize("purpose", [tokens.UNSUBSCRIBE, tokens.PREFERENCES])
@pytest.mark.parametrize(
    ("contact_id", "send_id"),
    # The last: repetitive enough that itsdangerous compresses it.
    [(1, None), (1, 1), (987654321, 42), (10**15, 10**12), (11111111111111, 11111111111111)],
)
def test_tokens_are_what_itsdangerous_makes(purpose, contact_id, send_id):
    # The fast path must stay byte-compatible: links already in inboxes were made by it.
    payload = [contact_id] if send_id is None else [contact_id, send_id]
    expected = URLSafeSerializer(list(reversed(KEYS)), salt=f"stakeholder-mailer.{purpose}").dumps(
        payload
    )
    made = tokens.make(purpose, contact_id=contact_id, key=None, send_id=send_id, keys=KEYS)
    assert made == expected
    assert tokens.read(purpose, made, keys=KEYS) == tokens.LinkToken(contact_id, send_id)


def test_short_payloads_skip_zlib_only_where_it_could_not_win():
    # make() asks zlib only from 12 bytes of payload on; the most compressible ids
    # (one digit repeated) around that length must still come out as itsdangerous's.
    serializer = URLSafeSerializer(list(reversed(KEYS)), salt="stakeholder-mailer.unsubscribe")
    for digits in range(1, 16):
        for digit in "123456789":
            contact_id = int(digit * digits)
            for send_id in (None, 1, 11, int(digit * digits)):
                payload = [contact_id] if send_id is None else [contact_id, send_id]
                made = tokens.make(
                    tokens.UNSUBSCRIBE, contact_id=contact_id, key=None, send_id=send_id, keys=KEYS
                )
                assert made == serializer.dumps(payload), payload


def test_a_token_signed_with_an_old_key_still_reads_after_rotation():
    old = tokens.make(tokens.UNSUBSCRIBE, contact_id=7, key=LINK_KEY, send_id=3, keys=KEYS[1:])
    assert tokens.read(tokens.UNSUBSCRIBE, old, keys=KEYS) == tokens.LinkToken(7, 3, LINK_KEY)
    # ...and a token signed with the current key does not read under an unrelated key.
    current = tokens.make(tokens.UNSUBSCRIBE, contact_id=7, key=LINK_KEY, send_id=3, keys=KEYS)
    assert tokens.read(tokens.UNSUBSCRIBE, current, keys=["unrelated-" + "u" * 40]) is None


def test_a_token_for_one_purpose_or_altered_is_refused():
    token = tokens.make(tokens.UNSUBSCRIBE, contact_id=7, key=LINK_KEY, send_id=3, keys=KEYS)
    assert tokens.read(tokens.PREFERENCES, token, keys=KEYS) is None
    value, _, signature = token.rpartition(".")
    forged = tokens.make(tokens.UNSUBSCRIBE, contact_id=8, key=LINK_KEY, send_id=3, keys=KEYS)
    assert tokens.read(tokens.UNSUBSCRIBE, f"{forged.split('.')[0]}.{signature}", keys=KEYS) is None
    assert tokens.read(tokens.UNSUBSCRIBE, token[:-2], keys=KEYS) is None
    assert tokens.read(tokens.UNSUBSCRIBE, "", keys=KEYS) is None
    assert tokens.read(tokens.UNSUBSCRIBE, "x" * 500, keys=KEYS) is None
    assert value  # the token has a payload part before its signature


@pytest.mark.parametrize("purpose", [tokens.UNSUBSCRIBE, tokens.PREFERENCES])
def test_keyed_tokens_are_what_itsdangerous_makes_and_reads(purpose):
    # Never compressed (zlib costs more than the rest of a token), which itsdangerous
    # reads either way; for payloads it would not compress, byte for byte its own.
    serializer = URLSafeSerializer(list(reversed(KEYS)), salt=f"stakeholder-mailer.{purpose}")
    for contact_id, send_id in [(1, None), (1, 1), (987654321, 42), (10**15, 10**12)]:
        for _ in range(50):
            key = secrets.token_urlsafe(9)
            payload = [contact_id, key] if send_id is None else [contact_id, send_id, key]
            made = tokens.make(purpose, contact_id=contact_id, key=key, send_id=send_id, keys=KEYS)
            assert serializer.loads(made) == payload
            expected = serializer.dumps(payload)
            if not expected.startswith("."):
                assert made == expected
            assert tokens.read(purpose, made, keys=KEYS) == tokens.LinkToken(
                contact_id, send_id, key
            )


def test_a_token_names_its_contact_s_key_and_nothing_else_reads_as_one():
    keyed = tokens.make(tokens.PREFERENCES, contact_id=7, key=LINK_KEY, keys=KEYS)
    assert tokens.read(tokens.PREFERENCES, keyed, keys=KEYS) == tokens.LinkToken(7, None, LINK_KEY)
    legacy = tokens.make(tokens.PREFERENCES, contact_id=7, key=None, keys=KEYS)
    assert tokens.read(tokens.PREFERENCES, legacy, keys=KEYS).key is None
    serializer = URLSafeSerializer(list(reversed(KEYS)), salt="stakeholder-mailer.preferences")
    for odd in (["key-only-here"], [7, "bad key!"], [7, 3, 4, "Ab-_0123xyzQ"], [7, True], []):
        assert tokens.read(tokens.PREFERENCES, serializer.dumps(odd), keys=KEYS) is None
    with pytest.raises(ValueError):
        tokens.make(tokens.PREFERENCES, contact_id=7, key='"injected', keys=KEYS)


def test_an_empty_or_short_secret_key_is_refused():
    for keys in (["short"], [""], [KEYS[0], "x" * 31]):
        with pytest.raises(ValueError, match="32 characters"):
            tokens.make(tokens.UNSUBSCRIBE, contact_id=7, key=LINK_KEY, keys=keys)
        with pytest.raises(ValueError, match="32 characters"):
            tokens.read(tokens.UNSUBSCRIBE, "e30.abc", keys=keys)


def test_keys_are_always_passed_never_looked_up() -> None:
    # No hidden fallback to the current app: without keys there is no token.
    with pytest.raises(TypeError):
        tokens.make(tokens.UNSUBSCRIBE, contact_id=7, key=LINK_KEY)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        tokens.read(tokens.UNSUBSCRIBE, "x.y")  # type: ignore[call-arg]


def test_the_app_and_the_workers_sign_with_the_same_keys(app: Flask, config: Config) -> None:
    assert tokens.secret_keys(app.config) == secret_keys_for(config)
