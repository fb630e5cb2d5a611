"""The validated configuration as typed values: ``Config`` and one dataclass per
``[section]`` of the file, with the defaults of every key (``config.example.toml``
lists them too)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import time, timedelta
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class QuietHours:
    """A daily window (local time) in which nothing is sent; it may span midnight."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class AppSection:
    base_url: str = "http://127.0.0.1:5000"
    secret_key: str = ""
    old_secret_keys: tuple[str, ...] = ()
    timezone: str = "Europe/London"
    database_url: str = ""
    instance_dir: str = "instance"
    # The web server's limits (mailer.server): a request body's size (0: [mail]
    # max_attachments_mb plus 5), open connections, and how long a connection may sit
    # idle or half-sent before it is closed.
    max_request_mb: int = 0
    connection_limit: int = 500
    request_timeout: timedelta = timedelta(seconds=30)
    # Connections one client address may hold open at once (0: no cap), so one
    # address cannot take all of connection_limit. The trusted proxies are not
    # counted: they carry everyone's connections.
    connections_per_client: int = 20
    # Peers whose X-Forwarded-For names the visitor (mailer.web.proxies): none by
    # default, so nobody reaching the server directly can choose their own address.
    trusted_proxies: tuple[str, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_loopback(self) -> bool:
        return is_loopback_url(self.base_url)

    @property
    def is_https(self) -> bool:
        return urlsplit(self.base_url).scheme == "https"


@dataclass(frozen=True)
class MailSection:
    transport: str = "outbox"
    from_address: str = "Stakeholder Mailer <stakeholders@example.org>"
    # Further addresses the office may choose to send from (Organisation page). The
    # address of ``from_address`` is always allowed; its name is used only while the
    # office has none.
    allowed_from: tuple[str, ...] = ()
    reply_to: str = ""
    list_id: str = "stakeholders.example.org"
    max_attachments_mb: int = 10
    # The sender id of a Feedback-ID header (Gmail's feedback loop groups complaints by
    # it, with the send and its kind); "" sends no Feedback-ID.
    feedback_id: str = ""

    @property
    def default_address(self) -> str:
        """The address part of ``from_address``."""
        return parseaddr(self.from_address)[1]

    @property
    def allowed_addresses(self) -> tuple[str, ...]:
        """Every address the office may send from, ``from_address``'s first, each once
        (compared without regard to case)."""
        seen: dict[str, str] = {}
        for address in (self.default_address, *self.allowed_from):
            seen.setdefault(address.casefold(), address)
        return tuple(seen.values())


@dataclass(frozen=True)
class SmtpSection:
    host: str = "127.0.0.1"
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: timedelta = timedelta(seconds=30)
    connections: int = 4
    rate_per_second: float = 0
    per_hour: int = 0
    per_day: int = 0
    max_attempts: int = 8
    retry_for: timedelta = timedelta(hours=24)
    lease: timedelta = timedelta(minutes=5)
    hard_bounce_limit: int = 1


@dataclass(frozen=True)
class DkimSection:
    domain: str
    selector: str
    private_key_file: str


@dataclass(frozen=True)
class BouncesSection:
    """Where bounces and complaints come back, and what they do (mailer.bounces)."""

    # The envelope sender (Return-Path) of every message, with the delivery's signed
    # token put in it (VERP): bounces@example.org sends as
    # bounces+TOKEN@example.org, so a bounce names its delivery even when mangled.
    # "": the From address, and a bounce is matched by the Message-ID it quotes.
    address: str = ""
    # Temporary failures (4.x.x) suppress an address only once this many arrive within
    # soft_window; a hard bounce counts towards [smtp] hard_bounce_limit.
    soft_limit: int = 3
    soft_window: timedelta = timedelta(days=30)
    # How long a stored bounce message (the DSN itself) is kept for the bounces page.
    keep_messages: timedelta = timedelta(days=90)
    # A mailbox the bounces arrive in, read over IMAP every poll.
    imap_host: str = ""
    imap_port: int = 993
    imap_security: str = "tls"  # tls, starttls, or none (loopback hosts only)
    imap_username: str = ""
    imap_password: str = field(default="", repr=False)
    imap_folder: str = "INBOX"
    # Processed messages are moved here; "" deletes them.
    imap_done_folder: str = ""
    poll: timedelta = timedelta(minutes=5)
    # A CA bundle for the IMAP server's certificate ("": the system's).
    imap_ca_file: str = ""
    # Signed webhooks. Amazon SES through SNS: the topics accepted.
    ses_topic_arns: tuple[str, ...] = ()
    # SendGrid's signed event webhook: its verification key (base64, from SendGrid).
    sendgrid_public_key: str = ""
    # Mailgun: the HTTP webhook signing key.
    mailgun_signing_key: str = field(default="", repr=False)
    # How old a signed webhook request may be before it counts as a replay.
    webhook_tolerance: timedelta = timedelta(minutes=5)

    @property
    def imap_enabled(self) -> bool:
        return bool(self.imap_host)


@dataclass(frozen=True)
class SchedulerSection:
    misfire_grace: timedelta = timedelta(hours=1)
    quiet_hours: QuietHours | None = QuietHours(time(20, 0), time(8, 0))
    send_on_weekends: bool = False
    holidays: str = "england-and-wales"


@dataclass(frozen=True)
class ApprovalSection:
    two_person: bool = True


@dataclass(frozen=True)
class TrackingSection:
    links: bool = True
    per_person: bool = False


@dataclass(frozen=True)
class RetentionSection:
    deliveries: timedelta = timedelta(days=730)


@dataclass(frozen=True)
class AuthSection:
    # A signed-in browser left alone this long is signed out; none lasts longer than
    # session_max however busy (checked on the server, not trusted to the cookie).
    session_idle: timedelta = timedelta(hours=2)
    session_max: timedelta = timedelta(hours=12)
    # Who must use a second factor (an authenticator app's code or a passkey) after
    # the password: "none", "admins", "approvers_and_admins" or "everyone". Left out,
    # it is "approvers_and_admins", or "none" on a loopback base_url (the embedded
    # demo), set when the file is read (mailer.config.loading).
    require_second_factor: str = "approvers_and_admins"
    # A passkey on its own (no password) signs in: a passkey is already two factors,
    # the device and the fingerprint or PIN that unlocks it.
    passkey_sign_in: bool = True


@dataclass(frozen=True)
class OidcSection:
    """Single sign-on with an OpenID Connect provider (Microsoft Entra ID, Google
    Workspace...). Present only when the file has an [oidc] table."""

    # The provider's issuer URL; its /.well-known/openid-configuration is read.
    issuer: str
    client_id: str
    client_secret: str = ""
    # Shown on the button: "Sign in with <name>".
    name: str = "single sign-on"
    # Only addresses at these domains may sign in this way (empty: any the provider
    # vouches for).
    allowed_domains: tuple[str, ...] = ()
    # The claim listing the user's groups or app roles, and which of its values make
    # an admin, an approver or an editor (the highest one found wins).
    roles_claim: str = "groups"
    admin_groups: tuple[str, ...] = ()
    approver_groups: tuple[str, ...] = ()
    editor_groups: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    # Passwords off for everyone but break_glass, an admin's email address kept for
    # when the provider is down.
    only: bool = False
    break_glass: str = ""


@dataclass(frozen=True)
class ApiSection:
    # Requests one API key may make in a minute; more are answered 429 with the time
    # to wait (RateLimit and Retry-After headers). Counted in each web process.
    rate_limit: int = 120


@dataclass(frozen=True)
class WebhooksSection:
    # How long one attempt waits for an endpoint's answer.
    timeout: timedelta = timedelta(seconds=10)
    # An endpoint that has answered nothing but failures for this long is disabled
    # (and the admins told by email); its waiting messages are given up.
    failure_window: timedelta = timedelta(days=1)
    # Endpoints on loopback or private addresses (127.0.0.1, 10.x, 192.168.x...) are
    # refused unless this is on: the admin must not become a way into the office's
    # own network.
    allow_private_addresses: bool = False


@dataclass(frozen=True)
class Config:
    """The whole validated configuration. ``source`` says where it came from."""

    app: AppSection = AppSection()
    mail: MailSection = MailSection()
    smtp: SmtpSection = SmtpSection()
    dkim: DkimSection | None = None
    bounces: BouncesSection = BouncesSection()
    scheduler: SchedulerSection = SchedulerSection()
    approval: ApprovalSection = ApprovalSection()
    tracking: TrackingSection = TrackingSection()
    retention: RetentionSection = RetentionSection()
    auth: AuthSection = AuthSection()
    oidc: OidcSection | None = None
    api: ApiSection = ApiSection()
    webhooks: WebhooksSection = WebhooksSection()
    source: str = "built-in defaults"
    # The settings the file or the environment gave ("app.base_url"): the rest are the
    # built-in defaults, which a command may adapt (``mailer run --port``).
    given: frozenset[str] = frozenset()

    @property
    def instance_path(self) -> Path:
        return Path(self.app.instance_dir).resolve()

    @property
    def database_url(self) -> str:
        if self.app.database_url:
            return self.app.database_url
        return f"sqlite:///{self.instance_path / 'mailer.db'}"

    @property
    def uses_default_database(self) -> bool:
        return not self.app.database_url

    @property
    def max_request_bytes(self) -> int:
        megabytes = self.app.max_request_mb or self.mail.max_attachments_mb + 5
        return megabytes * 1024 * 1024


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
