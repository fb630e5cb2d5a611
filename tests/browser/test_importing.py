"""An editor imports a council's spreadsheet with an organisation type the office has
not set up and a column of its own, and keeps every person. Screenshots of the preview
at 1280 and 375 px go to test-artifacts/import/."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from contacts.models import Contact
from mailer.accounts import roles
from mailer.database import Database
from tests.browser.site import sign_in
from tests.conftest import add_user

pytestmark = pytest.mark.browser

PARTNERS = (
    "E-mail address,Full name,Organisation name,Organisation type,Job title,Ward\r\n"
    "amina@example.org,Amina Khan,St Mary's,Faith group,Vicar,Eastfield\r\n"
    "ben@example.org,Ben Ode,Central Mosque,Faith group,Trustee,Westgate\r\n"
    "cara@example.org,Cara Lee,Northshire Council,Local authority,Officer,Northgate\r\n"
    "nope,No Address,,,,\r\n"
)


def test_import_with_a_new_type_and_a_custom_column_keeps_everyone(
    page,  # type: ignore[no-untyped-def]
    live_server: str,
    db: Database,
    tmp_path: Path,
    artifacts_dir: Path,
) -> None:
    add_user(db, email="editor@example.org", role=roles.EDITOR)
    csv_file = tmp_path / "council partners.csv"
    csv_file.write_bytes(PARTNERS.encode("utf-8-sig"))
    sign_in(page, live_server, "editor@example.org")
    page.goto(f"{live_server}/admin/contacts/import")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check the file").click()

    heading = page.get_by_role("heading", name="Check before importing council partners.csv")
    assert heading.is_visible()
    page.get_by_label("“Faith group”").select_option("create")
    assert page.get_by_label("Job title").input_value() == "role"  # guessed
    page.get_by_label("Ward").select_option("area")
    page.get_by_role("button", name="Update the preview").click()

    assert page.get_by_text(
        "This type will be added to your organisation types: Faith group"
    ).is_visible()
    rejected = page.get_by_role("region", name="Rejected rows")
    assert "nope" in rejected.inner_text()
    shots = artifacts_dir / "import"
    shots.mkdir(exist_ok=True)
    backend = db.engine.dialect.name
    page.screenshot(path=str(shots / f"preview-1280-{backend}.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(shots / f"preview-375-{backend}.png"), full_page=True)
    assert width <= 375, f"the preview scrolls sideways at 375 px ({width} px wide)"
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("link", name="New (3)").click()
    assert "Amina Khan, St Mary's" in page.get_by_role("region", name="New rows").inner_text()
    with db.transaction() as session:
        assert session.scalars(select(Contact)).all() == []  # nothing yet

    page.get_by_role("button", name="Import 3 people").click()
    assert page.get_by_role("heading", name="Imported council partners.csv").is_visible()
    with db.transaction() as session:
        stored = {c.email_key: c for c in session.scalars(select(Contact))}
        assert set(stored) == {"amina@example.org", "ben@example.org", "cara@example.org"}
        amina = stored["amina@example.org"]
        assert amina.organisation_type is not None
        assert amina.organisation_type.name == "Faith group"
        assert (amina.role, amina.area) == ("Vicar", "Eastfield")
