"""Warnings when the writer's own words repeat a block the template adds."""

from __future__ import annotations

import pytest

from mailer.bulletins import blocks
from mailer.bulletins.warnings import for_duplicates

ALL_ON = blocks.for_template({})
SURVEY = "https://survey.northshire.gov.uk/plan"


def _blocks_warned(body: str, shown: dict = ALL_ON, **kwargs: str) -> list[str]:  # type: ignore[type-arg]
    return [w.block for w in for_duplicates(body, shown=shown, **kwargs)]


@pytest.mark.parametrize(
    ("body", "block"),
    [
        ("Dear colleague,\n\nThe plan is out.", "greeting"),
        ("**Dear partners**,\n\nThe plan is out.", "greeting"),
        ("Hello everyone. The plan is out.", "greeting"),
        ("Good morning all,\n\nThe plan is out.", "greeting"),
        (f"Read the plan and [tell us]({SURVEY}/).", "survey"),
        ("Please [take the survey](https://forms.example.gov.uk/x).", "survey"),
        ("[Have your say](https://forms.gov.uk/y) by Friday.", "survey"),
        ("The plan is out.\n\nPlease share this with your networks.", "cascade"),
        ("The plan is out.\n\nDo pass this on to anyone interested.", "cascade"),
        ("The plan is out.\n\nWe would be grateful if you could cascade it.", "cascade"),
        ("The plan is out.\n\nYours sincerely,\n\nJo Bloggs", "sign_off"),
        ("The plan is out.\n\nKind regards,\nJo", "sign_off"),
        ("The plan is out.\n\nBest wishes", "sign_off"),
        ("The plan is out.\n\nJo Bloggs\nPolice and Crime Commissioner", "sign_off"),
    ],
)
def test_each_repeat_names_its_block(body: str, block: str) -> None:
    warned = for_duplicates(body, shown=ALL_ON, survey_url=SURVEY, signatory="Jo Bloggs")
    assert [w.block for w in warned] == [block]
    label = blocks.KIND_BY_NAME[block].label.lower()
    assert f"({label})" in warned[0].message and "Switch the template's" in warned[0].message
    assert warned[0].block_label == label


def test_ordinary_text_is_not_warned_about() -> None:
    body = (
        "The draft plan sets out our priorities. We will share the results in spring, "
        "and the survey results will be published on our website.\n\n"
        "Read [the draft plan](https://pcc.gov.uk/plan). Jo Bloggs will present it at "
        "the panel, where members can pass on questions.\n\n"
        "- make our roads safer\n- support victims\n\nThe deadline is Friday."
    )
    assert _blocks_warned(body, survey_url=SURVEY, signatory="Jo Bloggs") == []
    assert _blocks_warned("") == []


def test_a_block_switched_off_or_not_relevant_is_not_warned_about() -> None:
    body = (
        f"Dear colleague,\n\n[Take the survey]({SURVEY}).\n\nPlease share this.\n\n"
        "Kind regards,\nJo"
    )
    assert _blocks_warned(body, survey_url=SURVEY) == ["greeting", "survey", "cascade", "sign_off"]
    off = blocks.for_template(
        {"greeting": {"on": False}, "cascade": {"on": False}, "sign_off": {"on": False}},
        about_consultation=False,  # a bulletin about no consultation has no survey block
    )
    assert _blocks_warned(body, shown=off, survey_url=SURVEY) == []


def test_a_pasted_bare_survey_address_is_warned_about() -> None:
    body = f"The plan is out. Tell us what you think: {SURVEY}."
    assert _blocks_warned(body, survey_url=SURVEY) == ["survey"]
