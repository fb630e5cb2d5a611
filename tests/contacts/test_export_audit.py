"""Every bulk export of contacts is on the record: the admin page's as its admin, the
command line's as "command line"."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import Database
from tests.cli_helpers import run_mailer


@pytest.mark.slow
def test_the_command_line_export_is_audited(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run_mailer("init", cwd=tmp_path, MAILER_DATABASE_URL=url).returncode == 0
    source = tmp_path / "people.csv"
    source.write_text("email,name\na@example.org,Ann\n", encoding="utf-8")
    imported = run_mailer(
        "contacts",
        "import",
        str(source),
        "--list",
        "Partners",
        cwd=tmp_path,
        MAILER_DATABASE_URL=url,
    )
    assert imported.returncode == 0, imported.stderr
    exported = run_mailer(
        "contacts", "export", "--list", "Partners", cwd=tmp_path, MAILER_DATABASE_URL=url
    )
    assert exported.returncode == 0, exported.stderr
    assert "a@example.org" in exported.stdout
    database = Database(url)
    try:
        with database.transaction() as session:
            entry = session.scalars(
                select(AuditEntry).where(AuditEntry.action == actions.CONTACTS_EXPORTED)
            ).one()
            assert entry.actor_label == "command line"
            assert entry.detail == {"list": "Partners"}
    finally:
        database.dispose()
