"""What the import says back reads as sentences, not machine words."""

from __future__ import annotations

from contacts.importing import ImportReport
from contacts.importing.types import near_type


def test_the_counts_read_as_a_sentence_with_singulars_and_plurals() -> None:
    report = ImportReport(added=3, rejected=1)
    assert report.summary_sentence() == "3 people added, none updated, 1 row rejected"
    report = ImportReport(added=1, updated=2, unchanged=4, rejected=2, suppressed=1)
    assert report.summary_sentence() == (
        "1 person added, 2 updated, 4 unchanged, 2 rows rejected, 1 left alone as suppressed"
    )
    assert ImportReport().summary_sentence() == "none added, none updated, none rejected"
    # The command line's line stays as scripts read it.
    assert report.summary_line() == "added=1 updated=2 unchanged=4 rejected=2 suppressed=1"


def test_a_misspelling_or_a_plural_is_near_an_existing_type_and_a_new_name_is_not() -> None:
    known = {"local authority": 1, "fire and rescue": 2, "charity": 3, "health": 4}
    assert near_type("fire and rescue service", known) == "fire and rescue"
    assert near_type("charites", known) == "charity"
    assert near_type("charities", known) == "charity"
    assert near_type("local athority", known) == "local authority"
    assert near_type("faith group", known) is None
    assert near_type("housing association", known) is None
