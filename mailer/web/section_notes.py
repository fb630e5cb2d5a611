"""Messages that belong to one part of a page (the Documents section, Send a test), and
what was typed there, carried over a redirect.

A flash message shows at the top of the next page, off-screen when the page lands on
the section the action was about; a note is shown inside that section, where the eye
and the screen reader already are. What was typed in a refused form (a document's
title, its accessible version's address) is carried the same way, so the form shows it
again. Both live in the session, are read once and are small (a few lines of text).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, session

NOTES_KEY = "_section_notes"
KEPT_KEY = "_section_kept"
MAX_KEPT_CHARS = 2000  # a title or an address; never a whole document in the cookie


@dataclass(frozen=True)
class Note:
    message: str
    category: str  # "success", "warning" or "error"

    @property
    def role(self) -> str:
        """An error interrupts (alert); anything else is announced politely (status)."""
        return "alert" if self.category == "error" else "status"


def note(section: str, message: str, *, category: str = "success") -> None:
    """Show ``message`` in ``section`` of the next page that shows that section."""
    notes = dict(session.get(NOTES_KEY, {}))
    notes[section] = [*notes.get(section, []), [category, message]]
    session[NOTES_KEY] = notes


def keep(section: str, values: dict[str, str]) -> None:
    """Fill ``section``'s form with ``values`` the next time it is shown."""
    kept = dict(session.get(KEPT_KEY, {}))
    kept[section] = {name: value[:MAX_KEPT_CHARS] for name, value in values.items()}
    session[KEPT_KEY] = kept


def notes_for(section: str) -> list[Note]:
    """The notes for ``section``, once: they are gone from the session after this."""
    notes = dict(session.get(NOTES_KEY, {}))
    found = notes.pop(section, [])
    if found:
        session[NOTES_KEY] = notes
    return [Note(message=str(message), category=str(category)) for category, message in found]


def kept_for(section: str) -> dict[str, str]:
    """What was typed in ``section``'s form before a refusal, once; {} if nothing."""
    kept = dict(session.get(KEPT_KEY, {}))
    found = kept.pop(section, {})
    if found:
        session[KEPT_KEY] = kept
    return {str(name): str(value) for name, value in found.items()}


def register(bp: Blueprint) -> None:
    """Offer ``section_notes(name)`` and ``section_kept(name)`` to every template (a
    blueprint that uses them registers them; registering twice is harmless)."""
    bp.add_app_template_global(notes_for, "section_notes")
    bp.add_app_template_global(kept_for, "section_kept")
