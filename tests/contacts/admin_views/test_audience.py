"""The audience builder's live count and the saved audiences pages."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from contacts.models import Segment
from mailer.accounts import roles
from mailer.database import Database
from tests.conftest import add_user, csrf_from, login
from tests.contacts.test_audience import Town, town

SEGMENTS = "/admin/audience/segments"
COUNT = "/admin/audience/count"


def _signed_in(client: FlaskClient, db: Database, role: str) -> str:
    add_user(db, email=f"{role}@example.org", role=role)
    assert login(client, f"{role}@example.org").status_code == 302
    return csrf_from(client.get(SEGMENTS).get_data(as_text=True))


def _choices(place: Town, **extra: object) -> dict[str, object]:
    return {
        "list_ids": [str(place.a), str(place.b)],
        "tags": ["youth", "rural"],
        "areas": "North",
        "exclude_list_ids": [str(place.panel)],
        **extra,
    }


def test_the_count_says_who_is_reached_and_who_is_left_out(
    client: FlaskClient, db: Database
) -> None:
    place = town(db)
    # Counting only reads: an approver, checking who a send reaches, may count.
    csrf = _signed_in(client, db, roles.APPROVER)
    counted = client.post(COUNT, data=_choices(place, csrf_token=csrf))
    assert counted.status_code == 200
    data = counted.get_json()
    assert (data["reachable"], data["total"]) == (2, 6)
    assert data["left_out"] == {"unsubscribed": 1, "bounced": 1, "erased": 1, "suppressed": 1}
    assert data["sample"] == ["Ann (Northshire Council)", "Bob"]
    assert data["description"] == (
        "Lists: A, B; tags: rural, youth; areas: North; leaving out: Panel"
    )
    nothing = client.post(COUNT, data={"csrf_token": csrf}).get_json()
    assert (nothing["reachable"], nothing["empty"]) == (0, True)


def test_the_count_needs_a_sign_in_and_the_form_token(client: FlaskClient, db: Database) -> None:
    place = town(db)
    anonymous = client.post(COUNT, data=_choices(place))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    _signed_in(client, db, roles.EDITOR)
    assert client.post(COUNT, data=_choices(place)).status_code == 400


def test_bad_input_is_a_clear_400_not_a_500(client: FlaskClient, db: Database) -> None:
    place = town(db)
    csrf = _signed_in(client, db, roles.EDITOR)
    for bad, says in (
        ({"list_ids": ["A"]}, "A list or organisation type was not recognised"),
        ({"list_ids": ["999999"]}, "A list chosen no longer exists"),
        ({"type_ids": ["999999"], "list_ids": [str(place.a)]}, "An organisation type"),
        ({"list_ids": [str(place.a)], "tags": "x" * 500}, "A tag or area can be at most"),
        ({"segment_id": "12345"}, "That saved audience no longer exists"),
        ({"segment_id": "one"}, "That saved audience no longer exists"),
        ({"list_ids": [str(place.a)] * 1001}, "That is more choices than the builder offers"),
    ):
        answer = client.post(COUNT, data={"csrf_token": csrf, **bad})
        assert answer.status_code == 400, bad
        assert answer.is_json and answer.get_json()["error"].startswith(says), bad


def test_an_editor_saves_uses_changes_and_deletes_an_audience(
    client: FlaskClient, db: Database
) -> None:
    place = town(db)
    csrf = _signed_in(client, db, roles.EDITOR)
    page = client.get(SEGMENTS).get_data(as_text=True)
    assert "No saved audiences yet." in page and ">Saved audiences</a>" in page
    saved = client.post(
        SEGMENTS, data=_choices(place, csrf_token=csrf, segment_name="Young and rural, north")
    )
    assert saved.status_code == 302
    with db.reading() as session:
        segment_id = session.scalars(select(Segment.id)).one()
    listing = client.get(SEGMENTS).get_data(as_text=True)
    assert "Young and rural, north" in listing
    assert "Lists: A, B; tags: rural, youth; areas: North; leaving out: Panel" in listing
    # A name taken in another case: refused, the choices kept.
    again = client.post(
        SEGMENTS, data=_choices(place, csrf_token=csrf, segment_name="YOUNG AND RURAL, NORTH")
    )
    text = again.get_data(as_text=True)
    assert again.status_code == 400
    assert "There is already a saved audience called" in text
    assert f'value="{place.panel}" checked' in text
    # Choosing the saved audience alone fills the builder (the count says so too).
    used = client.post(COUNT, data={"csrf_token": csrf, "segment_id": str(segment_id)})
    assert used.get_json()["reachable"] == 2
    assert used.get_json()["audience"]["exclude_lists"] == [place.panel]
    # Change it on its own page: a new name and one list only.
    changed = client.post(
        f"{SEGMENTS}/{segment_id}",
        data={"csrf_token": csrf, "segment_name": "List A", "list_ids": [str(place.a)]},
    )
    assert changed.status_code == 302
    listing = client.get(SEGMENTS).get_data(as_text=True)
    assert "List A" in listing and "Lists: A</td>" in listing
    client.post(f"{SEGMENTS}/{segment_id}/delete", data={"csrf_token": csrf})
    assert "No saved audiences yet." in client.get(SEGMENTS).get_data(as_text=True)


def test_without_javascript_the_count_button_shows_the_count(
    client: FlaskClient, db: Database
) -> None:
    place = town(db)
    csrf = _signed_in(client, db, roles.EDITOR)
    counted = client.post(SEGMENTS, data=_choices(place, csrf_token=csrf, audience_action="count"))
    text = counted.get_data(as_text=True)
    assert counted.status_code == 200
    assert "<strong>2</strong> people would receive it, of 6 in the audience." in text
    assert "Left out: 1 unsubscribed, 1 bounced, 1 erased, 1 suppressed." in text
    with db.reading() as session:
        assert session.scalars(select(Segment)).all() == []


def test_saving_from_another_page_returns_to_it(client: FlaskClient, db: Database) -> None:
    place = town(db)
    csrf = _signed_in(client, db, roles.EDITOR)
    saved = client.post(
        SEGMENTS,
        data=_choices(
            place, csrf_token=csrf, segment_name="North", audience_next="/admin/bulletins/3/send"
        ),
    )
    assert saved.status_code == 302
    assert saved.headers["Location"].startswith("/admin/bulletins/3/send?segment_id=")
    elsewhere = client.post(
        SEGMENTS,
        data=_choices(
            place, csrf_token=csrf, segment_name="South", audience_next="https://evil.example/"
        ),
    )
    assert elsewhere.headers["Location"] == SEGMENTS


def test_approvers_look_but_do_not_change(client: FlaskClient, db: Database) -> None:
    place = town(db)
    csrf = _signed_in(client, db, roles.APPROVER)
    page = client.get(SEGMENTS).get_data(as_text=True)
    assert "Count an audience" in page and "Save audience" not in page
    refused = client.post(SEGMENTS, data=_choices(place, csrf_token=csrf, segment_name="North"))
    assert refused.status_code == 403
    with db.reading() as session:
        assert session.scalars(select(Segment)).all() == []


def test_without_javascript_use_it_fills_the_builder_from_a_saved_audience(
    client: FlaskClient, db: Database
) -> None:
    place = town(db)
    csrf = _signed_in(client, db, roles.EDITOR)
    client.post(SEGMENTS, data=_choices(place, csrf_token=csrf, segment_name="North"))
    with db.reading() as session:
        segment_id = session.scalars(select(Segment.id)).one()
    # Another list ticked, then "Use it": the saved audience replaces the choices.
    used = client.post(
        SEGMENTS,
        data={
            "csrf_token": csrf,
            "list_ids": [str(place.panel)],
            "segment_id": str(segment_id),
            "audience_action": "use_segment",
        },
    )
    text = used.get_data(as_text=True)
    assert used.status_code == 200
    assert f'id="list-{place.a}" name="list_ids" value="{place.a}" checked' in text
    assert f'id="list-{place.panel}" name="list_ids" value="{place.panel}" >' in text
    assert "<strong>2</strong> people would receive it" in text
