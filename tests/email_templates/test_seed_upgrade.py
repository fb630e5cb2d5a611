"""Existing installations get the shipped design as a new version, but only for the
family members no office has edited."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from mailer.database import Database
from mailer.email_templates.family import MEMBER_BY_KIND, MEMBERS
from mailer.email_templates.models import KIND_LAUNCH, KINDS, EmailTemplate, TemplateVersion
from mailer.email_templates.seeds import UPDATED_NOTE, Upgrade, seed_parts, upgrade_shipped
from mailer.email_templates.shipped import SHIPPED, digest
from mailer.rendering.prepare import TemplateParts
from tests.cli_helpers import run_mailer
from tests.conftest import BACKENDS, fresh_database

# The launch member exactly as release 043b243 stored it as version 1.
OLD_LAUNCH = json.loads(
    (Path(__file__).parent / "data" / "launch_043b243.json").read_text(encoding="utf-8")
)


def old_parts() -> TemplateParts:
    return TemplateParts(
        subject=OLD_LAUNCH["subject"],
        preheader=OLD_LAUNCH["preheader"],
        html=OLD_LAUNCH["html"],
        text=OLD_LAUNCH["text"],
    )


def as_installed_by_the_old_release(db: Database) -> None:
    """Turn the seeded launch template back into what release 043b243 seeded."""
    with db.transaction() as session:
        template = session.scalar(
            select(EmailTemplate).where(EmailTemplate.name == MEMBER_BY_KIND[KIND_LAUNCH].name)
        )
        version = template.versions[0]
        version.html, version.text = OLD_LAUNCH["html"], OLD_LAUNCH["text"]


def launch_versions(db: Database) -> list[tuple[int, str, str]]:
    with db.transaction() as session:
        template = session.scalar(
            select(EmailTemplate).where(EmailTemplate.name == MEMBER_BY_KIND[KIND_LAUNCH].name)
        )
        return [(v.number, v.note, digest(parts_of(v))) for v in template.versions]


def parts_of(version: TemplateVersion) -> TemplateParts:
    return TemplateParts(
        subject=version.subject, preheader=version.preheader, html=version.html, text=version.text
    )


def test_the_current_sources_are_recorded_as_shipped() -> None:
    # Fails when the seed sources change without their digests in shipped.py: the next
    # release could not then recognise, and upgrade, what this one seeded.
    for kind in KINDS:
        assert digest(seed_parts(kind)) in SHIPPED[kind], kind


def test_the_recorded_old_release_is_recognised() -> None:
    assert digest(old_parts()) in SHIPPED[KIND_LAUNCH]
    assert digest(old_parts()) != digest(seed_parts(KIND_LAUNCH))


def test_an_unedited_old_template_gains_the_new_design_once(db: Database) -> None:
    as_installed_by_the_old_release(db)
    with db.transaction() as session:
        upgrade = upgrade_shipped(session)
    assert upgrade == Upgrade(updated=[MEMBER_BY_KIND[KIND_LAUNCH].name], held=[])
    current = digest(seed_parts(KIND_LAUNCH))
    assert launch_versions(db) == [
        (1, "Shipped with Stakeholder Mailer", digest(old_parts())),
        (2, UPDATED_NOTE, current),
    ]
    # Run again (a second `mailer init`, or every start): nothing more to do.
    with db.transaction() as session:
        assert upgrade_shipped(session).updated == []
    assert [number for number, _note, _digest in launch_versions(db)] == [1, 2]


def test_a_template_the_office_edited_is_never_touched(db: Database) -> None:
    as_installed_by_the_old_release(db)
    with db.transaction() as session:
        template = session.scalar(
            select(EmailTemplate).where(EmailTemplate.name == MEMBER_BY_KIND[KIND_LAUNCH].name)
        )
        template.versions.append(
            TemplateVersion(
                number=2,
                subject=OLD_LAUNCH["subject"],
                preheader=OLD_LAUNCH["preheader"],
                html=OLD_LAUNCH["html"].replace("Have your say", "Tell us what you think"),
                text=OLD_LAUNCH["text"],
                note="Our wording",
            )
        )
    before = launch_versions(db)
    with db.transaction() as session:
        assert upgrade_shipped(session).updated == []
    assert launch_versions(db) == before


def test_an_edit_of_one_character_counts_as_the_office_s(db: Database) -> None:
    with db.transaction() as session:
        template = session.scalar(
            select(EmailTemplate).where(EmailTemplate.name == MEMBER_BY_KIND[KIND_LAUNCH].name)
        )
        template.versions[0].html = OLD_LAUNCH["html"] + " "
    with db.transaction() as session:
        assert upgrade_shipped(session).updated == []
    assert [number for number, _note, _digest in launch_versions(db)] == [1]


def test_a_template_a_waiting_submission_uses_waits_for_a_later_run(db: Database) -> None:
    as_installed_by_the_old_release(db)
    name = MEMBER_BY_KIND[KIND_LAUNCH].name
    with db.transaction() as session:
        upgrade = upgrade_shipped(session, held=lambda template: template.name == name)
    assert upgrade == Upgrade(updated=[], held=[name])
    assert [number for number, _note, _digest in launch_versions(db)] == [1]
    with db.transaction() as session:
        assert upgrade_shipped(session, held=lambda template: False).updated == [name]


def test_a_new_installation_needs_no_upgrade(db: Database) -> None:
    with db.transaction() as session:
        assert upgrade_shipped(session).updated == []
        counts = {t.name: len(t.versions) for t in session.scalars(select(EmailTemplate))}
    assert {m.name: counts[m.name] for m in MEMBERS} == {m.name: 1 for m in MEMBERS}


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new, empty database for each test."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.mark.slow
def test_mailer_init_updates_an_old_installation_and_says_so(
    empty_url: str, tmp_path: Path
) -> None:
    assert run_mailer("init", cwd=tmp_path, MAILER_DATABASE_URL=empty_url).returncode == 0
    database = Database(empty_url)
    try:
        as_installed_by_the_old_release(database)
        again = run_mailer("init", cwd=tmp_path, MAILER_DATABASE_URL=empty_url)
        assert again.returncode == 0, again.stderr
        name = MEMBER_BY_KIND[KIND_LAUNCH].name
        assert f'updated "{name}" to the shipped design (a new version)' in again.stdout
        assert [(n, note) for n, note, _digest in launch_versions(database)] == [
            (1, "Shipped with Stakeholder Mailer"),
            (2, UPDATED_NOTE),
        ]
        third = run_mailer("init", cwd=tmp_path, MAILER_DATABASE_URL=empty_url)
        assert "updated" not in third.stdout
    finally:
        database.dispose()
