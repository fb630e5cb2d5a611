"""Configuration: one TOML file, validated completely before anything starts.

Where the file comes from (first found wins): ``--config PATH``, ``$MAILER_CONFIG``,
``./config.toml``, else built-in defaults. Secrets may come from the environment so
they need not sit in a file. Every key and its default is listed in
``config.example.toml``; ``tests/config/`` keeps the two in step.

A bad file is refused with one line that names the key and the reason, because an
operator reading a systemd journal should not have to guess which of forty keys is
wrong. The CLI turns :class:`ConfigError` into exit status 2.

``sections`` is the typed result, ``validation`` the checks of each value and of the
whole, ``loading`` finding and reading the file. What the rest of the product uses is
exported here.
"""

from mailer.config.loading import (
    ENV_CONFIG,
    find_config_file,
    from_mapping,
    load_config,
    with_overrides,
)
from mailer.config.sections import (
    ApprovalSection,
    AppSection,
    AuthSection,
    BouncesSection,
    Config,
    DkimSection,
    MailSection,
    OidcSection,
    QuietHours,
    RetentionSection,
    SchedulerSection,
    SmtpSection,
    TrackingSection,
)
from mailer.config.validation import (
    ENV_DATABASE_URL,
    ENV_SECRET_KEY,
    ENV_SMTP_PASSWORD,
    ConfigError,
)
from mailer.config.values import format_duration, parse_duration, parse_quiet_hours
from mailer.config.warnings import config_warnings

__all__ = [
    "ENV_CONFIG",
    "ENV_DATABASE_URL",
    "ENV_SECRET_KEY",
    "ENV_SMTP_PASSWORD",
    "AppSection",
    "ApprovalSection",
    "AuthSection",
    "BouncesSection",
    "Config",
    "ConfigError",
    "DkimSection",
    "MailSection",
    "OidcSection",
    "QuietHours",
    "RetentionSection",
    "SchedulerSection",
    "SmtpSection",
    "TrackingSection",
    "config_warnings",
    "find_config_file",
    "format_duration",
    "from_mapping",
    "load_config",
    "parse_duration",
    "parse_quiet_hours",
    "with_overrides",
]
