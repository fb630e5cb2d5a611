"""Uploads between an import preview and its confirmation: owner-only, and withdrawn
when someone in them is erased."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from contacts import data_rights
from contacts.data_rights import ERASURE_SCRUBBERS
from contacts.models import Contact
from mailer.accounts.models import User
from mailer.database import Database
from tests.contacts.import_helpers import apply, upload_id
from tests.contacts.test_importing import HEADER, run_import

UPLOAD = f"{HEADER}\nbob@example.org,Bob,,,,,\nAlice@Example.org,Alice,,,,,\n"


def _preview(client: FlaskClient, data: bytes) -> str:
    return upload_id(client, data, "partners.csv", new_list="Partners")


def _confirm(client: FlaskClient, upload: str):  # type: ignore[no-untyped-def]
    """Import it, as the editor would from its preview (which may have gone)."""
    preview = client.get(f"/admin/contacts/import/{upload}")
    if preview.status_code == 302:
        return client.get(preview.headers["Location"])
    return apply(client, upload)


def _uploads(app: Flask) -> Path:
    return Path(app.instance_path) / "uploads"


def test_erasure_withdraws_a_pending_upload_holding_the_address(
    app: Flask, admin_client: FlaskClient, db: Database, admin_user: User
) -> None:
    run_import(db, f"{HEADER}\nalice@example.org,Alice,,,,,\n")
    other = _preview(admin_client, f"{HEADER}\ncarol@example.org,Carol,,,,,\n".encode())
    # Excel's Windows-1252, with the address in another case.
    upload_id = _preview(admin_client, UPLOAD.replace("Bob", "Zoë").encode("cp1252"))
    stored = _uploads(app) / f"{upload_id}.csv"
    assert b"alice@example.org" in stored.read_bytes().lower()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600

    with app.app_context(), db.transaction() as session:
        alice = session.scalar(select(Contact).where(Contact.email_key == "alice@example.org"))
        data_rights.erase(
            session,
            alice,
            by=session.get(User, admin_user.id),
            scrubbers=app.extensions[ERASURE_SCRUBBERS],
        )

    # No file in the instance folder holds the address any more.
    for path in _uploads(app).iterdir():
        assert b"alice@example.org" not in path.read_bytes().lower(), path.name
    # The editor who confirms is told why, and nothing is imported.
    page = _confirm(admin_client, upload_id).get_data(as_text=True)
    assert "withdrawn because someone in it has since been erased" in page
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 0
    # An upload without the address is untouched.
    assert "Imported partners.csv" in _confirm(admin_client, other).get_data(as_text=True)


def test_an_upload_is_claimed_once_and_kept_for_its_owner(tmp_path: Path) -> None:
    from contacts import pending_imports

    pending = pending_imports.Pending(owner_id=7, filename="people.csv")
    upload = "a" * 32
    path = pending_imports.save(tmp_path, upload, io.BytesIO(UPLOAD.encode()), pending)
    note = path.with_suffix(".json")
    assert stat.S_IMODE(note.stat().st_mode) == 0o600
    with pytest.raises(pending_imports.NotYours):
        pending_imports.load(tmp_path, upload, owner_id=8)
    assert pending_imports.load(tmp_path, "../" + upload, owner_id=7) is None
    found = pending_imports.load(tmp_path, upload, owner_id=7)
    assert found is not None and found[1] == pending
    # Two requests applying at once: only the first gets the file.
    taken = pending_imports.claim(path)
    assert taken is not None and pending_imports.claim(path) is None
    pending_imports.release(taken)  # its import failed: it can be applied again
    taken = pending_imports.claim(path)
    assert taken is not None
    pending_imports.finish(taken)
    assert pending_imports.load(tmp_path, upload, owner_id=7) is None
    assert pending_imports.why_missing(tmp_path, upload) == pending_imports.IMPORTED
    assert pending_imports.load(tmp_path, upload, owner_id=7, applied=True) is not None
    # A note changed by hand to name someone else is not trusted.
    other = "b" * 32
    path = pending_imports.save(tmp_path, other, io.BytesIO(b"email\n"), pending)
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(pending_imports.NotYours):
        pending_imports.load(tmp_path, other, owner_id=7)
