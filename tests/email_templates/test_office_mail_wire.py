"""Every kind of office mail (review notices to approvers and writers, a consultation's
sign-up confirmation, the sign-up page's confirmation) keeps issue 21's wire limits, as
bulk messages do: quoted-printable lines of at most 76 characters, encoded words of at
most 75, header lines of at most 78 but for the one unfoldable List-Unsubscribe address.
And a mail program reads back the subject, the text and that address exactly; the
standards checkers of tests/rendering/test_standards.py pass them too. No database:
the messages are rendered as their senders render them."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from contacts.models import ContactList
from mailer.config import Config
from mailer.email_templates import office_mail
from mailer.public_urls import PublicUrls
from mailer.tracking import signups, subscribe
from scheduler.reviews import notices
from tests.conftest import make_config
from tests.rendering.test_standards import VNU, need

AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
ORG = {
    "name": "Conseil régional d\u2019Île-de-France — Direction de l\u2019aménagement",
    "colour": "",
}
STOP = PublicUrls("https://mailer.example.org").notices_off("eyJ1IjoxLCJrIjoiYWJjZGVm" * 6)
LONG_WORD = "Überlandstraßenverkehrsinfrastrukturfinanzierungsgesetzesänderungsentwurf" * 3
TITLE = f"Консультация по плану развития «Зелёный город» 2027\u20132035 {LONG_WORD} 🌳 ✓"
ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def _config(tmp_path: Path) -> Config:
    return make_config(
        tmp_path,
        f"sqlite:///{tmp_path / 'unused.db'}",
        mail={"from_address": "Le bureau <office@example.org>"},
    )


def _notice(subject: str, paragraphs: tuple[str, ...]) -> bytes:
    # As scheduler.reviews.notices._send builds each staff notice.
    mail = office_mail.OfficeMail(
        recipient="anne-marie@example.org",
        subject=subject,
        paragraphs=paragraphs,
        action_label="Read the consultation",
        action_url="https://mailer.example.org/admin/consultations/7/review",
        footer=notices.FOOTER,
        stop_label=notices.STOP_LABEL,
        stop_url=STOP,
    )
    sender = office_mail.From(str(ORG["name"]), "office@example.org")
    return office_mail.render(mail, org=ORG, sender=sender, at=AT)


def _kinds(config: Config, title: str) -> dict[str, tuple[bytes, str, str]]:
    """Each kind: (bytes, the subject, a line its text must hold)."""
    comment = f"Trop long : {title}\nRéécrivez le deuxième paragraphe.  {LONG_WORD}"
    confirm = "https://mailer.example.org/signup/confirm/" + "a1B2c3D4" * 12
    signup_subject = f"Confirmez : mises à jour sur {title}"
    return {
        "awaiting (approver)": (
            _notice(f"Awaiting your approval: {title}", (f'Zoë submitted "{title}".',)),
            f"Awaiting your approval: {title}",
            f'Zoë submitted "{title}".',
        ),
        "sent back (writer)": (
            _notice(f"Sent back: {title}", ("Zoë sent it back with this comment:", comment)),
            f"Sent back: {title}",
            f"Réécrivez le deuxième paragraphe.  {LONG_WORD}",
        ),
        "approved (writer)": (
            _notice(f"Approved: {title}", (f'Zoë approved "{title}".',)),
            f"Approved: {title}",
            f'Zoë approved "{title}".',
        ),
        "sign-up confirmation": (
            signups.confirmation_email(
                config,
                recipient="anne-marie@example.org",
                subject=signup_subject,
                about=title,
                confirm_url=confirm,
                org=ORG,
                at=AT,
            ),
            signup_subject,
            f"Someone (we hope you) asked for updates on {title}.",
        ),
        "subscribe confirmation": (
            subscribe.confirmation(
                config,
                subscribe.Pending(
                    email="anne-marie@example.org", name="Zoë", organisation="", list_ids=(1, 2)
                ),
                lists=[ContactList(name=title), ContactList(name="Ünïcödé")],
                confirm_url=confirm,
                org=ORG,
                now=AT,
            ),
            f"Confirm: updates from {ORG['name']}",
            f"Someone (we hope you) asked for updates on {title}, Ünïcödé.",
        ),
    }


def _check(raw: bytes, *, subject: str, text_line: str, stop: str | None) -> None:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    for line in head.split(b"\r\n"):
        if stop and line == f"List-Unsubscribe: <{stop}>".encode():
            continue  # the one token that cannot be folded
        assert len(line) <= 78, line
    assert all(len(word) <= 75 for word in ENCODED_WORD.findall(head))
    assert b"=?" not in b"".join(
        line for line in head.split(b"\r\n") if line.startswith(b"List-Unsubscribe")
    )
    assert all(len(line) <= 76 for line in body.split(b"\r\n")), max(body.split(b"\r\n"), key=len)
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert str(message["Subject"]) == " ".join(subject.split())
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert text_line in text.get_content().splitlines()
    assert "<!DOCTYPE html>" in html.get_content()
    if stop:
        assert str(message["List-Unsubscribe"]) == f"<{stop}>"
        assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    else:
        assert message["List-Unsubscribe"] is None


def test_every_kind_of_office_mail_keeps_the_wire_limits(tmp_path: Path) -> None:
    kinds = _kinds(_config(tmp_path), TITLE)
    for kind, (raw, subject, text_line) in kinds.items():
        stop = STOP if kind.endswith("(approver)") or kind.endswith("(writer)") else None
        _check(raw, subject=subject, text_line=text_line, stop=stop)


def test_a_non_ascii_unsubscribe_address_is_percent_encoded_not_encoded_words() -> None:
    assert office_mail.plain_url(STOP) == STOP
    url = office_mail.plain_url("https://mailer.example.org/off/é <x>")
    assert url == "https://mailer.example.org/off/%C3%A9%20%3Cx%3E"


_ALPHABETS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: chr(r.randint(0x20, 0x7E)),
    lambda r: chr(r.randint(0xA0, 0x24F)),
    lambda r: chr(r.randint(0x400, 0x4FF)),
    lambda r: chr(r.randint(0x4E00, 0x4FFF)),
    lambda r: chr(r.randint(0x1F300, 0x1F5FF)),
    lambda r: r.choice(" \t.=?_-:\"'<>"),
)


def _random_title(r: random.Random) -> str:
    length = r.choice((1, 5, 30, 70, 75, 76, 77, 120, 300))
    title = "".join(r.choice(_ALPHABETS)(r) for _ in range(length))
    title = " ".join(title.split())  # titles are one line (forms strip them)
    return title or "x"


@pytest.mark.slow
def test_random_titles_keep_the_wire_limits(tmp_path: Path) -> None:
    r = random.Random(21)  # noqa: S311 (test data, not secrets)
    config = _config(tmp_path)
    stop_kinds = {"awaiting (approver)", "sent back (writer)", "approved (writer)"}
    for _ in range(600):  # five kinds each: 3000 messages
        title = _random_title(r)
        for kind, (raw, subject, text_line) in _kinds(config, title).items():
            stop = STOP if kind in stop_kinds else None
            _check(raw, subject=subject, text_line=text_line, stop=stop)


@pytest.fixture(scope="module")
def plain_kinds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("office")
    kinds = _kinds(_config(folder), "Draft local plan 2027")
    return {kind: raw for kind, (raw, _subject, _line) in kinds.items()}


@pytest.mark.slow
def test_spamassassin_scores_every_kind_one_or_less(plain_kinds: dict[str, bytes]) -> None:
    need("spamassassin", shutil.which("spamassassin") is not None)
    for kind, raw in plain_kinds.items():
        report = subprocess.run(
            ["spamassassin", "-L", "-t"], input=raw, capture_output=True, timeout=120
        ).stdout.decode("utf-8", "replace")
        status = re.search(r"^X-Spam-Status: .*?score=(-?[\d.]+)", report, re.MULTILINE)
        assert status, (kind, report[-2000:])
        assert float(status.group(1)) <= 1.0, (kind, report[report.find("Content analysis") :])


@pytest.mark.slow
def test_every_kinds_html_has_no_errors_in_the_nu_html_checker(
    plain_kinds: dict[str, bytes], tmp_path: Path
) -> None:
    need("java", shutil.which("java") is not None)
    need("vnu-jar", VNU.exists())
    files = []
    for number, raw in enumerate(plain_kinds.values()):
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        html = message.get_body(("html",))
        assert html is not None
        files.append(tmp_path / f"{number}.html")
        files[-1].write_text(html.get_content(), encoding="utf-8")
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--format", "json", "--stdout", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    errors = [m for m in json.loads(result.stdout)["messages"] if m["type"] == "error"]
    assert errors == []
