"""The compose form's words, posted with another action of the edit page (Attach, Send
a test): saved first, as Save saves them, so nothing typed is lost; or, when they
cannot be saved, the edit page again with them as typed."""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue

from mailer.bulletins import compose
from mailer.bulletins.models import Bulletin
from mailer.rendering.mime import one_line
from mailer.web import inputs, section_notes
from scheduler import edits


def words_differ(bulletin: Bulletin, draft: compose.Draft) -> bool:
    """Whether the typed words are not what is saved, read as Save reads them
    (one-line subject and preheader, the browser's CRLF line ends)."""
    return (
        one_line(draft.subject) != bulletin.subject
        or one_line(draft.preheader) != bulletin.preheader
        or draft.body_markdown.replace("\r\n", "\n") != bulletin.body_markdown
        or (draft.template_id is not None and draft.template_id != bulletin.template_id)
        or bool(draft.link_documents) != bool(bulletin.link_documents)
    )


def save_first(bulletin: Bulletin, *, section: str, action: str) -> ResponseReturnValue | None:
    """Save the compose form's fields posted with an action (Attach, Send a test), as
    Save does. Returns None to go on, or the edit page to show instead: the words could
    not be saved (shown again as typed, with what is wrong), or they are locked and
    differ from the saved ones. ``action`` says what was not done ("Not sent")."""
    # views registers the routes that call this, so it is imported by then (and a
    # module-level import would be a cycle: views imports those routes).
    from mailer.bulletins import views

    if "subject" not in request.form:  # a form without the words (an older page)
        return None
    try:
        changed, returned = views.save_typed(bulletin)
    except edits.MessageLocked as exc:
        draft = views.typed_draft(bulletin)
        if not words_differ(bulletin, draft):
            return None  # nothing typed to lose: the saved words are the ones to use
        section_notes.note(
            section, f"{action}: {exc} Your changes are not saved.", category="error"
        )
        return _page(bulletin, draft=draft, errors={}, status=409, unsaved=True)
    except compose.BulletinChanged as exc:
        section_notes.note(section, f"{action}: {exc}", category="error")
        return changed_page(bulletin, exc)
    except compose.BulletinInvalid as exc:
        section_notes.note(
            section,
            f"{action}: the words above could not be saved. Correct what the list at the "
            "top names, then try again.",
            category="error",
        )
        return _page(bulletin, draft=views.typed_draft(bulletin), errors=exc.errors, status=400)
    if changed:
        section_notes.note(section, "Your changes were saved first.")
    if returned:
        section_notes.note(section, returned, category="warning")
    return None


def changed_page(bulletin: Bulletin, exc: compose.BulletinChanged) -> ResponseReturnValue:
    """The edit page when the form was out of date (409): the words as typed, nothing
    saved, and who saved it meanwhile. The form keeps the version it was loaded from,
    so saving again is refused until the writer reloads."""
    from mailer.bulletins import views

    return views.edit_page(
        bulletin,
        draft=views.typed_draft(bulletin),
        errors={"compose-form": str(exc)},  # the summary links to the form
        about_id=inputs.id_arg("consultation_id", request.form),
        status=409,
        unsaved=True,
    )


def _page(
    bulletin: Bulletin,
    *,
    draft: compose.Draft,
    errors: dict[str, str],
    status: int,
    unsaved: bool | None = None,
) -> ResponseReturnValue:
    from mailer.bulletins import views

    about_id = (
        inputs.id_arg("consultation_id", request.form)
        if "subject" in request.form
        else bulletin.consultation_id
    )
    return views.edit_page(
        bulletin, draft=draft, errors=errors, about_id=about_id, status=status, unsaved=unsaved
    )
