"""Organisation settings: checked, saved and audited in one place.

Every template prints these values, several of them into attributes and the banner's
style, so they are checked strictly: URLs are http(s) only, the brand colour is a hex
colour that white text stays readable on (WCAG AA, 4.5:1), and no value has a line break.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.organisation.models import OrganisationSettings
from mailer.rendering.mime import one_line

TEXT_FIELDS = {
    "name": 200,
    "phone": 60,
    "non_emergency": 60,
    "emergency": 60,
    "postal_address": 500,
    "signatory": 200,
    "signatory_title": 200,
}
URL_FIELDS = ("logo_url", "website", "register_url")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MIN_CONTRAST = 4.5
# What a new installation starts with, until an admin fills in the settings page.
DEFAULT_ORGANISATION = {
    "name": "Office of the Police and Crime Commissioner",
    "colour": "#1d3a6e",
    "emergency": "999",
    "non_emergency": "101",
}


@dataclass
class SettingsInvalid(Exception):
    """Field name -> what is wrong with it, for the form."""

    errors: dict[str, str]


def get(session: Session) -> OrganisationSettings:
    settings = session.get(OrganisationSettings, 1)
    if settings is None:
        raise LookupError("organisation settings are missing: run `mailer init`")
    return settings


def ensure_settings(session: Session) -> None:
    """Create the settings row with the defaults when there is none (``mailer init``)."""
    if session.get(OrganisationSettings, 1) is None:
        session.add(OrganisationSettings(id=1, social=[], **DEFAULT_ORGANISATION))


def contrast_with_white(colour: str) -> float:
    """WCAG contrast ratio of white text on ``colour`` (#rrggbb)."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (luminance + 0.05)


def check_url(value: str) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        return "Give a full web address starting with https://"
    return None


def parse_social(text: str) -> tuple[list[dict[str, str]], str | None]:
    """Lines of ``Name https://address`` -> [{"name", "url"}], or the first problem."""
    accounts: list[dict[str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = one_line(raw)
        if not line:
            continue
        name, _, url = line.rpartition(" ")
        if not name or check_url(url):
            return accounts, (
                f"Line {number}: write the account's name, a space, then its address, "
                "such as: Facebook https://www.facebook.com/yourpage"
            )
        accounts.append({"name": name[:60], "url": url})
    return accounts, None


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The names of the snapshot values that differ (a value may come or go: the from
    address is in a snapshot only when chosen)."""
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def check_from_address(value: str, *, allowed: Sequence[str]) -> tuple[str, str | None]:
    """The from address to store ("" for the first of ``allowed``, the operator's
    ``from_address``, which is also what an empty value means), or why it cannot be."""
    chosen = value.strip()
    if not chosen or (allowed and chosen.casefold() == allowed[0].casefold()):
        return "", None
    for address in allowed:
        if chosen.casefold() == address.casefold():
            return address, None
    return "", (
        f"{chosen} is not one of the addresses messages may come from. Choose one from "
        "the list; to add another, ask whoever runs the mailer."
    )


def save(
    session: Session,
    values: dict[str, Any],
    *,
    by: User,
    allowed_from: Sequence[str] = (),
) -> OrganisationSettings:
    """Check every value, then save them all (or nothing) and audit what changed.

    ``allowed_from``: the addresses the operator allows messages to come from
    (``[mail] allowed_addresses``, its default first); ``values["from_address"]`` must
    be one of them."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, limit in TEXT_FIELDS.items():
        value = one_line(str(values.get(name, "")))
        if len(value) > limit:
            errors[name] = f"Use at most {limit} characters."
        clean[name] = value
    if not clean["name"]:
        errors["name"] = "Give the organisation's name: every message shows it."
    for name in URL_FIELDS:
        value = one_line(str(values.get(name, "")))
        problem = check_url(value)
        if problem:
            errors[name] = problem
        clean[name] = value
    colour = one_line(str(values.get("colour", "")))
    if not _COLOUR.match(colour):
        errors["colour"] = "Give a colour as # and six hexadecimal digits, such as #1d3a6e."
    elif contrast_with_white(colour) < MIN_CONTRAST:
        errors["colour"] = (
            f"White text on {colour} has a contrast of only "
            f"{contrast_with_white(colour):.1f}:1; choose a darker colour (at least "
            f"{MIN_CONTRAST}:1), so the banner stays readable."
        )
    clean["colour"] = colour.lower()
    email = one_line(str(values.get("email", "")))
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            errors["email"] = str(exc)
    clean["email"] = email
    clean["social"], problem = parse_social(str(values.get("social", "")))
    if problem:
        errors["social"] = problem
    from_address = one_line(str(values.get("from_address", "")))
    clean["from_address"], problem = check_from_address(from_address, allowed=allowed_from)
    if problem:
        errors["from_address"] = problem
    if errors:
        raise SettingsInvalid(errors)

    settings = get(session)
    before = settings.snapshot()
    for name, value in clean.items():
        setattr(settings, name, value)
    changed = changed_fields(before, settings.snapshot())
    if changed:
        audit.record(
            session,
            actions.ORGANISATION_SETTINGS_CHANGED,
            actor=by,
            target_type="organisation",
            target_id=1,
            summary="Changed organisation settings: " + ", ".join(changed),
        )
    return settings
