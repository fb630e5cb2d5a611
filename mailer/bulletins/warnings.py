"""What an editor should look at before a bulletin goes anywhere.

Warnings never block (the approver sees them too); a template problem does, and is
reported by the template service, not here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from mailer.rendering.markdown import BodyHtml

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
