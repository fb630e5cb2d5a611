"""The long-running commands: ``mailer run`` (everything in one process), ``mailer
web`` and ``mailer worker`` (the parts run separately)."""

from __future__ import annotations

import logging
import sys
from typing import NoReturn
from urllib.parse import urlsplit

import click

from mailer.cli.context import Context, pass_ctx
from mailer.cli.first_run import ensure_first_admin, load_demo
from mailer.cli.schema import ensure_schema, require_schema
from mailer.config import Config, config_warnings, with_overrides

log = logging.getLogger(__name__)

_HOST = click.option("--host", help="Address to listen on (default 127.0.0.1).")
_PORT = click.option(
    "--port", type=click.IntRange(1, 65535), help="Port (default: base_url's, or 5000)."
)


@click.command()
@_HOST
@_PORT
@pass_ctx
def run(ctx: Context, host: str | None, port: int | None) -> None:
    """Web admin, scheduler and delivery workers in one process: the embedded default."""
    config = ctx.use_config(base_url_for_port(ctx.config, port))
    warn_about(config)
    # The embedded database belongs to this process, so it may set itself up; a
    # shared database is the operator's to migrate with `mailer init`.
    db = ensure_schema(ctx, announce=False) if config.uses_default_database else require_schema(ctx)
    if ensure_first_admin(db) and config.uses_default_database:
        # A first run of the embedded default shows the whole product at once.
        load_demo(db, config)
    db.dispose()
    # The scheduler and the delivery workers run as threads beside the web server, on
    # the app's database.
    import threading

    from mailer import housekeeping
    from mailer.delivery import pool
    from scheduler.runner import Scheduler

    app = ctx.app()
    stop = threading.Event()
    app_db = app.extensions["mailer.db"]
    threads = [housekeeping.start(app_db, config, stop), *pool.start(app_db, config, stop)]
    scheduler = threading.Thread(
        target=Scheduler(app_db, config).run, args=(stop,), name="scheduler", daemon=True
    )
    scheduler.start()
    threads.append(scheduler)
    try:
        from mailer.server import serve

        serve(app, host=host or "127.0.0.1", port=port or _default_port(config))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    sys.exit(0)


@click.command()
@_HOST
@_PORT
@pass_ctx
def web(ctx: Context, host: str | None, port: int | None) -> None:
    """Only the web admin and public pages (run the other parts separately)."""
    warn_about(ctx.config)
    require_schema(ctx).dispose()
    _serve(ctx, host, port)


@click.command()
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@pass_ctx
def worker(ctx: Context, once: bool) -> None:
    """Delivery workers: send what is due (run as many as you like, on any machine)."""
    import signal
    import threading

    from mailer import housekeeping
    from mailer.delivery import pool

    config = ctx.config
    warn_about(config)
    db = require_schema(ctx)
    if once:
        sent = pool.run_once(db, config)
        click.echo(f"sent={sent}")
        db.dispose()
        return
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        click.echo(f"received {signal.Signals(signum).name}; finishing the messages in hand")
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    threads = [housekeeping.start(db, config, stop), *pool.start(db, config, stop)]
    click.echo(f"{pool.thread_count(config)} delivery worker(s) running (Ctrl+C to stop)")
    while not stop.wait(1):
        pass
    for thread in threads:
        thread.join(timeout=60)
    db.dispose()


def warn_about(config: Config) -> None:
    """Say at start-up what in the configuration would let mail down (DKIM not aligned
    with a From domain): in the log, and on the terminal of whoever started it."""
    for warning in config_warnings(config):
        log.warning("configuration: %s", warning)
        click.echo(f"Warning: {warning}", err=True)


def base_url_for_port(config: Config, port: int | None) -> Config:
    """The config with links pointing at ``--port``: when base_url is the built-in
    default, every link in the emails sent by this process would otherwise point at
    port 5000, where nothing answers. A base_url the operator set is theirs: kept."""
    if port is None or "app.base_url" in config.given:
        return config
    return with_overrides(config, app={"base_url": f"http://127.0.0.1:{port}"})


def _default_port(config: Config) -> int:
    return urlsplit(config.app.base_url).port or 5000


def _serve(ctx: Context, host: str | None, port: int | None) -> NoReturn:
    from mailer.server import serve

    config = ctx.config
    app = ctx.app()
    serve(app, host=host or "127.0.0.1", port=port or _default_port(config))
    sys.exit(0)
