from __future__ import annotations

from datetime import time

import pytest

from mailer.config import QuietHours
from scheduler.rules import Rules, holiday_calendar
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
