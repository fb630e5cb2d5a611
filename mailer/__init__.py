"""Stakeholder Mailer: consultation bulletins, timelines and cascade tracking."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `mailer --help` or a config error does not pay for
    # loading Flask and SQLAlchemy.
    if name == "create_app":
        from mailer.app import create_app

        return create_app
    raise AttributeError(name)
