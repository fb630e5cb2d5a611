"""What every ``mailer`` command is handed: the configuration, the app and the
database, made on first use; and the ways a command refuses, with their exit status."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from mailer.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.orm import Session

    from mailer.accounts.models import User
    from mailer.database import Database

CLOSING_TIME = time(23, 59)


class ConfigProblem(click.ClickException):
    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"mailer: configuration error: {self.message}", err=True)


class Unusable(click.ClickException):
    """Exit 2: the input as a whole cannot be used (an unreadable file, say)."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"mailer: {self.message}", err=True)


class Refused(click.ClickException):
    """Exit 1 with the reason on stderr."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"mailer: {self.message}", err=True)


class TryLater(click.ClickException):
    """Exit 75 (EX_TEMPFAIL, sysexits.h): nothing is wrong with the request, but a part
    it needs (the database, the mailbox) cannot be used now. A mail server keeps a
    piped message and tries again; a timer tries at its next run."""

    exit_code = 75

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"mailer: {self.message}", err=True)


@dataclass
class Context:
    config_path: str | None
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load_config(self.config_path)
            except ConfigError as exc:
                raise ConfigProblem(str(exc)) from None
        return self._config

    def use_config(self, config: Config) -> Config:
        """Use ``config`` from now on (a command's adaptation of the loaded one)."""
        self._config = config
        return config

    def app(self) -> Flask:
        from mailer.app import create_app

        try:
            return create_app(self.config)
        except ConfigError as exc:  # an unusable generated key file, say
            raise ConfigProblem(str(exc)) from None

    def database(self) -> Database:
        from mailer import models
        from mailer.database import Database
        from mailer.instance import ensure_instance_dir

        models.register_all()
        if self.config.uses_default_database:
            ensure_instance_dir(self.config)
        return Database(self.config.database_url)


pass_ctx = click.make_pass_decorator(Context)


def read_password_stdin() -> str:
    if sys.stdin is None or sys.stdin.closed:
        raise Refused("no password on standard input")
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise Refused("no password on standard input (expected it on the first line)")
    return password


def parse_when(text: str, zone: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """ISO 8601; without an offset it is local time in ``zone``. A date alone is the
    start of that day, or 23:59 with ``end_of_day`` (a closing date)."""
    text = text.strip()
    try:
        if len(text) == 10 and "T" not in text and " " not in text:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, CLOSING_TIME if end_of_day else time(0, 0))
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date and time; write it as 2026-03-14T09:00 "
            "(local time), 2026-03-14T09:00+00:00, or a date alone such as 2026-03-14"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def find_user(session: Session, email: str | None) -> User:
    """The user ``--by`` names, or the first active admin when none is named; refuses
    an unknown or disabled account."""
    from sqlalchemy import select

    from mailer.accounts import roles
    from mailer.accounts import service as accounts
    from mailer.accounts.models import User

    user: User | None
    if email:
        user = accounts.find_by_email(session, email)
        if user is None:
            raise Refused(f"no user has the address {email}; add one with `mailer users add`")
    else:
        user = session.scalar(
            select(User).where(User.role == roles.ADMIN, User.active.is_(True)).order_by(User.id)
        )
        if user is None:
            raise Refused("there is no admin yet; name the author with --by EMAIL")
    if not user.active:
        raise Refused(f"{user.email} is disabled")
    return user
