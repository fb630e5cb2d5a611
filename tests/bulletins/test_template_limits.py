"""A template's render has a time and a size limit, and checking one on save holds no
write lock: a heavy template neither stalls the server nor is saved as usable."""

from __future__ import annotations

import threading
import time

from flask.testing import FlaskClient
from sqlalchemy import update

from mailer.accounts.models import User
from mailer.database import Database
from mailer.rendering import limits
from tests.bulletins.test_template_versions import save, template_id, versions

NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


def test_nested_loops_are_stopped_at_the_time_limit_and_named(
    admin_client: FlaskClient, db: Database
) -> None:
    tid = template_id(db)
    started = time.monotonic()
    page = save(admin_client, tid, html="{{ links.unsubscribe }}" + NESTED_LOOPS)
    assert time.monotonic() - started < limits.RENDER_SECONDS + 5
    assert "cannot be used until this is fixed: HTML body, line 1: took longer than 3 seconds" in (
        page
    )
    assert "the most a template may take" in versions(db, tid)[-1][1]


def test_a_huge_string_is_refused_with_the_size_limit_named(
    admin_client: FlaskClient, db: Database
) -> None:
    tid = template_id(db)
    started = time.monotonic()
    page = save(admin_client, tid, text='{{ links.unsubscribe }}{{ "x" * 6000000 }}')
    assert time.monotonic() - started < 5
    assert "Plain-text body, line 1: makes text longer than 5,000,000 characters" in page
    assert versions(db, tid)[-1][1] is not None  # kept, and not usable


def test_checking_a_save_holds_no_write_lock(admin_client: FlaskClient, db: Database) -> None:
    tid = template_id(db)
    saving = threading.Thread(
        target=save,
        args=(admin_client, tid),
        kwargs={"html": "{{ links.unsubscribe }}" + NESTED_LOOPS},
    )
    saving.start()
    time.sleep(1.0)  # the save is rendering its check now
    started = time.monotonic()
    with db.writing() as session:
        session.execute(update(User).values(name=User.name))
    waited = time.monotonic() - started
    saving.join(timeout=60)
    assert waited < 1.0, f"a write waited {waited:.1f}s on a template check"
    assert versions(db, tid)[-1][0] == 2
