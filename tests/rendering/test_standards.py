"""Every shipped template, for every kind, against the standards checkers we promise.

- the Nu HTML Checker (npm vnu-jar): no errors;
- caniemail's data (npm doiuse-email) for Gmail and Outlook: nothing unsupported beyond
  the <body> element itself and the role attribute (see ALLOWED below);
- SpamAssassin's offline rules (`spamassassin -L -t`): a score of 1.0 or less.

The checkers come from `make test` (npm) and `.ci/run` (apt). Without one, these tests
skip locally and fail under CI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mailer.rendering.prepare import message_id
from tests.rendering.conftest import ALL_KINDS, AWKWARD, prepared

pytestmark = pytest.mark.slow

TOOLS = Path(__file__).resolve().parents[2] / "tools" / "email-checks"
VNU = TOOLS / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

# caniemail lists these as unsupported, and neither is ours to change:
# - <body>: Outlook's phone apps replace it; every email has one.
# - role="presentation": layout tables need it, so screen readers skip them;
#   Windows Mail ignores the attribute, which does no harm.
# And these, each in the clients named only, since the template does without them there:
# - @media: only the dark-mode colours use it; a client without it shows the light
#   design, whose contrast is already checked.
# - display:none and overflow: the hidden preheader's belt and braces. Gmail's mobile
#   web hides it by max-height:0 with overflow:hidden; Outlook for Windows by
#   mso-hide:all (in its conditional style); the Outlook apps by display:none.
ALLOWED = (
    "`<body> element`",
    "`role attribute`",
    "`@media` is not supported by `gmail.mobile-webmail`",
    "`@media` is not supported by `outlook.windows`",
    "`@media` is not supported by `outlook.windows-mail`",
    "`display:none` is not supported by `gmail.mobile-webmail`",
    "`overflow` is not supported by `outlook.windows`",
    "`overflow` is not supported by `outlook.windows-mail`",
    "`overflow` is not supported by `outlook.android`",
)


def need(tool: str, present: bool) -> None:
    if present:
        return
    message = f"{tool} is not installed (make test installs the npm checkers; .ci/run the rest)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """kind -> (HTML file, .eml file), rendered for a recipient with awkward data."""
    folder = tmp_path_factory.mktemp("email")
    files = {}
    for kind in ALL_KINDS:
        message = prepared(kind)
        recipient = AWKWARD[1]
        html = folder / f"{kind}.html"
        html.write_text(message.html(recipient), encoding="utf-8")
        eml = folder / f"{kind}.eml"
        eml.write_bytes(
            message.personalise(recipient, message_id=message_id("northshire-pcc.example.org"))
        )
        files[kind] = (html, eml)
    return files


def test_html_has_no_errors_in_the_nu_html_checker(rendered) -> None:  # type: ignore[no-untyped-def]
    need("java", shutil.which("java") is not None)
    need("vnu-jar", VNU.exists())
    html_files = [str(html) for html, _eml in rendered.values()]
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--format", "json", "--stdout", *html_files],
        capture_output=True,
        text=True,
        timeout=180,
    )
    messages = json.loads(result.stdout)["messages"]
    errors = [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m["type"] == "error"
    ]
    assert errors == []


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_nothing_unsupported_in_gmail_or_outlook(rendered, kind: str) -> None:  # type: ignore[no-untyped-def]
    need("node", shutil.which("node") is not None)
    need("doiuse-email", (TOOLS / "node_modules" / "doiuse-email").exists())
    html, _eml = rendered[kind]
    result = subprocess.run(
        ["node", str(TOOLS / "doiuse.mjs"), str(html)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    errors = json.loads(result.stdout)["errors"]
    assert [e for e in errors if not e.startswith(ALLOWED)] == []


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_spamassassin_scores_one_or_less(rendered, kind: str) -> None:  # type: ignore[no-untyped-def]
    need("spamassassin", shutil.which("spamassassin") is not None)
    _html, eml = rendered[kind]
    result = subprocess.run(
        ["spamassassin", "-L", "-t"],
        input=eml.read_bytes(),
        capture_output=True,
        timeout=120,
    )
    report = result.stdout.decode("utf-8", "replace")
    status = re.search(r"^X-Spam-Status: .*?score=(-?[\d.]+)", report, re.MULTILINE)
    assert status, report[-2000:]
    score = float(status.group(1))
    details = report[report.find("Content analysis details") :][:2000]
    assert score <= 1.0, details
