"""What an editor should look at before a bulletin goes anywhere.

Warnings never block (the approver sees them too); a template problem does, and is
reported by the template service, not here.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from mailer.bulletins import blocks
from mailer.rendering.markdown import BodyHtml, to_html

SUBJECT_LONG = 70  # about what a phone's inbox shows before cutting it off
# Gmail clips an HTML part over about 102 KB behind "[Message clipped] View entire
# message", and the unsubscribe link at the bottom goes with it.
HTML_CLIPPED_BYTES = 100 * 1024
MESSAGE_LARGE_BYTES = 5 * 1024 * 1024
VAGUE_LINK_TEXT = {
    "click here", "here", "click", "this", "link", "this link", "more", "read more",
    "find out more", "learn more", "more info", "go", "website", "this page",
}  # fmt: skip
# Reserved names that never resolve on the internet (RFC 2606, RFC 6761).
RESERVED_SUFFIXES = (".example", ".test", ".invalid", ".localhost", ".local", ".internal")
RESERVED_DOMAINS = ("example.com", "example.net", "example.org", "localhost")


@dataclass(frozen=True)
class Warning:
    code: str
    message: str
    # The template block the writer's words repeat ("" for none): the composer offers
    # to switch it off (mailer/bulletins/blocks.py).
    block: str = ""

    @property
    def block_label(self) -> str:
        return blocks.KIND_BY_NAME[self.block].label.lower() if self.block else ""


def link_problem(url: str) -> str | None:
    """Why ``url`` looks unreachable for a stakeholder, or None."""
    parts = urlsplit(url.strip())
    if parts.scheme in ("mailto", "tel"):
        return None if (parts.path or "").strip() else "has no address after the scheme"
    if parts.scheme not in ("http", "https"):
        return "is not a full web address (start it with https://)"
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return "has no website name"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if address.is_private or address.is_loopback or address.is_link_local:
            return "points at a private or local network address"
        return None
    if "." not in host:
        return "points at a name only your own network knows"
    if (
        host in RESERVED_DOMAINS
        or host.endswith(RESERVED_SUFFIXES)
        or any(host.endswith("." + d) for d in RESERVED_DOMAINS)
    ):
        return "uses a reserved example name that does not exist on the internet"
    if parts.scheme == "http":
        return "is not secure (http://): some mail systems mark such links as risky"
    return None


def for_body(body: BodyHtml) -> list[Warning]:
    found: list[Warning] = []
    for src in body.images_without_alt:
        found.append(
            Warning(
                "alt",
                f"The image {src or '(no address)'} has no alt text: people using screen "
                "readers, and everyone whose mail app blocks images, will not know what it "
                "shows. Write it as ![what the image shows](address).",
            )
        )
    for href in dict.fromkeys(body.links):
        problem = link_problem(href)
        if problem:
            found.append(Warning("link", f"The link {href} {problem}."))
    for href, words in body.link_texts:
        if words.lower().strip(" .!") in VAGUE_LINK_TEXT or not words:
            found.append(
                Warning(
                    "link-text",
                    f'The link to {href} says "{words or "(nothing)"}": say where it goes, '
                    'such as "read the draft plan", so it makes sense on its own.',
                )
            )
    return found


def for_message(
    *, subject: str, preheader: str, html_bytes: int, message_bytes: int
) -> list[Warning]:
    found: list[Warning] = []
    if len(subject) > SUBJECT_LONG:
        found.append(
            Warning(
                "subject",
                f"The subject is {len(subject)} characters long; phones show about "
                f"{SUBJECT_LONG}. Put the words that matter first.",
            )
        )
    if not preheader.strip():
        found.append(
            Warning(
                "preheader",
                "There is no preheader: inboxes will show the first words of the "
                "message beside the subject instead.",
            )
        )
    if html_bytes > HTML_CLIPPED_BYTES:
        found.append(
            Warning(
                "clipped",
                f"The HTML part is {html_bytes // 1024} KB: Gmail cuts messages over "
                "about 100 KB short, hiding the end (and the unsubscribe link). Shorten "
                "the text.",
            )
        )
    if message_bytes > MESSAGE_LARGE_BYTES:
        found.append(
            Warning(
                "large",
                f"The whole message is {message_bytes / (1024 * 1024):.1f} MB with its "
                "attachments: slow on phones and refused by some mail systems. Consider "
                "linking to the documents instead.",
            )
        )
    return found


# What a writer's own words say when they repeat one of the template's blocks.
_GREETING = re.compile(r"^(dear\b|hello\b|hi\b|good (morning|afternoon|evening)\b)", re.I)
_SURVEY_WORDS = re.compile(r"\b(survey|questionnaire|have your say)\b", re.I)
_CASCADE = re.compile(
    r"\b(please (share|forward|circulate|pass)\b|pass (this|it) on\b|cascad(e|ing)\b"
    r"|share (this|it) with your (networks?|members|contacts|colleagues)\b)",
    re.I,
)
_SIGN_OFF = re.compile(
    r"^(yours (sincerely|faithfully|truly)|(kind|best|warm|warmest) regards|best wishes"
    r"|with (thanks|best wishes)|many thanks)\b",
    re.I,
)
_MARKUP = re.compile(r"^[\s>#*_~`-]+")


def _paragraphs(body_markdown: str) -> list[str]:
    """The body's paragraphs as plain-ish lines of words (Markdown marks stripped)."""
    found = []
    for chunk in re.split(r"\n\s*\n", body_markdown.replace("\r\n", "\n")):
        words = " ".join(_MARKUP.sub("", line) for line in chunk.splitlines()).strip()
        if words:
            found.append(words)
    return found


def _same_link(a: str, b: str) -> bool:
    return bool(a and b) and a.strip().rstrip("/").casefold() == b.strip().rstrip("/").casefold()


def _repeat(name: str, what: str) -> Warning:
    label = blocks.KIND_BY_NAME[name].label
    return Warning(
        "duplicate",
        f"{what}, and the template adds its own ({label.lower()}): readers would see it "
        f"twice. Switch the template's {label.lower()} off, or take it out of your text.",
        block=name,
    )


def for_duplicates(
    body_markdown: str,
    *,
    shown: Mapping[str, Mapping[str, object]],
    survey_url: str = "",
    signatory: str = "",
) -> list[Warning]:
    """The writer's own words repeating a block the template adds. ``shown``: the
    blocks as the template sees them (``blocks.for_template``); a block switched off
    (or not relevant to the message) is never warned about."""

    def on(name: str) -> bool:
        return bool(shown.get(name, {}).get("on"))

    paragraphs = _paragraphs(body_markdown)
    found: list[Warning] = []
    if on(blocks.GREETING) and paragraphs and _GREETING.match(paragraphs[0]):
        opening = re.split(r"[,.!:;\n]", re.sub(r"[*_`\[\]]", "", paragraphs[0]))[0][:40]
        found.append(_repeat(blocks.GREETING, f'Your text starts with a greeting ("{opening}")'))
    if on(blocks.SURVEY):
        body = to_html(body_markdown)
        if any(_same_link(href, survey_url) for href in body.links) or any(
            _SURVEY_WORDS.search(words) for _href, words in body.link_texts
        ):
            found.append(_repeat(blocks.SURVEY, "Your text links to the survey"))
    if on(blocks.CASCADE) and any(_CASCADE.search(p) for p in paragraphs):
        found.append(_repeat(blocks.CASCADE, "Your text asks readers to pass it on"))
    if on(blocks.SIGN_OFF):
        tail = paragraphs[-3:]
        name = " ".join(signatory.split()).casefold()
        if any(_SIGN_OFF.match(p) for p in tail) or (
            name and any(p.casefold().startswith(name) for p in tail)
        ):
            found.append(_repeat(blocks.SIGN_OFF, "Your text ends with a sign-off"))
    return found
