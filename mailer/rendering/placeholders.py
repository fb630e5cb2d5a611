"""Personal values as markers, so a send's message is rendered and inlined once.

While a send is prepared, ``contact.name``, ``links.unsubscribe`` and the other
per-recipient values are :class:`Personal` objects that print as a marker such as
``mk7f3a9c01d2x3km``: letters and digits only, so premailer, lxml and quoted-printable
leave them whole, inside attributes as well as text. The prepared message is split at
the markers; each recipient's values are spliced in afterwards.

A template may print a personal value, or give it a default with
``{{ contact.name | fallback("colleague") }}``. It may not test one
(``{% if contact.name %}``) or transform it (``| upper``): the answer differs per
recipient, and the template ran once for all of them. Both are caught and explained.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

CONTACT_FIELDS = ("name", "email", "organisation", "role")
LINK_FIELDS = ("survey", "share", "confirm_cascade", "unsubscribe", "preferences")


class PersonalValueMisused(Exception):
    """A template tested or transformed a value that differs per recipient."""

    def __init__(self, field_name: str, what: str) -> None:
        self.field_name = field_name
        super().__init__(
            f"{field_name} is different for every recipient, so a template cannot {what} it; "
            f"print it as {{{{ {field_name} }}}} or give a default with "
            f'{{{{ {field_name} | fallback("...") }}}}'
        )


@dataclass(frozen=True)
class Slot:
    """One place a personal value goes: which value, and what to print if it is empty."""

    field: str
    fallback: str = ""

    @property
    def source(self) -> tuple[bool, str]:
        """Where the value comes from: (a contact attribute rather than a link, its name)."""
        group, _, name = self.field.partition(".")
        return group == "contact", name


@dataclass
class Markers:
    """The markers of one rendering: a random nonce, and the slots it has handed out."""

    nonce: str = field(default_factory=lambda: secrets.token_hex(5))
    slots: list[Slot] = field(default_factory=list)
    _index: dict[Slot, int] = field(default_factory=dict)

    def marker(self, slot: Slot) -> str:
        index = self._index.get(slot)
        if index is None:
            index = self._index[slot] = len(self.slots)
            self.slots.append(slot)
        return f"mk{self.nonce}x{index}km"

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(f"mk{self.nonce}x(\\d+)km")

    def split(self, text: str) -> list[str | Slot]:
        """``text`` as static strings and the slots between them."""
        parts: list[str | Slot] = []
        position = 0
        for match in self.pattern.finditer(text):
            parts.append(text[position : match.start()])
            parts.append(self.slots[int(match.group(1))])
            position = match.end()
        parts.append(text[position:])
        mangled = re.search(self.nonce, self.pattern.sub("", text), re.IGNORECASE)
        if mangled:
            raise PersonalValueMisused(self._field_near(text, mangled.start()), "change")
        return parts

    def _field_near(self, text: str, at: int) -> str:
        found = re.search(r"x(\d+)", text[at : at + 20], re.IGNORECASE)
        if found and int(found.group(1)) < len(self.slots):
            return self.slots[int(found.group(1))].field
        return "a personal value"


class Personal:
    """A per-recipient value while a send is rendered: prints as its marker."""

    __slots__ = ("_markers", "_slot")

    def __init__(self, markers: Markers, slot: Slot) -> None:
        self._markers = markers
        self._slot = slot

    def __str__(self) -> str:
        return self._markers.marker(self._slot)

    def __html__(self) -> str:
        return str(self)

    def __bool__(self) -> bool:
        raise PersonalValueMisused(self._slot.field, "test")

    def __len__(self) -> int:
        raise PersonalValueMisused(self._slot.field, "measure")

    def __iter__(self) -> Any:
        raise PersonalValueMisused(self._slot.field, "loop over")

    def __eq__(self, other: object) -> bool:
        raise PersonalValueMisused(self._slot.field, "compare")

    # Unhashable, said outright (typeshed types __hash__ as a method, hence the ignore).
    __hash__ = None  # type: ignore[assignment]

    def with_fallback(self, text: str) -> Personal:
        return Personal(self._markers, Slot(self._slot.field, text))


def fallback(value: Any, default: str = "") -> Any:
    """Jinja filter: ``value``, or ``default`` where it is empty (per recipient)."""
    if isinstance(value, Personal):
        return value.with_fallback(str(default))
    return value if value else default


def personal_namespace(markers: Markers) -> dict[str, dict[str, Personal]]:
    """``contact`` and ``links`` as dictionaries of markers, for preparing a send."""
    return {
        "contact": {name: Personal(markers, Slot(f"contact.{name}")) for name in CONTACT_FIELDS},
        "links": {name: Personal(markers, Slot(f"links.{name}")) for name in LINK_FIELDS},
    }
