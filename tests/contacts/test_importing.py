"""CSV import through the service (both databases) and through the real command."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from contacts import suppression
from contacts.importing import ImportReport, UnusableFile, import_contacts
from contacts.models import (
    UNSUBSCRIBED,
    Contact,
    ContactList,
    ListMembership,
)
from mailer.database import Database
from tests.cli_helpers import run_mailer

HEADER = "email,name,organisation,organisation_type,role,area,tags"


def run_import(db: Database, text: str | bytes, **options) -> ImportReport:  # type: ignore[no-untyped-def]
    data = text.encode("utf-8") if isinstance(text, str) else text
    with db.transaction() as session:
        return import_contacts(session, io.BytesIO(data), **options)


def contacts(db: Database) -> dict[str, Contact]:
    with db.transaction() as session:
        return {c.email_key: c for c in session.scalars(select(Contact))}


def test_clean_file_adds_contacts_to_lists(db: Database) -> None:
    report = run_import(
        db,
        f"{HEADER}\n"
        "alice@example.org,Alice,Northshire Council,Local authority,CEO,North,"
        "partner;panel\n"
        "bob@example.org,Bob,,,,,\n",
        lists=["Partners", "Panel"],
    )
    assert report.summary_line() == "added=2 updated=0 unchanged=0 rejected=0 suppressed=0"
    assert report.created_lists == ["Partners", "Panel"]
    alice = contacts(db)["alice@example.org"]
    assert alice.organisation_type.name == "Local authority"
    assert alice.tag_list == ["partner", "panel"]
    assert alice.source == "import" and alice.lawful_basis == "public task"
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ListMembership)) == 4


def test_messy_spreadsheet(db: Database) -> None:
    rows = [
        "\ufeffE-Mail;Full Name;Organization;Sector;Job title;Region;Labels;Notes",
        "  Alice@Example.ORG ; Alice   Ångström ;Council;local authority;;;a;x",
        "",
        "   ;   ;  ;  ;  ;  ;  ;",
        "bob@@example.org;Bob;;;;;;",
        "ALICE@example.org;Alice twice;;;;;;",
        'carol@example.org;"Carol\r\nBcc: evil@example.net";;;;;;',
        "dave@example.org;Dave;;Polce;;;;",
        "erin@example.org;Erin;;Victims\u2019 service;;;;",
        ";No address;;;;;;",
    ]
    report = run_import(db, "\r\n".join(rows).encode("utf-8"))
    assert report.encoding == "utf-8-sig" and report.delimiter == ";"
    assert report.summary_line() == "added=3 updated=0 unchanged=0 rejected=4 suppressed=0"
    reasons = {r.line: r.reason for r in report.rejections}
    # Line numbers are the file's own; Carol's quoted name spans lines 7 and 8.
    assert set(reasons) == {5, 6, 9, 11}
    assert "@-sign" in reasons[5]
    assert reasons[6] == "the same address as line 2 (that row is the one used)"
    assert reasons[9] == "unknown organisation type 'Polce'"
    assert reasons[11] == "no email address"
    assert [a.line for a in report.additions] == [2, 7, 10]
    assert "Columns left out: Notes" in report.notes
    stored = contacts(db)
    # The local part keeps its case; the key is case-folded; whitespace is tidied.
    assert stored["alice@example.org"].email == "Alice@example.org"
    assert stored["alice@example.org"].name == "Alice Ångström"
    # CR/LF inside a cell can never reach a header.
    assert stored["carol@example.org"].name == "Carol Bcc: evil@example.net"
    assert stored["erin@example.org"].organisation_type.name == "Victims' service"


def test_windows_1252_and_commas(db: Database) -> None:
    data = "Email,Name\r\nzoe@example.org,Zoë Brontë\r\n".encode("cp1252")
    report = run_import(db, data)
    assert report.encoding == "cp1252" and report.delimiter == ","
    assert contacts(db)["zoe@example.org"].name == "Zoë Brontë"


def test_second_run_is_unchanged_and_changes_nothing(db: Database) -> None:
    text = f"{HEADER}\nalice@example.org,Alice,Council,,,,t1\nbob@example.org,Bob,,,,,\n"
    run_import(db, text, lists=["Partners"])
    before = {k: (c.name, c.updated_at) for k, c in contacts(db).items()}
    again = run_import(db, text, lists=["Partners"])
    assert again.summary_line() == "added=0 updated=0 unchanged=2 rejected=0 suppressed=0"
    assert {k: (c.name, c.updated_at) for k, c in contacts(db).items()} == before


def test_known_addresses_are_updated_never_duplicated(db: Database) -> None:
    run_import(db, f"{HEADER}\nalice@example.org,Alice,,,,,t1\n")
    report = run_import(
        db, f"{HEADER}\nALICE@example.org,Alice Smith,,,,North,t2\n", lists=["Panel"]
    )
    assert report.summary_line() == "added=0 updated=1 unchanged=0 rejected=0 suppressed=0"
    assert report.updates[0].reason == "name, area, tags, lists"
    stored = contacts(db)
    assert len(stored) == 1
    alice = stored["alice@example.org"]
    assert (alice.name, alice.area, alice.tags) == ("Alice Smith", "North", "t1;t2")
    # An empty cell never blanks what is known.
    run_import(db, f"{HEADER}\nalice@example.org,,,,,,\n")
    assert contacts(db)["alice@example.org"].name == "Alice Smith"


def test_suppressed_addresses_are_reported_and_never_resubscribed(db: Database) -> None:
    run_import(db, f"{HEADER}\nalice@example.org,Alice,,,,,\n")
    with db.transaction() as session:
        alice = session.scalar(select(Contact))
        alice.status = UNSUBSCRIBED
        suppression.suppress(
            session, email_key=alice.email_key, reason="unsubscribed", contact=alice
        )
        # An erased address: only its hash remains.
        suppression.suppress(session, email_key="gone@example.org", reason="erased")
    report = run_import(
        db,
        f"{HEADER}\nAlice@example.org,Alice New,,,,,\ngone@example.org,Back Again,,,,,\n",
        lists=["Partners"],
    )
    assert report.summary_line() == "added=0 updated=0 unchanged=0 rejected=0 suppressed=2"
    assert [(r.line, r.reason) for r in report.suppressions] == [
        (2, "unsubscribed"),
        (3, "on the suppression list"),
    ]
    stored = contacts(db)
    assert set(stored) == {"alice@example.org"}
    assert stored["alice@example.org"].status == UNSUBSCRIBED
    assert stored["alice@example.org"].name == "Alice"
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ListMembership)) == 0


def test_dry_run_changes_nothing_and_gives_the_real_counts(db: Database) -> None:
    text = f"{HEADER}\nalice@example.org,Alice,,,,,\nbad,,,,,,\n"
    dry = run_import(db, text, lists=["Partners"], dry_run=True)
    assert dry.summary_line() == "added=1 updated=0 unchanged=0 rejected=1 suppressed=0"
    assert contacts(db) == {}
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ContactList)) == 0
    real = run_import(db, text, lists=["Partners"])
    assert real.summary_line() == dry.summary_line()


def test_failure_midway_leaves_the_database_as_it_was(db: Database) -> None:
    rows = "".join(f"user{i}@example.org,User {i},,,,,\n" for i in range(2500))
    stream = io.BytesIO(f"{HEADER}\n{rows}".encode())

    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:  # type: ignore[override]
            if self.tell() > 60_000:
                raise OSError("disk read error")
            return super().read(size)

    with pytest.raises(OSError), db.transaction() as session:
        import_contacts(session, Broken(stream.getvalue()))
    # The first batches were written inside the transaction, then rolled back.
    assert contacts(db) == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"name,organisation\nAlice,Council\n", "no email column"),
        (b"email,E-mail\na@example.org,b@example.org\n", "two columns mean 'email'"),
    ],
)
def test_unusable_files(db: Database, data: bytes, message: str) -> None:
    with pytest.raises(UnusableFile, match=message):
        run_import(db, data)


def test_over_wide_rows_are_rejected_with_a_hint(db: Database) -> None:
    report = run_import(db, "email,name\nalice@example.org,Smith, Alice\n")
    assert report.rejected == 1
    assert "missing its quotes" in report.rejections[0].reason


# --- the command --------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_messy_file_counts_lines_and_exit_codes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run_mailer("init", cwd=tmp_path, MAILER_DATABASE_URL=url).returncode == 0
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        f"{HEADER}\nalice@example.org,Alice,,,,,\nnope,,,,,,\nalice@example.org,Again,,,,,\n"
    )
    first = run_mailer(
        "contacts",
        "import",
        str(csv_file),
        "--list",
        "Partners",
        cwd=tmp_path,
        MAILER_DATABASE_URL=url,
    )
    assert first.returncode == 1
    lines = first.stdout.strip().splitlines()
    assert lines[0] == "list 'Partners' created"
    assert lines[1].startswith("line 3: rejected: nope: ")
    assert lines[2] == (
        "line 4: rejected: alice@example.org: the same address as line 2 (that row is the one used)"
    )
    assert lines[-1] == "added=1 updated=0 unchanged=0 rejected=2 suppressed=0"
    assert "2 row(s) rejected" in first.stderr

    clean = tmp_path / "clean.csv"
    clean.write_text(f"{HEADER}\nalice@example.org,Alice,,,,,\n")
    second = run_mailer("contacts", "import", str(clean), cwd=tmp_path, MAILER_DATABASE_URL=url)
    assert second.returncode == 0
    assert (
        second.stdout.strip().splitlines()[-1]
        == "added=0 updated=0 unchanged=1 rejected=0 suppressed=0"
    )

    missing = run_mailer("contacts", "import", "nope.csv", cwd=tmp_path, MAILER_DATABASE_URL=url)
    assert missing.returncode == 2 and "cannot read nope.csv" in missing.stderr
    (tmp_path / "bad.csv").write_text("name\nAlice\n")
    bad = run_mailer("contacts", "import", "bad.csv", cwd=tmp_path, MAILER_DATABASE_URL=url)
    assert bad.returncode == 2 and "no email column" in bad.stderr

    exported = run_mailer(
        "contacts", "export", "--list", "Partners", cwd=tmp_path, MAILER_DATABASE_URL=url
    )
    assert exported.returncode == 0
    assert exported.stdout.splitlines()[1].startswith("alice@example.org,Alice,")
    unknown = run_mailer(
        "contacts", "export", "--list", "Nope", cwd=tmp_path, MAILER_DATABASE_URL=url
    )
    assert unknown.returncode == 1 and "no list called 'Nope'" in unknown.stderr


def test_a_list_name_too_long_makes_the_file_unusable(db: Database) -> None:
    with pytest.raises(UnusableFile, match="at most 120 characters"):
        run_import(db, f"{HEADER}\nalice@example.org,,,,,,\n", lists=["L" * 121])
    assert contacts(db) == {}


# --- unknown organisation types and chosen columns ------------------------------------------

COUNCIL = (
    "E-mail address,Full name,Organisation type,Job title,Ward\n"
    "amina@example.org,Amina Khan,Faith group,Vicar,Eastfield\n"
    "ben@example.org,Ben Ode,faith GROUP,Director,Westgate\n"
    "cara@example.org,Cara Lee,Housing association,Trustee,Eastfield\n"
)


def test_unknown_types_are_created_or_left_blank_as_chosen(db: Database) -> None:
    from contacts.importing.types import BLANK, CREATE

    columns = ["email", "name", "organisation_type", "role", "area"]
    dry = run_import(
        db,
        COUNCIL,
        dry_run=True,
        columns=columns,
        types={"faith group": CREATE, "housing association": BLANK},
    )
    assert dry.summary_line() == "added=3 updated=0 unchanged=0 rejected=0 suppressed=0"
    assert [(u.name, u.rows, u.choice) for u in dry.unknown_types] == [
        ("Faith group", 2, CREATE),
        ("Housing association", 1, BLANK),
    ]
    assert dry.created_types == ["Faith group"]
    real = run_import(
        db, COUNCIL, columns=columns, types={"faith group": CREATE, "housing association": BLANK}
    )
    assert real.summary_line() == dry.summary_line()
    stored = contacts(db)
    assert stored["amina@example.org"].organisation_type.name == "Faith group"
    assert stored["ben@example.org"].organisation_type_id == (
        stored["amina@example.org"].organisation_type_id
    )
    assert stored["cara@example.org"].organisation_type is None
    assert stored["amina@example.org"].area == "Eastfield"
    assert stored["amina@example.org"].role == "Vicar"


def test_by_default_unknown_types_are_rejected_and_unknown_columns_left_out(
    db: Database,
) -> None:
    report = run_import(db, COUNCIL)
    assert report.rejected == 3
    assert report.ignored_columns == ["Ward"]
    assert report.rejections[0].reason == "unknown organisation type 'Faith group'"
    assert any(note.startswith("known organisation types: ") for note in report.notes)


def test_two_columns_for_the_name_are_put_together(db: Database) -> None:
    run_import(
        db,
        "Email,First name,Surname,Tags,Keywords\nal@example.org,Al,Smith,a;b,c\n",
        columns=["email", "name", "name", "tags", "tags"],
    )
    al = contacts(db)["al@example.org"]
    assert al.name == "Al Smith" and al.tag_list == ["a", "b", "c"]


def test_utf16_files_from_excel_are_read(db: Database) -> None:
    data = "email\tname\r\nzoe@example.org\tZoë\r\n".encode("utf-16")
    report = run_import(db, data)
    assert report.encoding == "utf-16" and report.delimiter == "\t"
    assert contacts(db)["zoe@example.org"].name == "Zoë"


@pytest.mark.slow
def test_cli_can_create_unknown_types(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run_mailer("init", cwd=tmp_path, MAILER_DATABASE_URL=url).returncode == 0
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(f"{HEADER}\nalice@example.org,Alice,,Faith group,,,\n")
    done = run_mailer(
        "contacts",
        "import",
        str(csv_file),
        "--unknown-types",
        "create",
        cwd=tmp_path,
        MAILER_DATABASE_URL=url,
    )
    assert done.returncode == 0, done.stderr
    assert "organisation type 'Faith group' created" in done.stdout


def test_the_rejected_rows_file_keeps_every_cell_as_written(db: Database) -> None:
    from contacts.importing.preview import rejected_rows_csv

    report = run_import(
        db,
        'email,name\nalice@example.org,"Smith, Alice"\nbob@example.org,Smith, Bob\n'
        'nope,"two\nlines"\n',
        dry_run=True,
        keep_rejected=True,
    )
    lines = list(csv.reader(io.StringIO("".join(rejected_rows_csv(report)))))
    assert lines[0] == ["email", "name", "problem"]
    # An over-wide row keeps its extra cell, after the problem, so nothing is lost.
    assert lines[1][:2] == ["bob@example.org", "Smith"] and lines[1][3] == " Bob"
    assert "missing its quotes" in lines[1][2]
    assert lines[2][:2] == ["nope", "two\nlines"]
    assert len(lines) == 3
