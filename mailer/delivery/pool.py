"""Running workers as threads: one per SMTP connection, each with its own transport.

With SMTP the connections themselves live in a sender process beside this one
(mailer/delivery/sender.py), so the SMTP conversation and the workers' rendering and
database work run on two cores instead of taking turns on one."""

from __future__ import annotations

import threading

from mailer.config import Config
from mailer.database import Database
from mailer.delivery import transport_for, webhook_loop
from mailer.delivery.sender import SenderProcess
from mailer.delivery.transport import Transport
from mailer.delivery.worker import Worker, secret_keys_for


def thread_count(config: Config) -> int:
    # The outbox is a folder: more threads would only queue on the database.
    return config.smtp.connections if config.mail.transport == "smtp" else 1


def workers(db: Database, config: Config, *, sender: SenderProcess | None = None) -> list[Worker]:
    """One worker per connection. With SMTP, their connections live in ``sender`` (the
    process's sender process, mailer/delivery/sender.py)."""
    keys = secret_keys_for(config)

    def transport() -> Transport:
        return sender.transport() if sender is not None else transport_for(config)

    first = Worker(db, config, transport=transport(), secret_keys=keys)
    # The threads share the first one's prepared messages (one premailer run per send)
    # and, on SQLite, its outcome writer (one connection, its page cache kept warm).
    writer = first.sent_writer if db.is_sqlite else None
    rest = [
        Worker(
            db,
            config,
            transport=transport(),
            secret_keys=keys,
            prepared=first.prepared,
            writer=writer,
        )
        for _ in range(thread_count(config) - 1)
    ]
    return [first, *rest]


def sender_for(config: Config) -> SenderProcess | None:
    return SenderProcess(config.smtp) if config.mail.transport == "smtp" else None


def start(db: Database, config: Config, stop: threading.Event) -> list[threading.Thread]:
    """Start the worker threads; they run until ``stop`` is set."""
    threads: list[threading.Thread] = []
    # The sender process lives as long as this one (it exits when this one does).
    for number, worker in enumerate(workers(db, config, sender=sender_for(config)), start=1):
        thread = threading.Thread(
            target=worker.run, args=(stop,), name=f"worker-{number}", daemon=True
        )
        thread.start()
        threads.append(thread)
    # Webhook messages go out beside the mail, on a thread of their own.
    threads.append(webhook_loop.start(db, config, stop, keys=secret_keys_for(config)))
    return threads


def run_once(db: Database, config: Config) -> int:
    """Every thread works until nothing is due; returns how many messages were sent."""
    counts: list[int] = []
    lock = threading.Lock()

    def work(worker: Worker) -> None:
        sent = worker.run_once()
        with lock:
            counts.append(sent)

    sender = sender_for(config)
    threads = [threading.Thread(target=work, args=(w,)) for w in workers(db, config, sender=sender)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        if sender is not None:
            sender.close()
    keys = secret_keys_for(config)
    done = webhook_loop.run_round(db, config, webhook_loop.dispatcher(db, config, keys=keys))
    if done.disabled:
        # The admins' notice of a disabled endpoint was queued just now: send it too.
        worker = Worker(db, config, transport=transport_for(config), secret_keys=keys)
        try:
            counts.append(worker.drain_queue())
        finally:
            worker.transport.close()
    return sum(counts)
