"""Who must use a second factor: every policy against every role, and the default the
configuration gives (approvers and admins on a real address, nobody on the loopback
demo), an explicit value always winning, and a wrong value named by its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailer.accounts import policy, roles
from mailer.config import ConfigError
from tests.conftest import make_config


def url(tmp_path: Path) -> str:
    """Loading a configuration opens no database: these need no database fixture."""
    return f"sqlite:///{tmp_path / 'mailer.db'}"


MATRIX = {
    # policy: (editor, approver, admin)
    policy.NONE: (False, False, False),
    policy.ADMINS: (False, False, True),
    policy.APPROVERS_AND_ADMINS: (False, True, True),
    policy.EVERYONE: (True, True, True),
}


@pytest.mark.parametrize("name", sorted(MATRIX))
@pytest.mark.parametrize(
    ("role", "column"), [(roles.EDITOR, 0), (roles.APPROVER, 1), (roles.ADMIN, 2)]
)
def test_the_whole_matrix(name: str, role: str, column: int) -> None:
    assert policy.requires_second_factor(name, role) is MATRIX[name][column]


def test_the_matrix_covers_every_role_and_policy() -> None:
    assert set(roles.ROLES) == {roles.EDITOR, roles.APPROVER, roles.ADMIN}
    assert set(MATRIX) == set(policy.DESCRIPTIONS)


@pytest.mark.parametrize("role", sorted(roles.ROLES))
def test_an_unknown_policy_fails_closed(role: str) -> None:
    assert policy.requires_second_factor("approvers_and_admin", role) is True


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://consult.example.org", policy.APPROVERS_AND_ADMINS),
        ("https://mailer.council.gov.uk/", policy.APPROVERS_AND_ADMINS),
        ("http://127.0.0.1:5000", policy.NONE),
        ("http://localhost:8000", policy.NONE),
        ("http://[::1]:5000", policy.NONE),
    ],
)
def test_the_default_follows_the_base_url(tmp_path: Path, base_url: str, expected: str) -> None:
    config = make_config(tmp_path, url(tmp_path), app={"base_url": base_url})
    assert config.auth.require_second_factor == expected


def test_no_base_url_is_the_loopback_demo(tmp_path: Path) -> None:
    assert make_config(tmp_path, url(tmp_path)).auth.require_second_factor == policy.NONE


@pytest.mark.parametrize("base_url", ["https://consult.example.org", "http://127.0.0.1:5000"])
@pytest.mark.parametrize("chosen", sorted(MATRIX))
def test_an_explicit_value_always_wins(tmp_path: Path, base_url: str, chosen: str) -> None:
    config = make_config(
        tmp_path, url(tmp_path), app={"base_url": base_url}, auth={"require_second_factor": chosen}
    )
    assert config.auth.require_second_factor == chosen


def test_a_wrong_value_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        make_config(tmp_path, url(tmp_path), auth={"require_second_factor": "admins_only"})
    assert "require_second_factor" in refused.value.key
    assert "approvers_and_admins" in str(refused.value)
