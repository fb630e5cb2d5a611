#!/usr/bin/env python3
"""The layers of the code, written down and checked (`make lint` runs this).

Every module of the product is one of three kinds:

- a concept module: the models and services of one concept package (contacts, the
  delivery of sends, ...). Concepts are ranked below, lowest first; a concept module may
  import its own package and the concepts ranked below it, never one ranked above, and
  never a view or the wiring. So the concepts form no import cycle.
- a web module: a blueprint and its views (``views.py``, ``*_views.py``, the
  ``admin_views`` package) or the web plumbing (``mailer.web``, ``mailer.admin``). Web
  modules may import any concept, and the web plumbing, but not the wiring.
- the wiring: the app factory, the command line and what only they use. It may import
  anything; nothing but the wiring imports it.

Imports made only for type checking (under ``if TYPE_CHECKING:``) never run and are not
counted. The check also refuses any module over MAX_LINES lines (outside migrations and
benchmarks, which are not scanned).

    python scripts/check_architecture.py        exit 0 when the code keeps the layers
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mailer", "contacts", "scheduler")
MAX_LINES = 500

# Lowest first. Each entry is a concept and the module prefixes that make it up.
CONCEPTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundations",
        (
            "mailer.cleaning",
            "mailer.client_limits",
            "mailer.config",
            "mailer.database",
            "mailer.humane_time",
            "mailer.instance",
            "mailer.locks",
            "mailer.logs",
            "mailer.migrate",
            "mailer.paging",
            "mailer.paths",
            "mailer.private_files",
            "mailer.public_urls",
            "mailer.rendering",
        ),
    ),
    ("audit log", ("mailer.audit",)),
    ("admin users", ("mailer.accounts",)),
    ("outgoing webhooks", ("mailer.events",)),
    ("contacts", ("contacts",)),
    ("organisation settings", ("mailer.organisation",)),
    ("email templates", ("mailer.email_templates",)),
    ("bulletins", ("mailer.bulletins",)),
    ("delivery", ("mailer.delivery",)),
    ("bounces and complaints", ("mailer.bounces",)),
    ("tracking", ("mailer.tracking",)),
    ("consultations and their timelines", ("scheduler",)),
)

WEB_PREFIXES = ("mailer.web", "mailer.admin", "mailer.api", "contacts.admin_views")

# The app factory, the command line, and what only they use: the model registry
# Alembic reads, the demo data `mailer run` loads, the WSGI server, and the lists of
# every place personal data lives (erasure and retention reach across all concepts).
WIRING_PREFIXES = (
    "mailer",  # the package itself: its __init__ exposes the app factory
    "mailer.__main__",
    "mailer.app",
    "mailer.cli",
    "mailer.demo",
    "mailer.housekeeping",
    "mailer.models",
    "mailer.personal_data",
    "mailer.server",
    "contacts.cli",
    "scheduler.cli",
)


def _matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def kind_of(module: str) -> str:
    if any(module == p for p in ("mailer",)) or any(
        _matches(module, p) for p in WIRING_PREFIXES if p != "mailer"
    ):
        return "wiring"
    last = module.rsplit(".", 1)[-1]
    if last == "views" or last.endswith("_views") or any(_matches(module, p) for p in WEB_PREFIXES):
        return "web"
    return "concept"


def rank_of(module: str) -> tuple[int, str] | None:
    for rank, (name, prefixes) in enumerate(CONCEPTS):
        if any(_matches(module, p) for p in prefixes):
            return rank, name
    return None


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_block(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, module: str) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking_block(child):
                for orelse in child.orelse:
                    visit(orelse)
                continue
            if isinstance(child, ast.Import):
                found.extend(Import(module, a.name, child.lineno) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _absolute(child, module, is_package)
                for alias in child.names:
                    # "from mailer.delivery import sends" imports the module
                    # mailer.delivery.sends when there is one.
                    candidate = f"{base}.{alias.name}"
                    target = candidate if _is_module(candidate) else base
                    found.append(Import(module, target, child.lineno))
            visit(child)

    visit(tree)
    return [i for i in found if i.imported.split(".")[0] in PACKAGES]


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    base = ".".join(parts[:keep])
    return f"{base}.{node.module}" if node.module else base


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def problem(found: Import) -> str | None:
    """Why this import breaks the layers, or None."""
    importer, imported = found.importer, found.imported
    importer_kind, imported_kind = kind_of(importer), kind_of(imported)
    if importer_kind == "wiring":
        return None
    if imported_kind == "wiring":
        return "only the wiring (app factory, command line) may import the wiring"
    if importer_kind == "web":
        return None
    if imported_kind == "web":
        return "a concept module may not import a view or the web plumbing"
    mine, theirs = rank_of(importer), rank_of(imported)
    if mine is None:
        return "this module belongs to no concept: add it to CONCEPTS"
    if theirs is None:
        return f"{imported} belongs to no concept: add it to CONCEPTS"
    if theirs[0] > mine[0]:
        return f"{mine[1]} sits below {theirs[1]} and may not import it"
    return None


def check(root: Path = ROOT) -> list[str]:
    problems: list[str] = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            module = module_name(path, root)
            lines = path.read_text(encoding="utf-8").count("\n")
            relative = path.relative_to(root)
            if lines > MAX_LINES:
                problems.append(f"{relative}: {lines} lines, over {MAX_LINES}: split it")
            for found in imports_of(path, module):
                reason = problem(found)
                if reason:
                    problems.append(f"{relative}:{found.line}: imports {found.imported}: {reason}")
    return problems


def main() -> int:
    problems = check()
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} architecture problem(s); see docs/architecture.md")
        return 1
    print("architecture: the layers hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
