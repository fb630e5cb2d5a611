from __future__ import annotations

from datetime import time

import pytest

from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.config import Config, QuietHours
from mailer.database import Database
from scheduler.rules import Rules, holiday_calendar
from tests.conftest import add_user, make_config
from tests.scheduler.helpers import LONDON


@pytest.fixture
def office() -> Rules:
    """The [scheduler] defaults: quiet 20:00-08:00, no weekends, England and Wales."""
    return Rules(
        timezone=LONDON,
        quiet_hours=QuietHours(time(20, 0), time(8, 0)),
        send_on_weekends=False,
        holiday=holiday_calendar("england-and-wales"),
    )


@pytest.fixture
def people(db: Database) -> dict[str, User]:
    """One user of each role, for the approval and lifecycle tests."""
    return {
        "editor": add_user(db, email="editor@example.org", role=roles.EDITOR),
        "approver": add_user(db, email="approver@example.org", role=roles.APPROVER),
        "admin": add_user(db, email="admin@example.org", role=roles.ADMIN),
    }


@pytest.fixture
def office_config(tmp_path, db: Database) -> Config:  # type: ignore[no-untyped-def]
    return make_config(tmp_path, db.url)
