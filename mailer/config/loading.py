"""Finding and reading the configuration file, and building a ``Config`` from it.

Where the file comes from (first found wins): ``--config PATH``, ``$MAILER_CONFIG``,
``./config.toml``, else built-in defaults. The CLI turns :class:`ConfigError` into
exit status 2.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from mailer.config.sections import (
    ApiSection,
    ApprovalSection,
    AppSection,
    AuthSection,
    BouncesSection,
    Config,
    DkimSection,
    MailSection,
    OidcSection,
    RetentionSection,
    SchedulerSection,
    SmtpSection,
    TrackingSection,
    WebhooksSection,
)
from mailer.config.validation import (
    ENV_OVERRIDES,
    SCHEMA,
    ConfigError,
    check_whole,
    hidden,
    is_secret,
)

ENV_CONFIG = "MAILER_CONFIG"

_SECTION_TYPES: dict[str, type] = {
    "app": AppSection,
    "mail": MailSection,
    "smtp": SmtpSection,
    "dkim": DkimSection,
    "bounces": BouncesSection,
    "scheduler": SchedulerSection,
    "approval": ApprovalSection,
    "tracking": TrackingSection,
    "retention": RetentionSection,
    "auth": AuthSection,
    "oidc": OidcSection,
    "api": ApiSection,
    "webhooks": WebhooksSection,
}

# [oidc] keys without which single sign-on cannot work.
_OIDC_REQUIRED = ("issuer", "client_id", "client_secret")


def find_config_file(
    explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The file the contract says to read, or None for built-in defaults."""
    environ = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if environ.get(ENV_CONFIG):
        return Path(environ[ENV_CONFIG])
    local = Path("config.toml")
    return local if local.is_file() else None


def load_config(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Find, read and validate the configuration; raise ConfigError on any problem."""
    environ = os.environ if environ is None else environ
    found = find_config_file(path, environ)
    if found is None:
        return from_mapping({}, environ=environ)
    source = str(found)
    try:
        raw = found.read_bytes()
    except FileNotFoundError:
        raise ConfigError("file", "not found", source=source) from None
    except OSError as exc:
        raise ConfigError("file", f"cannot be read ({exc.strerror})", source=source) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("file", "is not UTF-8 text", source=source) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("file", f"is not valid TOML ({exc})", source=source) from None
    return from_mapping(data, environ=environ, source=source)


def from_mapping(
    data: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    source: str = "built-in defaults",
) -> Config:
    """Validate parsed TOML (plus environment secrets) into a Config."""
    environ = os.environ if environ is None else environ
    sections: dict[str, Any] = {}
    for name, table in data.items():
        if name not in SCHEMA:
            known = ", ".join(f"[{s}]" for s in SCHEMA)
            raise ConfigError(f"[{name}]", f"unknown section (known: {known})", source=source)
        if not isinstance(table, dict):
            raise ConfigError(f"[{name}]", "must be a table", source=source)
        values: dict[str, Any] = {}
        for key, raw in table.items():
            validator = SCHEMA[name].get(key)
            if validator is None:
                raise ConfigError(f"[{name}] {key}", _unknown_key(name, key), source=source)
            try:
                values[key] = validator(raw)
            except ValueError as exc:
                reason = hidden(str(exc), raw) if is_secret(name, key) else str(exc)
                raise ConfigError(f"[{name}] {key}", reason, source=source) from None
        sections[name] = values

    for section, key, variable in ENV_OVERRIDES:
        if environ.get(variable):
            try:
                value = SCHEMA[section][key](environ[variable])
            except ValueError as exc:
                reason = hidden(str(exc), environ[variable])
                raise ConfigError(f"${variable}", reason, source="environment") from None
            sections.setdefault(section, {})[key] = value

    built = {name: _section(name, values, source=source) for name, values in sections.items()}
    given = frozenset(f"{name}.{key}" for name, values in sections.items() for key in values)
    config = Config(**built, source=source, given=given)
    if "auth.require_second_factor" not in given and config.app.is_loopback:
        # The embedded demo on this machine stays a few clicks from the first screen.
        config = replace(config, auth=replace(config.auth, require_second_factor="none"))
    check_whole(config, source=source)
    return config


def _section(name: str, values: dict[str, Any], *, source: str) -> Any:
    """One section's dataclass, once the keys it cannot do without are all there."""
    if name == "dkim":
        missing = [f.name for f in fields(DkimSection) if f.name not in values]
        if missing:
            raise ConfigError(
                f"[dkim] {missing[0]}",
                "required when [dkim] is present (it needs domain, selector and private_key_file)",
                source=source,
            )
    if name == "oidc":
        missing = [key for key in _OIDC_REQUIRED if not values.get(key)]
        if missing:
            raise ConfigError(
                f"[oidc] {missing[0]}",
                "required when [oidc] is present (it needs issuer, client_id and "
                "client_secret, which may come from $MAILER_OIDC_CLIENT_SECRET)",
                source=source,
            )
    return _SECTION_TYPES[name](**values)


def _unknown_key(section: str, key: str) -> str:
    known = sorted(SCHEMA[section])
    close = difflib.get_close_matches(key.lower(), known, n=1, cutoff=0.75)
    hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
    return f"unknown key{hint}"


def with_overrides(config: Config, **sections: Mapping[str, Any]) -> Config:
    """A copy with some section values replaced (used by tests and the CLI)."""
    changes = {name: replace(getattr(config, name), **values) for name, values in sections.items()}
    return replace(config, **changes)
