"""The layers written down in scripts/check_architecture.py hold, and the check bites."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_architecture.py"


@pytest.fixture(scope="module")
def arch() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_architecture", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_the_code_keeps_its_layers(arch: ModuleType) -> None:
    assert arch.check() == []


@pytest.mark.parametrize(
    ("importer", "imported", "why"),
    [
        ("contacts.link_owner", "mailer.delivery.models", "contacts sits below delivery"),
        ("mailer.delivery.prepared", "mailer.tracking.models", "delivery sits below tracking"),
        ("mailer.bulletins.messages", "mailer.bulletins.views", "may not import a view"),
        ("mailer.delivery.sends", "mailer.admin.guards", "may not import a view"),
        ("scheduler.runner", "mailer.cli", "only the wiring"),
        ("mailer.web.errors", "mailer.app", "only the wiring"),
        ("mailer.database", "mailer.models", "only the wiring"),
    ],
)
def test_an_import_against_the_layers_is_named(
    arch: ModuleType, importer: str, imported: str, why: str
) -> None:
    found = arch.problem(arch.Import(importer, imported, 1))
    assert found is not None and why in found


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("scheduler.consultations.lifecycle", "mailer.delivery.send_states"),
        ("mailer.tracking.links", "mailer.delivery.models"),
        ("contacts.public_views", "mailer.delivery.sends"),  # a view may use any concept
        ("mailer.app", "scheduler.consultation_views"),  # the wiring may import anything
        ("mailer.accounts.service", "mailer.audit"),
    ],
)
def test_an_import_down_the_layers_is_allowed(
    arch: ModuleType, importer: str, imported: str
) -> None:
    assert arch.problem(arch.Import(importer, imported, 1)) is None


def test_imports_only_for_type_checking_are_not_counted(arch: ModuleType, tmp_path: Path) -> None:
    source = tmp_path / "audit.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from mailer import database\n"
        "if TYPE_CHECKING:\n"
        "    from mailer.accounts.models import User\n"
    )
    found = [i.imported for i in arch.imports_of(source, "mailer.audit.service")]
    assert found == ["mailer.database"]


def test_a_long_module_is_refused(arch: ModuleType, tmp_path: Path) -> None:
    package = tmp_path / "mailer"
    package.mkdir()
    (package / "long.py").write_text("x = 1\n" * (arch.MAX_LINES + 1))
    for name in ("contacts", "scheduler"):
        (tmp_path / name).mkdir()
    assert arch.check(tmp_path) == [
        f"mailer/long.py: {arch.MAX_LINES + 1} lines, over {arch.MAX_LINES}: split it"
    ]
