"""The shipped emails in a real browser: axe-core, and a phone-width layout that fits."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.test_accessibility import serious
from tests.rendering.conftest import ALL_KINDS, AWKWARD, prepared

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.mark.parametrize("width", [640, 375])
def test_every_kind_passes_axe_and_fits_a_phone(browser, width: int) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    ARTIFACTS.mkdir(exist_ok=True)
    problems = {}
    try:
        for kind in ALL_KINDS:
            page.set_content(prepared(kind).html(AWKWARD[2]))
            problems[kind] = serious(page)
            # Single column: nothing wider than the screen, so no sideways scrolling.
            assert page.evaluate("document.documentElement.scrollWidth") <= width, kind
            page.screenshot(path=str(ARTIFACTS / f"email-{kind}-{width}.png"), full_page=True)
    finally:
        context.close()
    assert {k: v for k, v in problems.items() if v} == {}
