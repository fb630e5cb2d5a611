"""What is not counted as a person: HEAD requests, scanners and libraries, repeats."""

from __future__ import annotations

import pytest

from mailer.tracking.bots import Recent, is_person

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126 Safari/537.36"


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.5)",
        "Mozilla/5.0 (compatible; Proofpoint URL Defense)",
        "Mimecast Security Scanner",
        "Barracuda Sentinel (EE)",
        "python-requests/2.32",
        "curl/8.5.0",
        "facebookexternalhit/1.1",
        "Slackbot-LinkExpanding 1.0",
        "",
    ],
)
def test_scanners_libraries_and_previewers_are_not_people(agent: str) -> None:
    assert not is_person(method="GET", user_agent=agent, visitor="203.0.113.9", target=agent)


def test_a_head_request_is_not_a_person() -> None:
    assert not is_person(method="HEAD", user_agent=BROWSER, visitor="203.0.113.1", target="/x")


def test_the_same_visitor_again_within_the_window_counts_once() -> None:
    now = [1000.0]
    recent = Recent(window=60, clock=lambda: now[0])
    assert not recent.repeated("203.0.113.2 browser", "/s/abc")
    now[0] += 30
    assert recent.repeated("203.0.113.2 browser", "/s/abc")
    assert not recent.repeated("203.0.113.3 browser", "/s/abc")  # someone else
    assert not recent.repeated("203.0.113.2 browser", "/s/other")  # another link
    now[0] += 61
    assert not recent.repeated("203.0.113.2 browser", "/s/abc")
