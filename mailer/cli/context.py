"""What every ``mailer`` command is handed: the configuration, the app and the
database, made on first use; and the ways a command refuses, with their exit status."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

import click

from mailer.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from flask import Flask

    from mailer.database import Database


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
