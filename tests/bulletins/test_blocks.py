"""The template's blocks per bulletin: what is stored, what a template sees, how the
compose form saves them (an edit like any other) and how a copy keeps them."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts.models import User
from mailer.bulletins import blocks, messages, reuse
from mailer.bulletins.context import Content, build
from mailer.bulletins.models import Bulletin, BulletinContribution
from mailer.database import Database
from mailer.delivery.models import SEND_AWAITING_APPROVAL, SEND_DRAFT, Send
from tests.bulletins.helpers import NOW, add_send, make_bulletin
from tests.conftest import add_user, csrf_from, login


def test_clean_keeps_only_known_blocks_and_what_differs() -> None:
    stored = blocks.clean(
        {
            "greeting": {"on": False},
            "sign_off": {"on": True, "text": "  With thanks,\n\n the   team  "},
            "cascade": {"on": True, "text": ""},  # as the template has it: not stored
            "evil": {"on": False},
            "survey": "off",  # not a choice
            "key_date": {"text": "x" * 2000},
        }
    )
    assert stored == {
        "greeting": {"on": False},
        "sign_off": {"text": "With thanks, the team"},
        "key_date": {"text": "x" * blocks.MAX_TEXT},
    }
    assert blocks.clean(None) == {} and blocks.clean({"greeting": None}) == {}


def test_a_template_sees_every_block_and_only_relevant_ones_on() -> None:
    seen = blocks.for_template({"greeting": {"on": False}, "sign_off": {"text": "Thanks, Jo"}})
    assert set(seen) == set(blocks.NAMES)
    assert seen["greeting"] == {"on": False, "text": ""}
    assert seen["sign_off"] == {"on": True, "text": "Thanks, Jo"}
    assert seen["survey"]["on"] and seen["key_date"]["on"]
    # A message about no consultation has no survey or closing date to show.
    about_none = blocks.for_template({}, about_consultation=False)
    assert not about_none["survey"]["on"] and not about_none["key_date"]["on"]
    assert about_none["greeting"]["on"] and about_none["cascade"]["on"]
    offered = [b.name for b in blocks.relevant(about_consultation=False)]
    assert "survey" not in offered and "key_date" not in offered and "greeting" in offered


def test_the_context_carries_the_choices_and_a_bulletin_has_no_survey_block() -> None:
    content = Content(
        subject="S", preheader="", body_markdown="Hi", blocks={"greeting": {"on": False}}
    )
    values = build(
        kind="bulletin", content=content, org={}, consultation=None, documents=[],
        timezone="Europe/London", now=NOW,
    )  # fmt: skip
    assert values["blocks"]["greeting"]["on"] is False
    assert values["blocks"]["survey"]["on"] is False


def test_the_form_merges_with_what_it_did_not_show() -> None:
    form = {"block-greeting-text": "Hello all,", "block-cascade-on": "on"}
    chosen = blocks.from_form(form, shown=["greeting", "cascade"])
    # Greeting's box not ticked: off; cascade ticked, as the template has it.
    assert chosen == {"greeting": {"on": False, "text": "Hello all,"}}
    merged = blocks.merge(
        {"survey": {"on": False}, "greeting": {"text": "old"}},
        chosen,
        shown=["greeting", "cascade"],
    )
    assert merged == {"survey": {"on": False}, "greeting": {"on": False, "text": "Hello all,"}}


def _editor(client: FlaskClient, db: Database) -> User:
    user = add_user(db, email="ed@example.org", role="editor", name="Ed")
    assert login(client, user.email).status_code == 302
    return user


def _post(client: FlaskClient, bulletin_id: int, **extra: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(page),
        "subject": "Stakeholder Special: March",
        "preheader": "The month in Northshire",
        "body_markdown": "Hello **partners**.",
        "link_documents": "on",
        "blocks-shown": "greeting,cascade,sign_off,stay_in_touch",
        "block-cascade-on": "on",
        "block-sign_off-on": "on",
        "block-stay_in_touch-on": "on",
        **extra,
    }
    return client.post(f"/admin/bulletins/{bulletin_id}", data=data)


def test_saving_the_blocks_is_an_edit_noted_for_the_two_person_rule(
    client: FlaskClient, db: Database
) -> None:
    editor = _editor(client, db)
    bulletin_id = make_bulletin(db, editor)
    add_send(db, bulletin_id, "submit")  # awaiting approval
    page = client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    assert 'name="block-greeting-on"' in page and 'name="block-survey-on"' not in page

    response = _post(client, bulletin_id, **{"block-sign_off-text": "Thank you, Jo"})
    assert response.status_code == 302
    with db.transaction() as session:
        bulletin = session.get(Bulletin, bulletin_id)
        assert bulletin.blocks == {"greeting": {"on": False}, "sign_off": {"text": "Thank you, Jo"}}
        parts = session.scalars(
            select(BulletinContribution.part).where(
                BulletinContribution.bulletin_id == bulletin_id,
                BulletinContribution.user_id == editor.id,
            )
        ).all()
        assert "template blocks" in parts
        # Like any edit, it takes the waiting send back: the approver must read it again.
        states = session.scalars(select(Send.state).where(Send.bulletin_id == bulletin_id)).all()
        assert states == [SEND_DRAFT] and SEND_AWAITING_APPROVAL not in states
        frozen = messages.freeze(session, bulletin)
        assert frozen.content.blocks == bulletin.blocks  # what is approved carries them

    # The same request twice changes nothing the second time.
    again = _post(client, bulletin_id, **{"block-sign_off-text": "Thank you, Jo"})
    assert again.status_code == 302
    assert "Nothing had changed" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_a_form_without_the_blocks_and_forged_names_keep_the_stored_choices(
    client: FlaskClient, db: Database
) -> None:
    editor = _editor(client, db)
    bulletin_id = make_bulletin(db, editor)
    with db.transaction() as session:
        session.get(Bulletin, bulletin_id).blocks = {"survey": {"on": False}}
    page = client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    response = client.post(
        f"/admin/bulletins/{bulletin_id}",
        data={"csrf_token": csrf_from(page), "subject": "New subject", "link_documents": "on"},
    )
    assert response.status_code == 302
    forged = _post(
        client,
        bulletin_id,
        **{
            "blocks-shown": "evil,<script>,greeting",
            "block-greeting-on": "on",
            "block-evil-on": "x",
        },
    )
    assert forged.status_code == 302
    with db.transaction() as session:
        assert session.get(Bulletin, bulletin_id).blocks == {"survey": {"on": False}}


def test_an_approver_cannot_save_blocks(client: FlaskClient, db: Database) -> None:
    writer = add_user(db, email="w@example.org", role="editor")
    bulletin_id = make_bulletin(db, writer)
    approver = add_user(db, email="ap@example.org", role="approver")
    login(client, approver.email)
    assert _post(client, bulletin_id).status_code == 403
    with db.transaction() as session:
        assert session.get(Bulletin, bulletin_id).blocks in ({}, None)


def test_a_copy_keeps_the_blocks(db: Database) -> None:
    writer = add_user(db, email="w@example.org", role="editor")
    bulletin_id = make_bulletin(db, writer)
    with db.transaction() as session:
        session.get(Bulletin, bulletin_id).blocks = {"greeting": {"on": False}}
    with db.transaction() as session:
        copied = reuse.copy(
            session, session.get(Bulletin, bulletin_id), by=session.get(User, writer.id), now=NOW
        )
        copied_id = copied.id
    with db.transaction() as session:
        assert session.get(Bulletin, copied_id).blocks == {"greeting": {"on": False}}


def test_a_rewording_over_the_limit_is_refused_beside_its_field_not_cut(
    client: FlaskClient, db: Database
) -> None:
    editor = _editor(client, db)
    bulletin_id = make_bulletin(db, editor)
    page = client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    assert 'name="block-sign_off-text"' in page and 'maxlength="500"' in page
    long_words = "Thank you from all of us. " * 25  # 650 characters
    response = _post(
        client,
        bulletin_id,
        **{"block-sign_off-text": long_words, "body_markdown": "Typed with it"},
    )
    assert response.status_code == 400
    answer = response.get_data(as_text=True)
    assert "error-summary" in answer and 'href="#block-sign_off-text"' in answer
    assert 'id="block-sign_off-text-error"' in answer
    assert "Your words for the sign-off are 649 characters long; use at most 500." in answer
    assert f'value="{long_words.strip()}"' in answer  # all of it, shown again
    assert "Typed with it" in answer
    with db.transaction() as session:
        bulletin = session.get(Bulletin, bulletin_id)
        assert "sign_off" not in (bulletin.blocks or {})
        assert bulletin.body_markdown != "Typed with it"
    # Exactly the limit is fine.
    ok = _post(client, bulletin_id, **{"block-sign_off-text": "x" * 500})
    assert ok.status_code == 302
