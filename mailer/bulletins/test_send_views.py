"""Send a test of a bulletin from its edit page. The route joins the bulletins blueprint
(``register``), at /admin/bulletins/<id>/test.

The Send-a-test button submits the compose form's fields with the addresses, so words
typed and not yet saved are saved first (as Save does) and the test shows them; nothing
typed is lost. Whatever happens is said inside the Send-a-test section, where the page
lands (#test-send), with the addresses as they were typed."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue

from mailer.admin.guards import acting_user, requires
from mailer.bulletins import messages, typed_views
from mailer.bulletins.models import Bulletin
from mailer.database import get_db, utcnow
from mailer.delivery import proof_sends
from mailer.web import section_notes

log = logging.getLogger(__name__)

SECTION = "test-send"


def notes_key(bulletin_id: int) -> str:
    """This bulletin's Send-a-test section, for section_notes (never another's)."""
    return f"bulletin-{bulletin_id}-{SECTION}"


MAX_TYPED = 4000  # what the box shows again: ten addresses with room to spare


def _bulletin(bulletin_id: int) -> Bulletin:
    bulletin = get_db().session.get(Bulletin, bulletin_id)
    if bulletin is None:
        abort(404)
    return bulletin


@requires("can_edit")
def send_test(bulletin_id: int) -> ResponseReturnValue:
    from mailer.bulletins import views

    bulletin = _bulletin(bulletin_id)
    target = url_for("bulletins.edit", bulletin_id=bulletin.id, _anchor=SECTION)
    typed = request.form.get("addresses", "")[:MAX_TYPED]
    # Kept before anything is shown, so the box shows them again whatever happens.
    section_notes.keep(notes_key(bulletin.id), {"addresses": typed})
    stopped = typed_views.save_first(bulletin, section=notes_key(bulletin.id), action="Not sent")
    if stopped is not None:
        return stopped
    try:
        addresses = proof_sends.parse_addresses(typed)
    except proof_sends.ProofSendRefused as exc:
        return _refused(bulletin, typed, str(exc))
    db = get_db()
    settings = messages.settings_from(current_app.config["MAILER"])
    now = utcnow()
    try:
        # Rendered outside the write lock; queued in a short write; sent by a worker.
        with db.reading() as reader:
            read = reader.get_one(Bulletin, bulletin.id)
            documents, shown = views.consultation_of(reader, read, settings.base_url)
            proofs = proof_sends.render_proofs(
                reader,
                read,
                addresses,
                settings=settings,
                now=now,
                documents=documents,
                about=shown,
            )
    except proof_sends.ProofSendRefused as exc:
        return _refused(bulletin, typed, str(exc))
    with db.transaction(db.session) as session:
        proof_sends.queue_proofs(
            session,
            bulletin,
            proofs,
            by=acting_user(session),
            sender=settings.sender.from_address,
            now=now,
        )
    section_notes.note(
        notes_key(bulletin.id),
        "Test queued for " + ", ".join(addresses) + ": it goes within a few seconds; "
        "how it went shows below.",
    )
    return redirect(target, 303)


NOTHING_SENT = "Nothing was sent"


def _refused(bulletin: Bulletin, typed: str, why: str) -> ResponseReturnValue:
    """Not sent: the page again, the addresses as typed, the reason beside them."""
    log.info("test of bulletin %s refused: %s", bulletin.id, why)
    # A refusal that already says nothing was sent is not prefixed with it again.
    said = why if why.startswith(NOTHING_SENT) else f"Not sent: {why}"
    section_notes.note(notes_key(bulletin.id), said, category="error")
    section_notes.keep(notes_key(bulletin.id), {"addresses": typed, "invalid": "yes"})
    return redirect(url_for("bulletins.edit", bulletin_id=bulletin.id, _anchor=SECTION), 303)


def register(bp: Blueprint) -> None:
    """Add the route to the bulletins blueprint."""
    bp.post("/<int:bulletin_id>/test")(send_test)
    section_notes.register(bp)
