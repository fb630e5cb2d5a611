"""Admin-written templates: mistakes and escape attempts get a clear message and a line."""

from __future__ import annotations

import dataclasses

import pytest

from mailer.email_templates import family
from mailer.email_templates.seeds import seed_parts
from mailer.rendering.placeholders import Markers
from mailer.rendering.prepare import prepare, render_parts
from mailer.rendering.sandbox import TemplateProblem
from tests.rendering.conftest import SENDER, build_context


def problem_with(html: str) -> TemplateProblem:
    parts = dataclasses.replace(seed_parts("bulletin"), html=html)
    with pytest.raises(TemplateProblem) as caught:
        prepare(parts, build_context("bulletin"), sender=SENDER)
    return caught.value


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("<p>\n{{ contact.nmae }}</p>", 2, "unknown value 'nmae'"),
        ("<p>\n\n{{ nonsense }}</p>", 3, "unknown value 'nonsense'"),
        ("<p>{% if %}</p>", 1, "Expected an expression"),
        ("<p>\n{{ org.name </p>", 2, "unexpected '/'"),
        ("<p>{% for x in %}</p>", 1, "Expected an expression"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", 1, "not allowed in a template"),
        ("{{ cycler.__init__.__globals__.os }}", 1, "not allowed in a template"),
        ("{{ org.__class__ }}", 1, "not allowed in a template"),
        ("{{ lipsum.__globals__ }}", 1, "not allowed in a template"),
        ("{% if contact.name %}Hi{% endif %}", 1, "cannot test it"),
        ("{{ contact.name | upper }}", None, "cannot change it"),
    ],
)
def test_template_problems_name_the_part_and_line(
    source: str, line: int | None, words: str
) -> None:
    problem = problem_with(source)
    assert words in str(problem)
    assert problem.part == "html"
    if line:
        assert problem.line == line
        assert str(problem).startswith(f"HTML body, line {line}: ")


def test_problems_in_the_subject_and_text_parts_say_which_part() -> None:
    parts = dataclasses.replace(seed_parts("bulletin"), subject="{{ bulletin.subjekt }}")
    with pytest.raises(TemplateProblem, match=r"^Subject, line 1: unknown value 'subjekt'"):
        prepare(parts, build_context("bulletin"), sender=SENDER)
    parts = dataclasses.replace(seed_parts("bulletin"), text="ok\n{% endfor %}")
    with pytest.raises(TemplateProblem, match=r"^Plain-text body, line 2: "):
        prepare(parts, build_context("bulletin"), sender=SENDER)


def test_fallback_gives_an_empty_personal_value_a_default() -> None:
    parts = dataclasses.replace(
        seed_parts("bulletin"), subject='Hello {{ contact.name | fallback("friend") }}'
    )
    message = prepare(parts, build_context("bulletin"), sender=SENDER)
    from mailer.rendering.prepare import Recipient

    assert message.subject(Recipient("a@example.org", "")) == "Hello friend"
    assert message.subject(Recipient("a@example.org", "Ann")) == "Hello Ann"


def test_autoescape_covers_organisation_settings_and_content() -> None:
    context = build_context("bulletin")
    context["org"]["name"] = "<script>x</script>"
    context["bulletin"]["subject"] = "<b>Hi</b>"
    _subject, _pre, html, text = render_parts(seed_parts("bulletin"), context, Markers())
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert "<b>Hi</b>" not in html
    assert "<SCRIPT>X</SCRIPT>" in text  # plain text is not HTML: nothing to escape


def test_every_shipped_template_compiles_for_its_kind() -> None:
    for member in family.MEMBERS:
        render_parts(seed_parts(member.kind), build_context(member.kind), Markers())


def test_a_personal_value_changed_in_the_subject_is_blamed_on_the_subject() -> None:
    parts = dataclasses.replace(seed_parts("bulletin"), subject="{{ contact.name | upper }} news")
    with pytest.raises(TemplateProblem, match=r"^Subject: contact.name .* cannot change it"):
        prepare(parts, build_context("bulletin"), sender=SENDER)


def test_dates_are_formatted_in_the_configured_timezone() -> None:
    context = build_context("launch")
    assert context["consultation"]["closes_at"].utcoffset().total_seconds() == 3600  # BST
    from mailer.bulletins import context as builder
    from tests.rendering.conftest import CONSULTATION, NOW, ORG

    new_york = builder.build(
        kind="launch",
        content=builder.Content("s", "p", "b"),
        org=ORG,
        consultation=CONSULTATION,
        documents=[],
        timezone="America/New_York",
        now=NOW,
    )
    _s, _p, _html, text = render_parts(seed_parts("launch"), new_york, Markers())
    # 23:59 in London is 18:59 in New York; the filters must not convert back to London.
    assert "closes at 18:59 on Sunday 15 August 2027" in text
