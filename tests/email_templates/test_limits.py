"""A template's render has a time and a size limit, and checking one on save holds no
write lock: a heavy template neither stalls the server nor is saved as usable."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from mailer.accounts.models import User
from mailer.database import Database
from mailer.rendering import limits, sandbox
from tests.email_templates.test_versions import save, template_id, versions

NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


@pytest.mark.slow
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


@pytest.mark.slow
def test_checking_a_save_holds_no_write_lock(admin_client: FlaskClient, db: Database) -> None:
    tid = template_id(db)
    saving = threading.Thread(
        target=save,
        args=(admin_client, tid),
        kwargs={"html": "{{ links.unsubscribe }}" + NESTED_LOOPS},
    )
    saving.start()
    time.sleep(1.0)  # the save is rendering its check now
    # The write must finish while the check still renders: a check holding a write lock
    # would make it wait for the end. Judged by order, not by a time limit, so a busy
    # machine cannot fail it.
    checking_before = saving.is_alive()
    with db.writing() as session:
        session.execute(update(User).values(name=User.name))
    checking_after = saving.is_alive()
    saving.join(timeout=60)
    assert checking_before, "the check was too quick to show anything"
    assert checking_after, "a write waited for a template check to finish"
    assert versions(db, tid)[-1][0] == 2


# Runs one template in a fresh interpreter and reports how much its memory grew. The
# child may not grow past 1.5 GB (where /proc tells its size), so a template the limits
# miss fails the test instead of swamping the machine.
MEASURE = """
import json, resource, sys, time
from mailer.rendering import sandbox

def peak_mb():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024

sandbox.render("text", "{{ 'warm' | upper }}", {})
try:
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (mapped + 1536 * 2**20, resource.RLIM_INFINITY))
except (OSError, ValueError):
    pass
before = peak_mb()
started = time.monotonic()
try:
    sandbox.render("text", sys.argv[1], {})
    problem = ""
except sandbox.TemplateProblem as exc:
    problem = str(exc)
print(json.dumps({"problem": problem, "seconds": time.monotonic() - started,
                  "grew_mb": peak_mb() - before}))
"""

BIG = "{% set s = 'x' * 4000000 %}"
PROBES = [
    BIG + "{% set l = [[s]] * 600 %}{{ l|map('join')|join|length }}",
    BIG + "{{ s.replace('x', 'x' * 100)|length }}",
]
MORE = [
    BIG + "{% set l = [s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s] %}"
    "{{ (l ~ '')|length }}",
    BIG + "{{ [[s]] * 600 }}",
    BIG + "{{ (['x'] * 200)|join(s)|length }}",
    BIG + "{{ ('{0}' * 1000).format(s)|length }}",
    BIG + "{{ (('%(a)s' * 1000) % {'a': s})|length }}",
    BIG + "{{ ('%(a)s' * 1000)|format(a=s)|length }}",
    BIG + "{{ s|replace('x', 'x' * 100)|length }}",
    BIG + "{{ ('\\n' * 1000)|indent(s)|length }}",
    BIG + "{{ ('a ' * 1000)|wordwrap(1, wrapstring=s)|length }}",
    BIG + "{{ ('\\t' * 1000).expandtabs(4000000)|length }}",
    BIG + "{% set l = [] %}{% for i in range(2000) %}{% set _ = l.append(s ~ i) %}"
    "{% endfor %}{{ l|length }}",
    "{{ ('€' * 4000000)|list|length }}",
    "{{ [1]|slice(4000000)|list|length }}",
    # Each value within the limit, but sixty of them kept at once.
    "{% set l = [" + ", ".join(["'x'|center(4999999)"] * 60) + "] %}{{ l|length }}",
    "".join(f"{{% set a{i} = 'y'|center(4999999) %}}" for i in range(60)) + "{{ a1|length }}",
    BIG
    + "".join(f"{{% set a{i} %}}{{{{ s }}}}.{{% endset %}}" for i in range(60))
    + "{{ a1|length }}",
]


def measured(source: str) -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, source],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("source", PROBES + MORE)
def test_a_template_making_a_huge_value_is_refused_before_the_memory_is_spent(
    source: str,
) -> None:
    result = measured(source)
    assert f"{limits.MAX_CHARS:,} characters" in result["problem"] or (
        f"{limits.MAX_MADE:,} characters in all" in result["problem"]
    )
    assert result["grew_mb"] < 100, result
    assert result["seconds"] < limits.RENDER_SECONDS, result


def test_saving_the_probes_template_says_which_limit_it_passed(
    admin_client: FlaskClient, db: Database
) -> None:
    tid = template_id(db)
    page = save(admin_client, tid, text="{{ links.unsubscribe }}" + PROBES[0])
    assert "Plain-text body, line 1: makes a list holding more than 5,000,000 characters" in page


def test_a_number_too_big_to_print_is_refused_before_it_is_made(
    admin_client: FlaskClient, db: Database
) -> None:
    tid = template_id(db)
    square = "{% set n = 2**2400000 %}{{ n * n * n }}"  # each factor allowed, not the cube
    page = save(admin_client, tid, text="{{ links.unsubscribe }}" + square)
    assert "Plain-text body, line 1: makes text longer than 5,000,000 characters" in page


def test_ordinary_templates_are_not_refused() -> None:
    context = {"items": [{"title": f"Item {i}", "n": i} for i in range(200)]}
    source = (
        "{% for item in items|sort(attribute='title') %}{{ item.title|upper }} "
        "{{ '%05d'|format(item.n) }} {{ '{:>8}'.format(item.title) }}{% endfor %}"
        "{{ items|map(attribute='title')|join(', ')|wordwrap(60)|indent(2) }}"
        "{{ items|tojson|length }} {{ (items|batch(3)|list)|length }} {{ 12000000 * 3 }}"
        "{{ 'a-b'.replace('-', ' to ') ~ ('x' * 1000)|length }}"
    )
    assert "ITEM 199" in sandbox.render("text", source, context)
