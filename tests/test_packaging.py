"""A plain (non-editable) install must find templates/, migrations/ and static files."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent


def test_wheel_carries_templates_and_migrations_and_works_from_elsewhere(tmp_path: Path) -> None:
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("stakeholder_mailer-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "mailer/templates/layout.html",
        "mailer/templates/auth/login.html",
        "mailer/templates/email_seeds/stakeholder_special/_layout.html",
        "mailer/migrations/env.py",
        "mailer/migrations/versions/0001_foundation.py",
        "mailer/static/admin.css",
        "contacts/__init__.py",
        "scheduler/__init__.py",
    ):
        assert required in names, required
    assert not any(n.startswith(("tests/", "templates/", "migrations/")) for n in names)

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    probe = (
        "import mailer, mailer.paths as p;"
        f"assert mailer.__file__.startswith({str(site)!r}), mailer.__file__;"
        "print(p.page_templates_dir()); print(p.migrations_dir());"
        "from mailer.app import create_app;"
        "app = create_app();"
        "c = app.test_client();"
        "r = c.get('/login'); assert r.status_code == 200, r.status_code;"
        "assert c.get('/static/admin.css').status_code == 200"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    templates, migrations = result.stdout.split()
    assert templates == str(site / "mailer" / "templates")
    assert migrations == str(site / "mailer" / "migrations")
