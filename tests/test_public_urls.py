"""Every public address the product builds is one its own routes answer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest
from flask import Flask

from mailer import public_urls
from mailer.public_urls import PublicUrls, fill

BASE = "https://mailer.example.org/"
SHA = "ab" * 32


def route(app: Flask, url: str, method: str = "GET") -> tuple[str, dict[str, Any]]:
    """The endpoint and values the app's URL map gives ``url``."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE.rstrip("/")
    adapter = app.url_map.bind(parts.netloc, url_scheme=parts.scheme)
    # A server hands the app the decoded path (PATH_INFO), as here.
    endpoint, values = adapter.match(unquote(parts.path), method=method)
    return str(endpoint), dict(values)


def test_each_builder_reaches_its_route(app: Flask) -> None:
    urls = PublicUrls(BASE)
    expected = [
        (urls.unsubscribe("t0k.en-_"), "subscriptions.unsubscribe_page", {"token": "t0k.en-_"}),
        (urls.preferences("t0k.en-_"), "subscriptions.preferences", {"token": "t0k.en-_"}),
        (urls.unsubscribe_test(), "subscriptions.test_link", {}),
        (urls.preferences_test(), "subscriptions.test_link", {}),
        (urls.follow("Ab-_9"), "public.follow", {"token": "Ab-_9"}),
        (urls.share("c0de"), "public.share", {"code": "c0de"}),
        (urls.shared("c0de"), "public.shared_form", {"code": "c0de"}),
        (urls.consultation("police-plan"), "public.consultation_page", {"slug": "police-plan"}),
        (
            urls.consultation_confirm("police-plan", "s1gn-up"),
            "public.confirm_page",
            {"slug": "police-plan", "token": "s1gn-up"},
        ),
        (
            urls.document(SHA, "the plan (draft).pdf"),
            "documents.document",
            {"sha256": SHA, "filename": "the plan (draft).pdf"},
        ),
        (urls.archive(), "web_versions.archive", {}),
        (urls.web_version("w3b-t0k_"), "web_versions.web_version", {"token": "w3b-t0k_"}),
        (urls.subscribe(), "subscribe.subscribe_page", {}),
        (urls.subscribe_confirm("s3aled_"), "subscribe.confirm_page", {"token": "s3aled_"}),
        (urls.notices_off("n0t.ice-_"), "review_notices.notices_off", {"token": "n0t.ice-_"}),
    ]
    for url, endpoint, values in expected:
        assert route(app, url) == (endpoint, values), url


def test_the_test_token_links_are_not_read_as_real_tokens(app: Flask) -> None:
    urls = PublicUrls(BASE)
    assert urls.unsubscribe(public_urls.TEST_TOKEN) == urls.unsubscribe_test()
    assert urls.preferences(public_urls.TEST_TOKEN) == urls.preferences_test()
    assert route(app, urls.unsubscribe_test(), "POST")[0] == "subscriptions.test_link"


def test_every_rule_is_registered_by_a_route(app: Flask) -> None:
    registered = {rule.rule for rule in app.url_map.iter_rules()}
    rules = {
        value
        for name, value in vars(public_urls).items()
        if name.isupper() and isinstance(value, str) and value.startswith("/")
    }
    assert rules and rules <= registered, rules - registered


def test_fill_percent_encodes_each_value() -> None:
    assert fill(public_urls.SHARE, code="a b/c?d") == "/s/a%20b%2Fc%3Fd"
    assert fill(public_urls.CONSULTATION, slug="é") == "/consultations/%C3%A9"
    # A path: value keeps its slashes; everything else in it is encoded.
    assert (
        fill(public_urls.DOCUMENT, sha256=SHA, filename="folder/a b#1.pdf")
        == f"/documents/{SHA}/folder/a%20b%231.pdf"
    )
    with pytest.raises(KeyError):
        fill(public_urls.CONSULTATION_CONFIRM, slug="x")


def test_addresses_are_what_messages_carried_before() -> None:
    """The links in messages already sent and in stored tracked links must not change."""
    urls = PublicUrls(BASE)
    base = BASE.rstrip("/")
    filename = "Draft plan (v2) & notes.pdf"
    assert urls.document(SHA, filename) == f"{base}/documents/{SHA}/{quote(filename)}"
    assert urls.share("Ab_-9") == f"{base}/s/Ab_-9"
    assert urls.shared("Ab_-9") == f"{base}/s/Ab_-9/shared"
    assert urls.unsubscribe("x.y_z-") == f"{base}/u/x.y_z-"
    assert urls.preferences("x.y_z-") == f"{base}/p/x.y_z-"
    assert urls.follow("tok") == f"{base}/r/tok"
    assert urls.consultation("example") == f"{base}/consultations/example"


# A public address spelt out by hand: an f-string gluing a base onto a public path, or a
# route registering its own literal instead of the rule in mailer.public_urls.
_HAND_BUILT = re.compile(
    r"""f["'][^"']*\{[^}]*\}/(?:u|p|r|s|documents|consultations)/"""
    r"""|_bp\.(?:get|post|route)\(["']/(?:u|p|r|s|documents|consultations)/"""
)
# The consultation timeline's own package builds its links itself for now.
_NOT_YET = ("scheduler",)


def test_public_addresses_are_built_in_one_place() -> None:
    root = Path(__file__).resolve().parent.parent
    found = [
        f"{path.relative_to(root)}:{number}"
        for package in ("mailer", "contacts", "scheduler")
        if package not in _NOT_YET
        for path in sorted((root / package).rglob("*.py"))
        if path.name != "public_urls.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _HAND_BUILT.search(line)
    ]
    assert not found, "build public addresses with mailer.public_urls: " + ", ".join(found)
