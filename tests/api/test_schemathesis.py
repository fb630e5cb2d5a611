"""Schemathesis against the served OpenAPI document on a running server (waitress on
a free loopback port, as production runs it): no server error, and every answer
conforms to its operation's documented status codes, content types, headers and
bodies. It reads the document, so every resource merged later is tested too."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from mailer.app import create_app
from mailer.database import Database
from mailer.server import make_server
from tests.api.helpers import bearer, make_key
from tests.conftest import make_config

pytestmark = pytest.mark.slow

# Two checks ask the document for what it cannot say. A value it allows may still be
# refused: an address email-validator refuses (a reserved domain such as .test), a
# cursor this list never signed. A value it does not list may still be accepted: an
# unknown query parameter is ignored, as HTTP APIs do, and the key is always sent.
# Both rules have tests of their own (tests/api/test_contacts.py, test_problems.py).
NOT_EXPRESSIBLE = {
    GenerationMode.POSITIVE: [positive_data_acceptance],
    GenerationMode.NEGATIVE: [negative_data_rejection],
}

# Few examples per operation: the run must stay well under two minutes on a small
# machine, for every resource (the build runs it on both databases).
EXAMPLES = 12


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def base_url(tmp_path: Path, db: Database) -> Iterator[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(
        make_config(
            tmp_path,
            db.url,
            app={"base_url": url},
            api={"rate_limit": 100_000},
            approval={"two_person": False},
        )
    )
    server = make_server(app, host="127.0.0.1", port=port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.close()
        thread.join(timeout=5)
        app.extensions["mailer.db"].dispose()


@pytest.fixture
def api_key(db: Database) -> str:
    return make_key(db, name="schemathesis")  # every scope


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_to_its_document(base_url: str, api_key: str, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the document lists no operation"
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def keeps_to_it(case: Case) -> None:
            case.call_and_validate(
                headers=bearer(api_key), timeout=30, excluded_checks=NOT_EXPRESSIBLE[mode]
            )

        try:
            keeps_to_it()
        except Unsatisfiable:
            # Nothing to make invalid: an operation without parameters or a body (the
            # public list of open consultations) has no negative case.
            assert mode == GenerationMode.NEGATIVE, operation.label
        except Exception as failure:  # every operation is tried; all failures shown
            failures.append(f"{operation.label}: {_described(failure)}")
    assert not failures, "\n\n".join(failures)


def _described(failure: BaseException) -> str:
    """What went wrong, with each of several failures Hypothesis found spelled out."""
    if isinstance(failure, BaseExceptionGroup):
        return "\n".join(_described(each) for each in failure.exceptions)
    return f"{type(failure).__name__}: {failure}"
