"""The shipped Stakeholder Special messages: template blocks switched off or reworded,
a preheader for every kind, and the documents listed with their size and accessible
version. No database: the seed sources rendered with the template context."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mailer.bulletins import context, files, messages
from mailer.bulletins.messages import Document, Frozen
from mailer.email_templates.models import (
    KIND_BULLETIN,
    KIND_CLOSE_NOTICE,
    KIND_LAUNCH,
    KIND_REMINDER,
    KINDS,
)
from mailer.email_templates.seeds import seed_parts
from mailer.rendering.prepare import PreparedMessage, Sender, TemplateParts, prepare
from tests.rendering.conftest import AWKWARD, BODY, CONSULTATION, NOW, ORG, SENDER

OLD_LAUNCH = (
    Path(__file__).resolve().parents[1] / "email_templates" / "data" / "launch_043b243.json"
)


def render(
    kind: str,
    *,
    chosen: dict[str, Any] | None = None,
    preheader: str = "",
    files: list[context.DocumentView] | None = None,
    parts: TemplateParts | None = None,
    now: datetime = NOW,
) -> PreparedMessage:
    values = context.build(
        kind=kind,
        content=context.Content(
            subject="Have your say", preheader=preheader, body_markdown=BODY, blocks=chosen or {}
        ),
        org=ORG,
        consultation=CONSULTATION,
        documents=[],
        files=files or [],
        timezone="Europe/London",
        now=now,
    )
    return prepare(parts or seed_parts(kind), values, sender=SENDER)


def words(message: PreparedMessage) -> tuple[str, str]:
    """The HTML (tags removed, spaces collapsed) and the text, for one recipient."""
    html = re.sub(r"<[^>]+>", " ", message.html(AWKWARD[0]))
    return " ".join(html.split()), " ".join(message.text(AWKWARD[0]).split())


# Block -> (kind that shows it, words the template says when it is on).
SAID = {
    "greeting": (KIND_LAUNCH, "Dear Sam Smith,"),
    "survey": (KIND_LAUNCH, "Take the survey"),
    "key_date": (KIND_LAUNCH, "closes at 23:59 on Sunday 15 August 2027"),
    "cascade": (KIND_LAUNCH, "share this with your networks"),
    "sign_off": (KIND_REMINDER, "Alex Morgan"),
    "stay_in_touch": (KIND_CLOSE_NOTICE, "In an emergency"),
}


@pytest.mark.parametrize("name", sorted(SAID))
def test_each_block_switched_off_leaves_the_html_and_the_text(name: str) -> None:
    kind, said = SAID[name]
    html, text = words(render(kind))
    assert said in html and said in text
    html, text = words(render(kind, chosen={name: {"on": False}}))
    assert said not in html and said not in text


@pytest.mark.parametrize("name", sorted(SAID))
def test_each_block_reworded_says_the_writer_s_words_instead(name: str) -> None:
    kind, said = SAID[name]
    html, text = words(render(kind, chosen={name: {"text": "Our own words here."}}))
    assert "Our own words here." in html and "Our own words here." in text
    assert said not in html and said not in text


def test_the_bulletin_s_request_to_pass_it_on_is_a_block_too() -> None:
    html, text = words(render(KIND_BULLETIN))
    assert "Please pass this on" in html and "PLEASE PASS THIS ON" in text
    html, text = words(render(KIND_BULLETIN, chosen={"cascade": {"on": False}}))
    assert "pass this on" not in html.lower() and "pass this on" not in text.lower()


def test_reworded_links_stay_when_the_words_change() -> None:
    # The share link is how the office sees a message travel: rewording keeps it.
    message = render(KIND_LAUNCH, chosen={"cascade": {"text": "Tell your members."}})
    assert "https://mailer.example.org/s/a" in message.html(AWKWARD[0])
    assert "https://mailer.example.org/s/a" in message.text(AWKWARD[0])


def test_reworded_text_is_escaped_in_the_html() -> None:
    forged = '<script>alert(1)</script><a href="https://evil.example">x</a>'
    html = render(KIND_LAUNCH, chosen={"greeting": {"text": forged}}).html(AWKWARD[0])
    assert "<script>" not in html and '<a href="https://evil.example"' not in html
    assert "&lt;script&gt;" in html


def test_a_version_stored_before_blocks_and_documents_still_renders() -> None:
    old = json.loads(OLD_LAUNCH.read_text(encoding="utf-8"))
    parts = TemplateParts(old["subject"], old["preheader"], old["html"], old["text"])
    html, text = words(render(KIND_LAUNCH, parts=parts, chosen={"greeting": {"on": False}}))
    # It knows nothing of blocks: its greeting stays, and nothing fails.
    assert "Dear Sam Smith," in html and "Take the survey" in text


def preheader_of(message: PreparedMessage) -> str:
    found = re.search(r'<div class="preheader"[^>]*>(.*?)</div>', message.html(AWKWARD[0]), re.S)
    assert found, "no hidden preheader"
    return found.group(1).replace("\u034f", "").replace("\u200c", "").replace("\xa0", "").strip()


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            KIND_LAUNCH,
            "Have your say on Draft Police and Crime Plan 2027-2030 by Sunday 15 August 2027",
        ),
        (KIND_REMINDER, "26 days left to have your say on Draft Police and Crime Plan 2027-2030"),
        (KIND_CLOSE_NOTICE, "Thank you: Draft Police and Crime Plan 2027-2030 has closed"),
        (KIND_BULLETIN, "I am pleased to share my draft plan. Its priorities:"),
    ],
)
def test_every_kind_has_a_preheader_when_the_writer_left_it_empty(kind: str, expected: str) -> None:
    assert preheader_of(render(kind)).startswith(expected)


def test_the_writer_s_preheader_wins_and_is_hidden_not_shown() -> None:
    message = render(KIND_LAUNCH, preheader="Five minutes of your time")
    assert preheader_of(message) == "Five minutes of your time"
    assert "display:none" in message.html(AWKWARD[0]).split('class="preheader"')[1][:80]


def test_the_last_day_s_reminder_says_so() -> None:
    last_day = datetime(2027, 8, 15, 8, 0, tzinfo=UTC)
    assert preheader_of(render(KIND_REMINDER, now=last_day)).startswith(
        "Last day to have your say on"
    )


def test_a_bulletin_preheader_from_long_words_is_cut_at_a_word() -> None:
    long = context.default_preheader(KIND_BULLETIN, None, "word " * 100)
    assert len(long) <= context.PREHEADER_WORDS + 1 and long.endswith("word…")
    assert context.default_preheader(KIND_BULLETIN, None, "") == ""


DOCUMENTS = [
    context.DocumentView(
        title="Draft plan",
        filename="draft-plan.pdf",
        size=1_250_000,
        accessible_url="https://www.northshire-pcc.example.org/plan",
    ),
    context.DocumentView(title="", filename="map.PNG", size=900),
]


@pytest.mark.parametrize("kind", [KIND_LAUNCH, KIND_REMINDER, KIND_BULLETIN])
def test_attached_documents_are_named_with_their_size_and_accessible_version(kind: str) -> None:
    message = render(kind, files=DOCUMENTS)
    html, text = words(message)
    assert "Draft plan (PDF, 1.2 MB, attached)" in html
    assert "Draft plan (PDF, 1.2 MB, attached)" in text
    assert "map.PNG (PNG, 900 bytes, attached)" in html
    assert (
        '<a href="https://www.northshire-pcc.example.org/plan" '
        'aria-label="Accessible version of Draft plan"'
    ) in message.html(AWKWARD[0]).replace(' style="color:#1d4ed8; text-decoration:underline"', "")
    assert "Accessible version: https://www.northshire-pcc.example.org/plan" in text


def frozen(*, link: bool) -> Frozen:
    return Frozen(
        template_version_id=1,
        kind=KIND_REMINDER,
        parts=seed_parts(KIND_REMINDER),
        content=context.Content(subject="Reminder", preheader="", body_markdown=BODY),
        org=ORG,
        documents=(
            Document(
                filename="draft-plan.pdf",
                title="Draft plan",
                sha256="ab" * 32,
                content_type="application/pdf",
                size=2_500_000,
                alternative_url="https://www.northshire-pcc.example.org/plan",
            ),
        ),
        link_documents=link,
    )


def settings(folder: Path) -> messages.Settings:
    return messages.Settings(
        base_url="https://mailer.example.org",
        timezone="Europe/London",
        sender=Sender(SENDER.from_name, SENDER.from_address, SENDER.list_id),
        files_folder=folder,
    )


def test_linked_documents_keep_their_tracked_link_and_gain_size_and_accessible_version(
    tmp_path: Path,
) -> None:
    message = messages.prepare_frozen(
        frozen(link=True),
        settings=settings(tmp_path),
        consultation=CONSULTATION,
        now=NOW,
        document_links={"ab" * 32: "https://mailer.example.org/r/doc"},
    )
    html, _text = words(message)
    assert "Draft plan (PDF, 2.4 MB)" in html and "attached" not in html
    assert "- Draft plan (PDF, 2.4 MB): https://mailer.example.org/r/doc" in message.text(
        AWKWARD[0]
    )
    assert "https://www.northshire-pcc.example.org/plan" in message.html(AWKWARD[0])


def test_attached_documents_are_attached_and_named_in_the_body(tmp_path: Path) -> None:
    path = files.path_of(tmp_path, "ab" * 32)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 example")
    message = messages.prepare_frozen(
        frozen(link=False), settings=settings(tmp_path), consultation=CONSULTATION, now=NOW
    )
    html, text = words(message)
    assert "Draft plan (PDF, 2.4 MB, attached)" in html
    assert "Draft plan (PDF, 2.4 MB, attached)" in text
    assert "accessible version" in html and "Accessible version: https://" in text
    eml = message.personalise(AWKWARD[0], message_id="<a@example.org>", now=NOW)
    assert b'filename="draft-plan.pdf"' in eml


def test_a_frozen_value_without_accessible_versions_keeps_its_json() -> None:
    # Approvals compare content hashes of frozen values: a document with no accessible
    # version must freeze exactly as it did before the field existed.
    with_version = frozen(link=True)
    plain = replace(
        with_version, documents=(replace(with_version.documents[0], alternative_url=""),)
    )
    data = plain.to_json()
    assert "alternative_url" not in data["documents"][0]
    assert Frozen.from_json(data) == plain
    assert Frozen.from_json(with_version.to_json()) == with_version


@pytest.mark.parametrize("kind", KINDS)
def test_small_print_is_at_least_14_pixels(kind: str) -> None:
    html = render(kind).html(AWKWARD[0])
    sizes = [int(size) for size in re.findall(r"font-size:\s*(\d+)px", html)]
    assert min(sizes) >= 14, sorted(set(sizes))
