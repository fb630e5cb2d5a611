"""The office's look on the pages and short emails the product makes itself: its name,
logo and colour, with a text colour that stays readable on that colour.

Bulletins carry the look through their templates; the public pages (unsubscribe,
preferences, sign-up, the consultation page...) and office_mail's short emails take it
from here, so a stakeholder sees the same office everywhere.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mailer.organisation.service import MIN_CONTRAST, check_url, contrast_with_white

DEFAULT_COLOUR = "#1d3a6e"
DARK_INK = "#1f2933"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# What a Content-Security-Policy source may name: scheme, host and port only.
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


def band(colour: str) -> tuple[str, str]:
    """The colour to paint (the default for one that is not #rrggbb) and the text colour
    on it: white, or dark where white would fall short of WCAG AA (a colour saved
    before the settings page checked it)."""
    if not _COLOUR.match(colour or ""):
        colour = DEFAULT_COLOUR
    ink = "#ffffff" if contrast_with_white(colour) >= MIN_CONTRAST else DARK_INK
    return colour.lower(), ink


def logo_url(org: Mapping[str, Any]) -> str:
    """The logo's address when it is a usable http(s) one, else ""."""
    url = str(org.get("logo_url") or "")
    return url if url and check_url(url) is None else ""


@dataclass(frozen=True)
class Branding:
    name: str
    colour: str
    ink: str
    logo_url: str = ""

    @property
    def css(self) -> str:
        """The page header's colours (the only values not in the site's stylesheet);
        buttons take the office's colour too where white text stays readable on it."""
        buttons = f":root{{--brand:{self.colour}}}" if self.ink == "#ffffff" else ""
        return (
            buttons + f".site-header{{background:{self.colour};color:{self.ink}}}"
            f".site-header .brand{{color:{self.ink}}}"
            ".brand-logo{height:2.5rem;width:auto;max-width:12rem;vertical-align:middle;"
            "margin-right:.6rem;background:#fff;padding:.15rem;border-radius:.2rem}"
            # The site's .wrap takes the main area's top padding away; under a
            # coloured band the heading needs it back.
            "main.wrap{padding-top:1.5rem}"
        )

    @property
    def css_hash(self) -> str:
        """``css`` as a Content-Security-Policy source, so the page may carry it."""
        digest = hashlib.sha256(self.css.encode()).digest()
        return "'sha256-" + base64.b64encode(digest).decode() + "'"

    @property
    def logo_origin(self) -> str:
        if not self.logo_url:
            return ""
        parts = urlsplit(self.logo_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        return origin if _ORIGIN.match(origin) else ""


def branding(org: Mapping[str, Any]) -> Branding:
    """The look of ``org`` (an OrganisationSettings snapshot)."""
    colour, ink = band(str(org.get("colour") or ""))
    return Branding(name=str(org.get("name") or ""), colour=colour, ink=ink, logo_url=logo_url(org))
