"""Stakeholder Mailer: consultation bulletins, timelines and cascade tracking."""

from mailer.app import create_app

__all__ = ["create_app"]
__version__ = "0.1.0"
