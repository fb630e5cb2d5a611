"""Checking a configuration: each key's value on its own (``SCHEMA``), then the rules
that involve more than one key (``check_whole``).

A bad value is refused with one line that names the key and the reason, because an
operator reading a systemd journal should not have to guess which of forty keys is
wrong; a secret's value is never repeated in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from mailer.config.sections import Config, is_loopback_url
from mailer.config.values import (
    IMAP_SECURITY,
    _base64_key,
    _base_url,
    _boolean,
    _bounce_address,
    _choice,
    _database_url,
    _domains,
    _duration,
    _email_address,
    _feedback_id,
    _hostname,
    _integer,
    _ip_addresses,
    _issuer,
    _nonempty,
    _number,
    _plain_addresses,
    _quiet_hours,
    _secret_key,
    _secret_keys,
    _string,
    _strings,
    _timezone,
    _topic_arns,
    format_duration,
)

# Secrets may come from the environment so they need not sit in a file.
ENV_SECRET_KEY = "MAILER_SECRET_KEY"
ENV_DATABASE_URL = "MAILER_DATABASE_URL"
ENV_SMTP_PASSWORD = "MAILER_SMTP_PASSWORD"
# (section, key, the variable that sets it): the variable wins over the file.
ENV_OVERRIDES = (
    ("app", "secret_key", ENV_SECRET_KEY),
    ("app", "database_url", ENV_DATABASE_URL),
    ("smtp", "password", ENV_SMTP_PASSWORD),
    ("bounces", "imap_password", "MAILER_BOUNCES_IMAP_PASSWORD"),
    ("bounces", "mailgun_signing_key", "MAILER_BOUNCES_MAILGUN_SIGNING_KEY"),
    ("oidc", "client_secret", "MAILER_OIDC_CLIENT_SECRET"),
)

SECOND_FACTOR_POLICIES = ("none", "admins", "approvers_and_admins", "everyone")

TRANSPORTS = ("outbox", "smtp")
SMTP_SECURITY = ("starttls", "ssl", "none")
HOLIDAY_CALENDARS = ("england-and-wales", "scotland", "northern-ireland", "")


class ConfigError(Exception):
    """A configuration problem, worded for the operator: where, which key, why."""

    def __init__(self, key: str, reason: str, *, source: str | None = None) -> None:
        self.key = key
        self.reason = reason
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {reason}")


SCHEMA: dict[str, dict[str, Callable[[Any], Any]]] = {
    "app": {
        "base_url": _base_url,
        "secret_key": _secret_key,
        "old_secret_keys": _secret_keys,
        "timezone": _timezone,
        "database_url": _database_url,
        "instance_dir": _nonempty(_string),
        "max_request_mb": _integer(0, 1000),
        "connection_limit": _integer(10, 10_000),
        "request_timeout": _duration(),
        "connections_per_client": _integer(0, 10_000),
        "trusted_proxies": _ip_addresses,
    },
    "mail": {
        "transport": _choice(*TRANSPORTS),
        "from_address": _email_address(allow_empty=False),
        "allowed_from": _plain_addresses,
        "reply_to": _email_address(allow_empty=True),
        "list_id": _hostname,
        "max_attachments_mb": _integer(1, 100),
        "feedback_id": _feedback_id,
    },
    "smtp": {
        "host": _nonempty(_string),
        "port": _integer(1, 65535),
        "security": _choice(*SMTP_SECURITY),
        "username": _string,
        "password": _string,
        "timeout": _duration(),
        "connections": _integer(1, 64),
        "rate_per_second": _number(0),
        "per_hour": _integer(0),
        "per_day": _integer(0),
        "max_attempts": _integer(1, 100),
        "retry_for": _duration(timedelta(minutes=1)),
        "lease": _duration(timedelta(seconds=10)),
        "hard_bounce_limit": _integer(1, 100),
    },
    "dkim": {
        "domain": _hostname,
        "selector": _hostname,
        "private_key_file": _nonempty(_string),
    },
    "bounces": {
        "address": _bounce_address,
        "soft_limit": _integer(1, 100),
        "soft_window": _duration(timedelta(hours=1)),
        "keep_messages": _duration(timedelta(days=1)),
        "imap_host": _string,
        "imap_port": _integer(1, 65535),
        "imap_security": _choice(*IMAP_SECURITY),
        "imap_username": _string,
        "imap_password": _string,
        "imap_folder": _nonempty(_string),
        "imap_done_folder": _string,
        "poll": _duration(timedelta(seconds=10)),
        "imap_ca_file": _string,
        "ses_topic_arns": _topic_arns,
        "sendgrid_public_key": _base64_key,
        "mailgun_signing_key": _string,
        "webhook_tolerance": _duration(timedelta(seconds=30)),
    },
    "scheduler": {
        "misfire_grace": _duration(),
        "quiet_hours": _quiet_hours,
        "send_on_weekends": _boolean,
        "holidays": _choice(*HOLIDAY_CALENDARS),
    },
    "approval": {"two_person": _boolean},
    "tracking": {"links": _boolean, "per_person": _boolean},
    "retention": {"deliveries": _duration(timedelta(days=1))},
    "auth": {
        "session_idle": _duration(timedelta(minutes=1)),
        "session_max": _duration(timedelta(minutes=1)),
        "require_second_factor": _choice(*SECOND_FACTOR_POLICIES),
        "passkey_sign_in": _boolean,
    },
    "oidc": {
        "issuer": _issuer,
        "client_id": _nonempty(_string),
        "client_secret": _string,
        "name": _nonempty(_string),
        "allowed_domains": _domains,
        "roles_claim": _nonempty(_string),
        "admin_groups": _strings,
        "approver_groups": _strings,
        "editor_groups": _strings,
        "scopes": _strings,
        "only": _boolean,
        "break_glass": _email_address(allow_empty=True),
    },
    "api": {"rate_limit": _integer(1, 100_000)},
    "webhooks": {
        "timeout": _duration(timedelta(seconds=1)),
        "failure_window": _duration(timedelta(minutes=1)),
        "allow_private_addresses": _boolean,
    },
}

# --- secrets are never echoed: a config error lands in logs, terminals and tickets ---

# Keys whose value is a secret wherever they appear: any key named like these, in any
# section ([app] secret_key, [smtp] password, [oidc] client_secret, [bounces]
# imap_password, ...), and the database URL, which may carry a password.
_SECRET_NAMES = ("secret", "password", "passphrase", "token", "private_key", "signing_key")
_SECRET_KEYS = {("app", "database_url")}


def is_secret(section: str, key: str) -> bool:
    if (section, key) in _SECRET_KEYS:
        return True
    # private_key_file is a path, not a key.
    return any(part in key for part in _SECRET_NAMES) and not key.endswith("_file")


def hidden(reason: str, value: Any) -> str:
    """``reason`` with every spelling of ``value`` (and of its items) taken out."""
    pieces: list[Any] = [value]
    if isinstance(value, list | tuple):
        pieces += list(value)
    elif isinstance(value, dict):
        pieces += list(value.keys()) + list(value.values())
    # The checks say what they got last, in brackets: that part goes whole. Whatever
    # else still spells the value goes too; very short spellings ("a", "1") would
    # mangle ordinary words and cannot give a secret away, so they stay.
    reason = re.sub(r"\s*\(got .*\)\s*$", " (value not shown)", reason, flags=re.S)
    spellings = {text for piece in pieces for text in (repr(piece), str(piece)) if len(text) > 3}
    for text in sorted(spellings, key=len, reverse=True):
        reason = reason.replace(text, "(value not shown)")
    return reason


def check_whole(config: Config, *, source: str) -> None:
    """Rules that involve more than one key."""
    _check_auth(config, source=source)
    if not config.app.secret_key and not config.app.is_loopback:
        raise ConfigError(
            "[app] secret_key",
            f"required when base_url is not loopback ({config.app.base_url}); "
            f"set it in the file or in ${ENV_SECRET_KEY}",
            source=source,
        )
    if config.app.max_request_mb and config.app.max_request_mb <= config.mail.max_attachments_mb:
        raise ConfigError(
            "[app] max_request_mb",
            f"must be more than [mail] max_attachments_mb ({config.mail.max_attachments_mb}), "
            "or a document of that size could never be uploaded (0: that plus 5)",
            source=source,
        )
    if config.dkim is not None:
        key_file = Path(config.dkim.private_key_file)
        if not key_file.is_file():
            raise ConfigError("[dkim] private_key_file", f"no such file: {key_file}", source=source)
    if (
        config.mail.transport == "smtp"
        and config.smtp.security == "none"
        and config.smtp.username
        and not _is_loopback_host(config.smtp.host)
    ):
        raise ConfigError(
            "[smtp] security",
            '"none" would send the SMTP password in clear text to '
            f"{config.smtp.host}; use starttls or ssl",
            source=source,
        )
    bounces = config.bounces
    if (
        bounces.imap_host
        and bounces.imap_security == "none"
        and not _is_loopback_host(bounces.imap_host)
    ):
        raise ConfigError(
            "[bounces] imap_security",
            '"none" would send the mailbox password in clear text to '
            f"{bounces.imap_host}; use tls or starttls (none is for a server on this "
            "machine only)",
            source=source,
        )


def _check_auth(config: Config, *, source: str) -> None:
    if config.auth.session_idle > config.auth.session_max:
        raise ConfigError(
            "[auth] session_idle",
            f"must not be longer than [auth] session_max "
            f"({format_duration(config.auth.session_idle)} > "
            f"{format_duration(config.auth.session_max)})",
            source=source,
        )
    oidc = config.oidc
    if oidc is None:
        return
    if not (oidc.admin_groups or oidc.approver_groups or oidc.editor_groups):
        raise ConfigError(
            "[oidc] editor_groups",
            "name at least one group in admin_groups, approver_groups or editor_groups: "
            "nobody could sign in without a role",
            source=source,
        )
    if oidc.only and not oidc.break_glass:
        raise ConfigError(
            "[oidc] break_glass",
            "required when [oidc] only = true: the address of an admin who may still "
            "sign in with a password when the provider is down",
            source=source,
        )
    if "openid" not in oidc.scopes:
        raise ConfigError("[oidc] scopes", 'must include "openid"', source=source)
    if not is_loopback_url(oidc.issuer) and not oidc.issuer.startswith("https://"):
        raise ConfigError(
            "[oidc] issuer",
            f"must be an https:// address (got {oidc.issuer!r}); http:// is for a "
            "provider on this machine only",
            source=source,
        )


def _is_loopback_host(host: str) -> bool:
    return is_loopback_url(f"smtp://{host}")
