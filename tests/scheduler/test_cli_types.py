"""``--type`` on the command line takes a consultation type as the admin's form names it
(any case) or by its code, and an unknown one is refused with the known ones listed."""

from __future__ import annotations

import json
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from contacts.models import OrganisationType
from mailer.database import Database
from tests.scheduler.test_cli import create, mailer, office, write_config

WHEN = {"opens": "2099-03-06T10:00", "closes": "2099-04-02"}


def test_a_consultation_type_by_its_name_in_any_case_or_by_its_code(
    tmp_path: Path, db: Database
) -> None:
    config = write_config(tmp_path, db)
    office(config)
    for typed in ("budget AND Precept", "precept"):
        done = create(config, "--type", typed, **WHEN)
        assert done.returncode == 0, done.stderr
        cid = done.stdout.strip().splitlines()[-1]
        shown = json.loads(mailer(config, "consultation", "show", cid, "--json").stdout)
        assert shown["type"] == "precept"


def test_an_unknown_consultation_type_lists_the_known_ones(tmp_path: Path, db: Database) -> None:
    config = write_config(tmp_path, db)
    office(config)
    done = create(config, "--type", "Budget", **WHEN)
    assert done.returncode == 2
    assert "'Budget' is not a consultation type" in done.stderr
    assert '"Budget and precept" (precept)' in done.stderr
    assert '"General consultation" (general)' in done.stderr
    listed = mailer(config, "consultation", "list")
    assert listed.stdout.strip().count("\n") == 0  # nothing made


def test_the_help_names_the_types_as_people_read_them(tmp_path: Path, db: Database) -> None:
    config = write_config(tmp_path, db)
    shown = mailer(config, "consultation", "create", "--help").stdout
    assert "Budget and precept" in " ".join(shown.split())


def test_the_organisation_types_page_shows_each_code_for_the_command_line(
    admin_client: FlaskClient, db: Database
) -> None:
    with db.reading() as session:
        public = session.scalar(
            select(OrganisationType).where(OrganisationType.name == "Member of the public")
        )
        assert public is not None
        code = public.id
    page = admin_client.get("/admin/organisation-types/").get_data(as_text=True)
    assert "<code>--org-type</code>" in page and '<th scope="col">Code</th>' in page
    assert f'Member of the public</th>\n      <td data-label="Code">{code}</td>' in page
