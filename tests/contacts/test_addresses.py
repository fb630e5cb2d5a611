"""The memoised validator must say exactly what email-validator says, address by address."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email

from contacts.addresses import AddressValidator

AWKWARD = [
    "alice@example.org",
    "Alice.Smith@Example.ORG",
    "bob+tag@example.org",
    "o'brien@example.org",
    "-dash@example.org",
    "x@example.org",
    "a..b@example.org",
    ".lead@example.org",
    "trail.@example.org",
    '"quoted"@example.org',
    "δοκιμή@example.org",
    "user@münchen.example",
    "user@MÜNCHEN.example",
    "no-at-sign",
    "two@@example.org",
    "user@localhost",
    "user@example.test",
    "user@example.invalid",
    "user@-bad.example.org",
    "user@bad_domain.example.org",
    "user@example",
    "a" * 64 + "@example.org",
    "a" * 65 + "@example.org",
    "a@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".org",
    "x" * 60 + "@" + "y" * 63 + "." + "z" * 63 + "." + "w" * 60 + ".org",
    "space in@example.org",
    "tab\t@example.org",
    "user@example.org.",
    "user@[127.0.0.1]",
    "ab{c}@example.org",
    "user@xn--mnchen-3ya.example",
]


def reference(address: str) -> str:
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        return f"error: {exc}"


def memoised(validator: AddressValidator, address: str) -> str:
    try:
        return validator.normalise(address)
    except EmailNotValidError as exc:
        return f"error: {exc}"


@pytest.mark.parametrize("order", ["forward", "backward"])
def test_same_answers_as_email_validator(order: str) -> None:
    validator = AddressValidator()
    addresses = AWKWARD if order == "forward" else AWKWARD[::-1]
    # Twice over: the second pass runs with every domain already remembered.
    for address in [*addresses, *addresses]:
        assert memoised(validator, address) == reference(address), address
