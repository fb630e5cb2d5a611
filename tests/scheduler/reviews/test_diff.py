"""What changed since the last approval: words line by line, audience parts, times."""

from __future__ import annotations

from datetime import UTC, datetime

from scheduler.reviews import diff
from scheduler.reviews.diff import ADDED, GAP, REMOVED, SAME, Line


def snapshot(body: str = "One\nTwo\nThree", **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "messages": [
            {"label": "Launch", "subject": "Have your say", "preheader": "", "body": body}
        ],
        "audience": ["List: Partners"],
        "timeline": [{"label": "Launch", "at": "2027-03-01T09:00:00+00:00"}],
    }
    data.update(changes)
    return data


def test_a_first_approval_has_nothing_to_compare() -> None:
    changes = diff.compare(None, snapshot())
    assert changes.first and changes.none


def test_the_same_version_shows_no_change() -> None:
    changes = diff.compare(snapshot(), snapshot())
    assert not changes.first and changes.none


def test_a_changed_line_is_removed_then_added_with_its_neighbours() -> None:
    changes = diff.compare(snapshot(), snapshot(body="One\nTwo, now longer\nThree"))
    assert [(w.message, w.field) for w in changes.words] == [("Launch", "Body")]
    assert changes.words[0].lines == (
        Line(SAME, "One"),
        Line(REMOVED, "Two"),
        Line(ADDED, "Two, now longer"),
        Line(SAME, "Three"),
    )


def test_long_unchanged_runs_are_cut_to_a_little_context() -> None:
    before = "\n".join(f"line {n}" for n in range(20))
    after = before.replace("line 10", "line ten")
    found = diff.lines(before, after)
    kinds = [line.kind for line in found]
    assert kinds.count(SAME) == 4 and kinds.count(GAP) == 2
    assert Line(REMOVED, "line 10") in found and Line(ADDED, "line ten") in found


def test_the_subject_and_preheader_are_compared_too() -> None:
    after = snapshot()
    after["messages"] = [
        {
            "label": "Launch",
            "subject": "Tell us",
            "preheader": "Two weeks",
            "body": "One\nTwo\nThree",
        }
    ]
    fields = [w.field for w in diff.compare(snapshot(), after).words]
    assert fields == ["Subject", "Preheader"]


def test_audience_parts_added_and_removed_are_named() -> None:
    after = snapshot(audience=["List: Councils", "Organisation type: Parish councils"])
    changes = diff.compare(snapshot(), after)
    assert changes.audience_added == ("List: Councils", "Organisation type: Parish councils")
    assert changes.audience_removed == ("List: Partners",)


def test_a_moved_time_shows_where_it_was_and_is() -> None:
    after = snapshot(
        timeline=[
            {"label": "Launch", "at": "2027-03-02T09:00:00+00:00"},
            {"label": "Reminder", "at": "2027-03-09T09:00:00+00:00"},
        ]
    )
    moved = diff.compare(snapshot(), after).moved
    assert [(m.label, m.was, m.now) for m in moved] == [
        ("Launch", datetime(2027, 3, 1, 9, tzinfo=UTC), datetime(2027, 3, 2, 9, tzinfo=UTC)),
        ("Reminder", None, datetime(2027, 3, 9, 9, tzinfo=UTC)),
    ]


def details(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Draft plan",
        "summary": "Tell us\nwhat you think",
        "survey_url": "https://old.example.org/survey",
        "type": "General",
        "opens_at": "2027-03-01T09:00:00+00:00",
        "closes_at": "2027-03-29T17:00:00+00:00",
        "documents": ["Plan.pdf"],
        "late_joiners": True,
        "skip_responders": False,
    }
    data.update(changes)
    return data


def test_the_consultations_own_details_are_compared() -> None:
    after = details(
        survey_url="https://new.example.org/survey",
        closes_at="2027-04-05T17:00:00+00:00",
        documents=["Plan.pdf", "Easy read.pdf"],
        late_joiners=False,
        summary="Tell us\nwhat you think, by April",
    )
    changes = diff.compare(snapshot(details=details()), snapshot(details=after))
    assert not changes.none
    assert [(d.label, d.was, d.now) for d in changes.details] == [
        ("Survey address", "https://old.example.org/survey", "https://new.example.org/survey"),
        ("Closes", "2027-03-29T17:00:00+00:00", "2027-04-05T17:00:00+00:00"),
        ("Launch sent to people added while it is open", "Yes", "No"),
    ]
    assert changes.details[1].kind == diff.TIME
    assert changes.documents_added == ("Easy read.pdf",) and changes.documents_removed == ()
    assert [(w.message, w.field) for w in changes.words] == [("The consultation", "Summary")]


def test_an_older_snapshot_without_details_is_unknown_not_changed() -> None:
    changes = diff.compare(snapshot(), snapshot(details=details()))
    assert changes.none and not changes.details and not changes.documents_added
    partial = details()
    del partial["survey_url"]
    changes = diff.compare(snapshot(details=partial), snapshot(details=details()))
    assert changes.none


def test_a_different_version_is_never_said_to_be_unchanged() -> None:
    changes = diff.compare(snapshot(), snapshot(), differs=True)
    assert not changes.none and not changes.listed
