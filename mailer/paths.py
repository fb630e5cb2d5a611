"""Where the product's non-Python parts live, in a checkout and in an installed wheel.

The repository keeps ``templates/`` and ``migrations/`` at the top level, where a
newcomer looks for them; a wheel carries them inside the ``mailer`` package (see
``pyproject.toml``). Look inside the package first, so an installed copy never picks
up a stray folder from the current directory.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def _resolve(name: str) -> Path:
    for candidate in (PACKAGE_DIR / name, REPO_DIR / name):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(
        f"cannot find the {name}/ folder next to {PACKAGE_DIR}; the installation is incomplete"
    )


def page_templates_dir() -> Path:
    """The Jinja templates of the admin and public pages."""
    return _resolve("templates")


def email_seeds_dir() -> Path:
    """The sources the shipped email templates are seeded from (read into the database
    once, by ``mailer init``; never rendered from disk)."""
    return page_templates_dir() / "email_seeds"


def migrations_dir() -> Path:
    return _resolve("migrations")


def static_dir() -> Path:
    return PACKAGE_DIR / "static"
