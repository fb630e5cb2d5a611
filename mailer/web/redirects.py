"""Redirect targets we accept from a request: only our own admin paths, rebuilt by us."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def safe_admin_path(target: str | None) -> str | None:
    """Return a same-site /admin/ path made from ``target``, or None to ignore it.

    The result is rebuilt from the path and query alone, so a scheme, a host, a
    protocol-relative ``//`` or a backslash trick can never survive into a Location
    header.
    """
    if not target or len(target) > 2000:
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    path = parts.path
    if path != "/admin" and not path.startswith("/admin/"):
        return None
    return urlunsplit(("", "", path, parts.query, ""))
