"""The blocks a template adds around the writer's words, switched off or reworded per
bulletin.

A template (the shipped Stakeholder Special, or an office's own version) wraps the body
in blocks of its own: a greeting, the survey's call to action, the key date, the request
to pass the message on, the sign-off and "stay in touch". A writer whose words already
say one of these switches the template's off, or rewords it, for this bulletin only. The
choices are stored on the bulletin (``Bulletin.blocks``) and frozen with its words;
templates read them as ``blocks.<name>.on`` and ``blocks.<name>.text`` ("" means the
template's own wording).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GREETING = "greeting"
SURVEY = "survey"
KEY_DATE = "key_date"
CASCADE = "cascade"
SIGN_OFF = "sign_off"
STAY_IN_TOUCH = "stay_in_touch"


@dataclass(frozen=True)
class BlockKind:
    name: str
    label: str
    # What the template says when not reworded, as the writer is told it.
    default_words: str
    # Only in messages about a consultation (launch, reminder, close notice).
    consultation_only: bool = False


BLOCKS: tuple[BlockKind, ...] = (
    BlockKind(GREETING, "Greeting", "Dear <name>, (or Dear colleague,)"),
    BlockKind(SURVEY, "Survey call to action", "Have your say: a button to the survey", True),
    BlockKind(KEY_DATE, "Key date", "The consultation closes on <date>", True),
    BlockKind(CASCADE, "Request to pass it on", "Please pass this on to your networks"),
    BlockKind(SIGN_OFF, "Sign-off", "The signatory's name and title"),
    BlockKind(STAY_IN_TOUCH, "Stay in touch", "Emergency numbers, website and social accounts"),
)
NAMES = tuple(block.name for block in BLOCKS)
KIND_BY_NAME = {block.name: block for block in BLOCKS}
MAX_TEXT = 500


def clean(
    raw: Mapping[str, Any] | None, *, limit: int | None = MAX_TEXT
) -> dict[str, dict[str, Any]]:
    """What is stored: only known blocks, only what differs from the template's own
    (switched off, or reworded); text trimmed, one paragraph, at most ``limit``
    characters (None: as typed, for the form to refuse and show again, ``too_long``)."""
    stored: dict[str, dict[str, Any]] = {}
    for name in NAMES:
        choice = (raw or {}).get(name)
        if not isinstance(choice, Mapping):
            continue
        entry: dict[str, Any] = {}
        if choice.get("on") is False:
            entry["on"] = False
        text = " ".join(str(choice.get("text") or "").split())[:limit]
        if text:
            entry["text"] = text
        if entry:
            stored[name] = entry
    return stored


def for_template(
    stored: Mapping[str, Any] | None,
    *,
    about_consultation: bool = True,
    limit: int | None = MAX_TEXT,
) -> dict[str, dict[str, Any]]:
    """The ``blocks`` a template sees: every block, on unless switched off, with its
    rewording ("" for the template's own words). Templates written before blocks
    existed simply ignore it.

    ``about_consultation`` False (a message about no consultation, or one not chosen
    yet): the survey and key date blocks are off, as there are no such facts to show."""
    chosen = clean(stored, limit=limit)
    return {
        name: {
            "on": chosen.get(name, {}).get("on", True)
            and (about_consultation or not KIND_BY_NAME[name].consultation_only),
            "text": chosen.get(name, {}).get("text", ""),
        }
        for name in NAMES
    }


def relevant(*, about_consultation: bool) -> tuple[BlockKind, ...]:
    """The blocks the writer is offered: survey and key date only for a message about a
    consultation."""
    return tuple(b for b in BLOCKS if about_consultation or not b.consultation_only)


def from_form(
    form: Mapping[str, str], *, shown: Sequence[str] = NAMES, limit: int | None = MAX_TEXT
) -> dict[str, Any]:
    """The choices the compose form sends for the blocks it showed (``block-NAME-on``,
    a checkbox, and ``block-NAME-text``), cleaned. A block the form did not show keeps
    nothing here; the caller merges with what is stored (``merge``)."""
    raw: dict[str, Any] = {}
    for name in shown:
        raw[name] = {
            "on": form.get(f"block-{name}-on") == "on",
            "text": form.get(f"block-{name}-text", ""),
        }
    return clean(raw, limit=limit)


def merge(
    stored: Mapping[str, Any] | None,
    chosen: Mapping[str, Any],
    *,
    shown: Sequence[str],
    limit: int | None = MAX_TEXT,
) -> dict[str, dict[str, Any]]:
    """The stored choices with those of the blocks the form showed replaced: a block
    hidden from the form (the survey, before a consultation is chosen) keeps its choice."""
    kept = {name: value for name, value in clean(stored).items() if name not in shown}
    return clean({**kept, **chosen}, limit=limit)


def too_long(chosen: Mapping[str, Any] | None) -> dict[str, str]:
    """The form's field (``block-NAME-text``) -> what is wrong, for each rewording over
    MAX_TEXT: refused rather than cut, so nothing typed is lost."""
    errors: dict[str, str] = {}
    for name, choice in clean(chosen, limit=None).items():
        length = len(choice.get("text", ""))
        if length > MAX_TEXT:
            errors[f"block-{name}-text"] = (
                f"Your words for the {KIND_BY_NAME[name].label.lower()} are {length:,} "
                f"characters long; use at most {MAX_TEXT}."
            )
    return errors
