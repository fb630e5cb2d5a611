"""The role table: the README's copy is the one roles.py makes, and every sending control,
used over HTTP as an editor, an approver and an admin, does what the README says."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.accounts.roles import ADMIN, APPROVER, EDITOR, ROLES, SYSTEM, Action
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import Database, utcnow
from mailer.delivery.models import FAILED, Delivery, Send, SendingSwitch
from scheduler.models import Blackout, Consultation
from tests.conftest import add_user, csrf_from, login
from tests.delivery.helpers import make_send
from tests.scheduler.audience import make_list
from tests.scheduler.test_consultation_views import create

README = Path(__file__).resolve().parents[2] / "README.md"
_SECTION = re.compile(r"<!-- role-matrix[^>]*-->\n(.*?)<!-- /role-matrix -->", re.S)


def readme_table() -> str:
    found = _SECTION.search(README.read_text(encoding="utf-8"))
    assert found, "README.md has no role-matrix section"
    return found.group(1)


def readme_matrix() -> dict[str, dict[str, bool]]:
    """{row label: {role: allowed}} as the README's table reads."""
    lines = [line for line in readme_table().splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    columns = [next(r for r in ROLES if roles.LABELS[r] == name) for name in header[1:]]
    matrix: dict[str, dict[str, bool]] = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0].startswith("**"):
            continue  # a group heading
        assert set(cells[1:]) <= {"yes", "no"}, line
        matrix[cells[0]] = {
            role: cell == "yes" for role, cell in zip(columns, cells[1:], strict=True)
        }
    return matrix


def test_the_readme_table_is_the_one_roles_makes() -> None:
    assert readme_table() == roles.markdown_table()


# --- walking every sending control as every role -------------------------------------------


class Office:
    """One user of each role, signed in, and an admin to set the scene."""

    def __init__(self, app: Flask, db: Database) -> None:
        self.db = db
        self.users: dict[str, User] = {}
        self.clients: dict[str, FlaskClient] = {}
        for role in ROLES:
            email = f"{role}@example.org"
            self.users[role] = add_user(db, email=email, role=role)
            client = app.test_client()
            assert login(client, email).status_code == 302
            self.clients[role] = client

    def post(self, role: str, path: str, **data: object) -> int:
        client = self.clients[role]
        token = csrf_from(client.get("/admin/account/").get_data(as_text=True))
        response = client.post(path, data={"csrf_token": token, **data})
        assert response.status_code in (302, 303, 403), (path, response.status_code)
        return response.status_code

    def set(self, model: Any, row_id: int, **values: object) -> None:
        with self.db.transaction() as session:
            session.execute(update(model).where(model.id == row_id).values(**values))

    def get(self, model: Any, row_id: int) -> Any:
        with self.db.transaction() as session:
            row = session.get(model, row_id)
            session.expunge(row)
            return row


def walk(
    office: Office,
    label: str,
    prepare: Callable[[], None],
    act: Callable[[str], int],
    happened: Callable[[], bool],
) -> None:
    expected = readme_matrix()[label]
    for role in ROLES:
        prepare()
        status = act(role)
        assert happened() is expected[role], f"{label!r} as {role}: status {status}"
        if not expected[role]:
            assert status == 403, f"{label!r} as {role} was refused without a 403"


@pytest.fixture
def office(app: Flask, db: Database) -> Office:
    return Office(app, db)


def test_every_control_on_a_send(office: Office, db: Database) -> None:
    send_id = make_send(
        db, addresses=["a@example.org", "b@example.org"], author=office.users[ADMIN]
    )
    page = f"/admin/sends/{send_id}"

    def state() -> str:
        return office.get(Send, send_id).state

    def sending() -> None:
        office.set(Send, send_id, state="sending", paused_reason="", paused_by_role="")

    walk(
        office,
        roles.label_for(Action.PAUSE_SEND),
        sending,
        lambda role: office.post(role, f"{page}/pause"),
        lambda: state() == "paused",
    )
    for holder in (SYSTEM, EDITOR, APPROVER, ADMIN):

        def paused(holder: str = holder) -> None:
            office.set(Send, send_id, state="paused", paused_by_role=holder, paused_reason="x")

        walk(
            office,
            roles.label_for(Action.RESUME_SEND, held_by=holder),
            paused,
            lambda role: office.post(role, f"{page}/resume"),
            lambda: state() == "sending",
        )

    def one_failed() -> None:
        sending()
        with db.transaction() as session:
            first = session.scalar(select(Delivery.id).where(Delivery.send_id == send_id))
            session.execute(update(Delivery).where(Delivery.id == first).values(state=FAILED))

    def failures() -> int:
        with db.transaction() as session:
            return session.scalar(
                select(func.count()).where(Delivery.send_id == send_id, Delivery.state == FAILED)
            )

    walk(
        office,
        roles.label_for(Action.RETRY_SEND),
        one_failed,
        lambda role: office.post(role, f"{page}/retry"),
        lambda: failures() == 0,
    )
    walk(
        office,
        roles.label_for(Action.CANCEL_SEND),
        sending,
        lambda role: office.post(role, f"{page}/cancel"),
        lambda: state() == "cancelled",
    )


def test_every_control_on_all_sending(office: Office, db: Database) -> None:
    def stopped() -> bool:
        with db.transaction() as session:
            switch = session.get(SendingSwitch, 1)
            return bool(switch and switch.stopped)

    def running() -> None:
        with db.transaction() as session:
            session.merge(SendingSwitch(id=1, stopped=False, reason="", stopped_by_role=""))

    walk(
        office,
        roles.label_for(Action.STOP_SENDING),
        running,
        lambda role: office.post(role, "/admin/sending/stop", reason="A wrong link"),
        stopped,
    )
    for holder in (EDITOR, APPROVER, ADMIN):

        def stopped_by(holder: str = holder) -> None:
            with db.transaction() as session:
                session.merge(
                    SendingSwitch(id=1, stopped=True, reason="Incident", stopped_by_role=holder)
                )

        walk(
            office,
            roles.label_for(Action.RESTART_SENDING, held_by=holder),
            stopped_by,
            lambda role: office.post(role, "/admin/sending/resume"),
            lambda: not stopped(),
        )

    day = (utcnow() + timedelta(days=400)).date()

    def blackouts() -> int:
        with db.transaction() as session:
            return session.scalar(select(func.count()).select_from(Blackout))

    def none() -> None:
        with db.transaction() as session:
            session.execute(Blackout.__table__.delete())

    walk(
        office,
        roles.label_for(Action.ADD_BLACKOUT),
        none,
        lambda role: office.post(
            role,
            "/admin/sending/blackouts",
            starts_date=day.isoformat(),
            ends_date=(day + timedelta(days=1)).isoformat(),
            reason="By-election",
        ),
        lambda: blackouts() == 1,
    )
    ids: list[int] = []

    def one() -> None:
        none()
        with db.transaction() as session:
            blackout = Blackout(
                starts_at=utcnow() + timedelta(days=400),
                ends_at=utcnow() + timedelta(days=401),
                reason="By-election",
                created_by_id=office.users[ADMIN].id,
            )
            session.add(blackout)
            session.flush()
            ids[:] = [blackout.id]

    walk(
        office,
        roles.label_for(Action.REMOVE_BLACKOUT),
        one,
        lambda role: office.post(role, f"/admin/sending/blackouts/{ids[0]}/remove"),
        lambda: blackouts() == 0,
    )


def test_every_control_on_a_consultations_timeline(office: Office, db: Database) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(office.clients[ADMIN], partners, type="general")
    page = f"/admin/consultations/{cid}"
    with db.transaction() as session:
        launch_id = session.scalar(
            select(Send.id).where(Send.consultation_id == cid, Send.slot == "launch")
        )
        opens_at = session.get(Consultation, cid).opens_at

    def missed() -> None:
        office.set(Consultation, cid, state="scheduled")
        office.set(Send, launch_id, state="missed", due_at=utcnow() - timedelta(hours=3))

    walk(
        office,
        roles.label_for(Action.SEND_MISSED_NOW),
        missed,
        lambda role: office.post(role, f"{page}/sends/{launch_id}/send-now"),
        lambda: office.get(Send, launch_id).state == "scheduled",
    )

    def approved_not_open() -> None:
        office.set(Consultation, cid, state="scheduled", opens_at=opens_at)
        office.set(Send, launch_id, state="scheduled", due_at=opens_at)

    walk(
        office,
        roles.label_for(Action.OPEN_NOW),
        approved_not_open,
        lambda role: office.post(role, f"{page}/open-now"),
        lambda: office.get(Consultation, cid).opens_at < opens_at,
    )


def test_bulk_contacts_export_as_every_role(office: Office, db: Database) -> None:
    make_list(db, [("a@example.org", None)])

    def exports() -> int:
        with db.transaction() as session:
            return session.scalar(
                select(func.count()).where(AuditEntry.action == actions.CONTACTS_EXPORTED)
            )

    expected = readme_matrix()[roles.label_for(Action.EXPORT_ALL_CONTACTS)]
    for role in ROLES:
        before = exports()
        response = office.clients[role].get("/admin/contacts/export.csv")
        if expected[role]:
            assert response.status_code == 200
            assert "a@example.org" in response.get_data(as_text=True)
            assert exports() == before + 1
        else:
            assert response.status_code == 403
            assert exports() == before
        listing = office.clients[role].get("/admin/contacts/").get_data(as_text=True)
        assert ("export.csv" in listing) is expected[role]


# --- the probe's cases, as they happened -------------------------------------------------


def test_an_admins_incident_stop_sticks_against_an_editor(office: Office, db: Database) -> None:
    assert office.post(ADMIN, "/admin/sending/stop", reason="Data incident") == 302
    assert office.post(EDITOR, "/admin/sending/resume") == 403
    page = office.clients[EDITOR].get("/admin/sending/").get_data(as_text=True)
    assert "Resume sending</button>" not in page and "because an admin stopped it" in page
    assert f", by {office.users[ADMIN].display_name})" in page  # who to ask
    with db.transaction() as session:
        assert session.get(SendingSwitch, 1).stopped is True
    # Nor may an approver lift an admin's stop; the admin may.
    assert office.post(APPROVER, "/admin/sending/resume") == 403
    assert office.post(ADMIN, "/admin/sending/resume") == 302
    with db.transaction() as session:
        assert session.get(SendingSwitch, 1).stopped is False


def test_a_send_an_admin_paused_stays_paused_for_an_editor(office: Office, db: Database) -> None:
    send_id = make_send(db, addresses=["a@example.org"], author=office.users[ADMIN])
    page = f"/admin/sends/{send_id}"
    assert office.post(ADMIN, f"{page}/pause") == 302
    response = office.clients[EDITOR].post(
        f"{page}/resume",
        data={"csrf_token": csrf_from(office.clients[EDITOR].get(page).get_data(as_text=True))},
    )
    assert response.status_code == 403
    assert "Only approvers and admins may resume a paused send." in response.get_data(as_text=True)
    assert ">Resume</button>" not in office.clients[EDITOR].get(page).get_data(as_text=True)
    # Whoever may not resume it is told who may, and why.
    told = office.clients[APPROVER].get(page).get_data(as_text=True)
    assert ">Resume</button>" not in told
    assert "An admin paused this, so only admins may resume a paused send." in told
    assert office.get(Send, send_id).state == "paused"
    assert office.post(ADMIN, f"{page}/resume") == 302
    assert office.get(Send, send_id).state == "sending"


def test_an_approver_cannot_cancel_a_send(office: Office, db: Database) -> None:
    send_id = make_send(db, addresses=["a@example.org"], author=office.users[ADMIN])
    page = f"/admin/sends/{send_id}"
    assert "Cancel the send" not in office.clients[APPROVER].get(page).get_data(as_text=True)
    assert office.post(APPROVER, f"{page}/cancel") == 403
    assert office.get(Send, send_id).state == "sending"
    with db.transaction() as session:
        cancelled = session.scalar(
            select(func.count()).where(AuditEntry.action == actions.SEND_CANCELLED)
        )
    assert cancelled == 0


def test_cancelling_an_approved_consultation_is_an_admins(office: Office, db: Database) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(office.clients[EDITOR], partners, type="general")
    page = f"/admin/consultations/{cid}"
    # A draft is its editor's to cancel...
    assert "Cancel the consultation" in office.clients[EDITOR].get(page).get_data(as_text=True)
    # ...but once its messages are approved, cancelling them is final: an admin's.
    office.set(Consultation, cid, state="scheduled")
    with db.transaction() as session:
        session.execute(update(Send).where(Send.consultation_id == cid).values(state="scheduled"))
    for role in (EDITOR, APPROVER):
        shown = office.clients[role].get(page).get_data(as_text=True)
        assert "Cancel the consultation" not in shown
        office.post(role, f"{page}/cancel")
        assert office.get(Consultation, cid).state == "scheduled"
    assert "Cancel the consultation" in office.clients[ADMIN].get(page).get_data(as_text=True)
    office.post(ADMIN, f"{page}/cancel")
    assert office.get(Consultation, cid).state == "cancelled"
