from __future__ import annotations

import csv
import io

from contacts.exporting import export_rows, neutralise
from mailer.database import Database
from tests.contacts.test_importing import HEADER, run_import


def test_formula_cells_are_neutralised() -> None:
    for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx"):
        assert neutralise(cell) == "'" + cell
    assert neutralise("Alice") == "Alice"


def test_export_round_trips_through_import(db: Database) -> None:
    run_import(
        db,
        f'{HEADER}\n-alice@example.org,=HYPERLINK("x"),Council,Health,,North,a;b\n',
        lists=["Partners"],
    )
    with db.transaction() as session:
        text = "".join(export_rows(session))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["email"] == "'-alice@example.org"
    assert rows[0]["name"] == '\'=HYPERLINK("x")'
    assert rows[0]["lists"] == "Partners" and rows[0]["organisation_type"] == "Health"
    assert text.endswith("\r\n")
    # Importing the export again recognises every row as already there.
    again = run_import(db, text, lists=["Partners"])
    assert again.summary_line() == "added=0 updated=0 unchanged=1 rejected=0 suppressed=0"
