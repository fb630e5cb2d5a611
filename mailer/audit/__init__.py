"""The audit log: who did what, when, to what. Written only through ``record``."""

from mailer.audit.service import record

__all__ = ["record"]
