"""The launch message as people will see it: desktop, phone, Outlook for Windows (which
ignores max-width) and a dark-mode inbox. Screenshots go to test-artifacts/message/."""

from __future__ import annotations

from pathlib import Path

from mailer.bulletins import context
from mailer.email_templates.models import KIND_LAUNCH
from mailer.email_templates.seeds import seed_parts
from mailer.rendering.prepare import prepare
from tests.browser.test_accessibility import serious
from tests.rendering.conftest import AWKWARD, BODY, CONSULTATION, NOW, ORG, SENDER

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "message"

# What Outlook for Windows does: it reads what <!--[if mso]> hides from everyone else,
# and it ignores max-width.
IGNORE_MAX_WIDTH = "* { max-width: none !important; }"


def launch_html() -> str:
    values = context.build(
        kind=KIND_LAUNCH,
        content=context.Content(
            subject="Have your say: the draft Police and Crime Plan",
            preheader="",
            body_markdown=BODY,
        ),
        org=ORG,
        consultation=CONSULTATION,
        documents=[],
        files=[
            context.DocumentView(
                title="Draft Police and Crime Plan",
                filename="draft-plan.pdf",
                size=1_250_000,
                accessible_url="https://www.northshire-pcc.example.org/plan",
            ),
            context.DocumentView(title="Easy read summary", filename="easy-read.docx", size=84_000),
        ],
        timezone="Europe/London",
        now=NOW,
        web_version="https://mailer.example.org/bulletins/abc",
    )
    return prepare(seed_parts(KIND_LAUNCH), values, sender=SENDER).html(AWKWARD[1])


def as_outlook(html: str) -> str:
    return html.replace("<!--[if mso]>", "").replace("<![endif]-->", "")


def sheet_width(page) -> float:  # type: ignore[no-untyped-def]
    return page.evaluate("document.querySelector('table.sheet').getBoundingClientRect().width")


def test_the_launch_message_at_desktop_phone_outlook_and_dark(browser) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    html = launch_html()
    views = {
        "desktop": ({"width": 1280, "height": 900}, "light", html, ""),
        "phone": ({"width": 375, "height": 800}, "light", html, ""),
        "outlook": ({"width": 1280, "height": 900}, "light", as_outlook(html), IGNORE_MAX_WIDTH),
        "dark": ({"width": 1280, "height": 900}, "dark", html, ""),
    }
    widths = {}
    problems = {}
    for name, (viewport, scheme, source, css) in views.items():
        browser_context = browser.new_context(viewport=viewport, color_scheme=scheme)
        page = browser_context.new_page()
        try:
            page.set_content(source)
            if css:
                page.add_style_tag(content=css)
            widths[name] = sheet_width(page)
            if name == "dark":
                background = page.evaluate(
                    "getComputedStyle(document.querySelector('table.sheet')).backgroundColor"
                )
                assert background == "rgb(28, 33, 39)", background
                problems[name] = serious(page)  # contrast, in the dark colours
            if name == "phone":
                assert page.evaluate("document.documentElement.scrollWidth") <= 375
            page.screenshot(path=str(ARTIFACTS / f"launch-{name}.png"), full_page=True)
        finally:
            browser_context.close()
    assert widths["desktop"] == 640
    assert widths["phone"] <= 375
    # Without max-width the conditional 640-pixel table still holds the column.
    assert widths["outlook"] <= 660, widths
    assert {k: v for k, v in problems.items() if v} == {}


def test_without_the_outlook_table_the_column_would_run_the_full_window(browser) -> None:  # type: ignore[no-untyped-def]
    # The check above means something: with max-width ignored and no conditional table
    # (as the message was before), the sheet spreads across the window.
    browser_context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = browser_context.new_page()
    try:
        page.set_content(launch_html())
        page.add_style_tag(content=IGNORE_MAX_WIDTH)
        assert sheet_width(page) > 1000
    finally:
        browser_context.close()
