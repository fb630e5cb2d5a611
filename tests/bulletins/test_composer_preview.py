"""The composer's preview endpoints: the unsaved form as the whole message, as a chosen
contact; never written; only real facts; CSRF and roles."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from contacts.models import ERASED, Contact
from mailer.bulletins import previews
from mailer.bulletins.models import Bulletin, BulletinContribution
from mailer.database import Database
from mailer.delivery.models import QueuedMessage
from mailer.email_templates.models import KIND_LAUNCH, EmailTemplate, TemplateVersion
from tests.bulletins.helpers import make_bulletin
from tests.conftest import add_user, csrf_from, login


def _signed_in(client: FlaskClient, db: Database, role: str = "editor") -> str:
    user = add_user(db, email=f"{role}@example.org", role=role, name=role.title())
    assert login(client, user.email).status_code == 302
    return csrf_from(client.get("/admin/bulletins/").get_data(as_text=True))


def _form(token: str, **extra: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "subject": "Unsaved subject",
        "preheader": "",
        "body_markdown": "Unsaved **words**.",
        "link_documents": "on",
        **extra,
    }


def _state(db: Database, bulletin_id: int) -> tuple[object, ...]:
    with db.transaction() as session:
        bulletin = session.get(Bulletin, bulletin_id)
        contributions = session.scalar(select(func.count()).select_from(BulletinContribution))
        return (bulletin.subject, bulletin.body_markdown, bulletin.updated_at, contributions)


def test_the_unsaved_words_show_in_the_whole_message_and_nothing_is_written(
    client: FlaskClient, db: Database
) -> None:
    token = _signed_in(client, db)
    writer = add_user(db, email="w@example.org", role="editor")
    bulletin_id = make_bulletin(db, writer)
    with db.transaction() as session:
        contact = Contact(
            email="Sian@example.org", email_key="sian@example.org", name="Siân O'Brien"
        )
        session.add(contact)
        session.flush()
        contact_id = contact.id
    before = _state(db, bulletin_id)

    frame = client.post(
        f"/admin/bulletins/{bulletin_id}/compose/frame.html",
        data=_form(token, contact=str(contact_id)),
    )
    assert frame.status_code == 200
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    html = frame.get_data(as_text=True)
    assert "Unsaved subject" in html and "<strong>words</strong>" in html
    assert "Siân O&#39;Brien" in html or "Siân O'Brien" in html  # the template's greeting
    assert "/u/test" in html  # a harmless unsubscribe link, never the contact's own

    checked = client.post(
        f"/admin/bulletins/{bulletin_id}/compose/check",
        data=_form(token, body_markdown="Dear colleague,\n\nThe plan.\n\nKind regards"),
    ).get_json()
    assert [w["block"] for w in checked["warnings"]] == ["greeting", "sign_off"]
    assert checked["warnings"][0]["label"] == "greeting"
    assert checked["notes"] == []
    assert _state(db, bulletin_id) == before  # previewing writes nothing


def test_a_launch_about_no_consultation_invents_nothing(client: FlaskClient, db: Database) -> None:
    token = _signed_in(client, db)
    with db.transaction() as session:
        launch = session.scalar(select(EmailTemplate.id).where(EmailTemplate.kind == KIND_LAUNCH))
    for path in (
        "/admin/bulletins/compose/frame.html?kind=launch",
        "/admin/bulletins/compose/check?kind=launch",
    ):
        response = client.post(path, data=_form(token, template_id=str(launch)))
        assert response.status_code == 200
        shown = response.get_data(as_text=True)
        assert "(example)" not in shown and "An example consultation" not in shown
        assert "closes at" not in shown and "survey.example.org" not in shown
    checked = client.post(
        "/admin/bulletins/compose/check?kind=launch", data=_form(token)
    ).get_json()
    assert checked["notes"] == [previews.PENDING_NOTE]
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Bulletin)) == 0


def test_an_approver_may_preview_what_is_saved(client: FlaskClient, db: Database) -> None:
    writer = add_user(db, email="w@example.org", role="editor")
    bulletin_id = make_bulletin(db, writer)
    token = _signed_in(client, db, role="approver")
    frame = client.post(
        f"/admin/bulletins/{bulletin_id}/compose/frame.html", data=_form(token)
    ).get_data(as_text=True)
    # The approver's form is read-only: the preview shows the saved words.
    assert "Stakeholder Special: March" in frame and "Unsaved subject" not in frame


def test_without_a_token_or_signed_in_nothing_is_shown(client: FlaskClient, db: Database) -> None:
    writer = add_user(db, email="w@example.org", role="editor")
    bulletin_id = make_bulletin(db, writer)
    anonymous = client.post(f"/admin/bulletins/{bulletin_id}/compose/frame.html", data=_form(""))
    assert anonymous.status_code in (302, 400, 401)
    assert "Stakeholder Special" not in anonymous.get_data(as_text=True)
    _signed_in(client, db)
    for end in ("frame.html", "check"):
        forged = client.post(f"/admin/bulletins/{bulletin_id}/compose/{end}", data=_form("forged"))
        assert forged.status_code == 400


@pytest.mark.parametrize(
    "extra",
    [
        {"template_id": "999999"},
        {"template_id": "abc", "contact": "-1", "consultation_id": "1e9"},
        {"blocks-shown": "greeting," * 500, "block-greeting-text": "x" * 100_000},
        {"body_markdown": "x" * 300_000},
    ],
)
def test_absurd_input_is_shown_or_refused_never_a_500(
    client: FlaskClient, db: Database, extra: dict[str, str]
) -> None:
    token = _signed_in(client, db)
    writer = add_user(db, email="w@example.org", role="editor")
    bulletin_id = make_bulletin(db, writer)
    response = client.post(
        f"/admin/bulletins/{bulletin_id}/compose/frame.html", data=_form(token, **extra)
    )
    assert response.status_code in (200, 400, 413)
    assert (
        client.post("/admin/bulletins/999999/compose/check", data=_form(token)).status_code == 404
    )
    assert (
        client.post("/admin/bulletins/compose/check?kind=nope", data=_form(token)).status_code
        == 404
    )


def test_the_contact_picker_finds_by_name_or_email_never_an_erased_one(
    client: FlaskClient, db: Database
) -> None:
    _signed_in(client, db)
    with db.transaction() as session:
        session.add(Contact(email="sian@example.org", email_key="sian@example.org", name="Siân"))
        session.add(
            Contact(
                email="gone@example.org",
                email_key="gone@example.org",
                name="Siân Gone",
                status=ERASED,
            )
        )
    found = client.get("/admin/bulletins/compose/contacts?q=si%C3%A2n").get_json()["contacts"]
    assert [c["label"] for c in found] == ["Siân <sian@example.org>"]
    assert client.get("/admin/bulletins/compose/contacts?q=s").get_json()["contacts"] == []
    wild = client.get("/admin/bulletins/compose/contacts?q=%25%25").get_json()["contacts"]
    assert wild == []  # % is a character typed, not a wildcard


def test_greeting_switched_off_leaves_no_dear_line(client: FlaskClient, db: Database) -> None:
    """End to end with the seed templates: needs them to read ``blocks.greeting.on``
    (the "message" work); until then it says so and skips."""
    token = _signed_in(client, db)
    writer = add_user(db, email="w@example.org", role="editor")
    bulletin_id = make_bulletin(db, writer)
    with db.transaction() as session:
        source = session.get(Bulletin, bulletin_id).template.versions[-1].html
    on = client.post(
        f"/admin/bulletins/{bulletin_id}/compose/frame.html",
        data=_form(token, **{"blocks-shown": "greeting", "block-greeting-on": "on"}),
    ).get_data(as_text=True)
    assert "Dear colleague," in on
    if "blocks.greeting" not in source:
        pytest.skip("the seed templates do not read blocks.greeting yet")
    off = client.post(
        f"/admin/bulletins/{bulletin_id}/compose/frame.html",
        data=_form(token, **{"blocks-shown": "greeting"}),
    ).get_data(as_text=True)
    assert "Dear " not in off and "Unsaved subject" in off


def test_a_test_of_a_launch_about_no_consultation_invents_nothing(
    client: FlaskClient, db: Database
) -> None:
    token = _signed_in(client, db)
    bulletin_id = make_bulletin(
        db, add_user(db, email="w@example.org", role="editor"), kind=KIND_LAUNCH
    )
    page = client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    assert "none is chosen yet" in page  # the review says why its facts are missing
    response = client.post(
        f"/admin/bulletins/{bulletin_id}/test",
        data={"csrf_token": token, "addresses": "me@example.org"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    with db.transaction() as session:
        queued = session.scalars(select(QueuedMessage.data)).all()
    # Sent without the consultation's facts, or refused saying how to show them.
    for data in queued:
        assert b"(example)" not in data and b"closes at" not in data
    if not queued:
        assert "Nothing was sent" in response.get_data(as_text=True)


BLOCKS_TEMPLATE = (
    "<!doctype html><html><body>"
    '{% if blocks.greeting.on %}<p>Dear {{ contact.name | fallback("colleague") }},</p>{% endif %}'
    "{{ bulletin.body_html }}<h2>Have your say</h2><p>{{ consultation.summary }}</p>"
    '{% if blocks.survey.on %}<a href="{{ links.survey }}">Take the survey</a>{% endif %}'
    "{% if blocks.key_date.on %}<p>It closes at {{ consultation.closes_at | clock }} on "
    "{{ consultation.closes_at | long_date }}.</p>{% endif %}"
    '<a href="{{ links.unsubscribe }}">Unsubscribe</a></body></html>'
)


def test_a_template_that_reads_the_blocks_previews_a_launch_without_its_facts(
    client: FlaskClient, db: Database
) -> None:
    """As the seed templates will once they read ``blocks`` (made here by hand)."""
    token = _signed_in(client, db)
    with db.transaction() as session:
        template = session.scalar(select(EmailTemplate).where(EmailTemplate.kind == KIND_LAUNCH))
        template.versions.append(
            TemplateVersion(
                number=len(template.versions) + 1,
                subject="{{ bulletin.subject }}",
                preheader="",
                html=BLOCKS_TEMPLATE,
                text="{{ bulletin.body_text }} {{ links.unsubscribe }}",
            )
        )
        template_id = template.id
    url = "/admin/bulletins/compose/frame.html?kind=launch"
    fields = {"template_id": str(template_id), "blocks-shown": "greeting,survey,key_date"}
    all_on = {f"block-{name}-on": "on" for name in ("greeting", "survey", "key_date")}
    shown = client.post(url, data=_form(token, **fields, **all_on)).get_data(as_text=True)
    # The consultation's blocks left out, a note in place of its summary, nothing invented.
    assert "Dear colleague," in shown and "Unsaved <strong>words</strong>" in shown
    assert "will show here once you choose" in shown
    assert "Take the survey" not in shown and "closes at" not in shown
    off = client.post(url, data=_form(token, **fields, **{"block-survey-on": "on"})).get_data(
        as_text=True
    )
    assert "Dear" not in off and "Take the survey" not in off  # greeting off; no survey yet
    # The "Preview as a contact" page says so too.
    saved = make_bulletin(db, add_user(db, email="w@example.org", role="editor"), kind=KIND_LAUNCH)
    page = client.get(f"/admin/bulletins/{saved}/preview").get_data(as_text=True)
    assert "none is chosen yet" in page and "cannot be made" not in page
