"""Running workers as threads: one per SMTP connection, each with its own transport."""

from __future__ import annotations

import threading

from mailer.config import Config
from mailer.database import Database
from mailer.delivery import transport_for
from mailer.delivery.worker import Worker, secret_keys_for


def thread_count(config: Config) -> int:
    # The outbox is a folder: more threads would only queue on the database.
    return config.smtp.connections if config.mail.transport == "smtp" else 1


def workers(db: Database, config: Config) -> list[Worker]:
    keys = secret_keys_for(config)
    first = Worker(db, config, transport=transport_for(config), secret_keys=keys)
    # The threads share the first one's prepared messages (one premailer run per send)
    # and, on SQLite, its outcome writer (one connection, its page cache kept warm).
    shared = {"prepared": first.prepared}
    if db.is_sqlite:
        shared["writer"] = first.sent_writer
    rest = [
        Worker(db, config, transport=transport_for(config), secret_keys=keys, **shared)
        for _ in range(thread_count(config) - 1)
    ]
    return [first, *rest]


def start(db: Database, config: Config, stop: threading.Event) -> list[threading.Thread]:
    """Start the worker threads (and housekeeping); they run until ``stop`` is set."""
    from mailer.delivery import housekeeping

    threads = [housekeeping.start(db, config, stop)]
    for number, worker in enumerate(workers(db, config), start=1):
        thread = threading.Thread(
            target=worker.run, args=(stop,), name=f"worker-{number}", daemon=True
        )
        thread.start()
        threads.append(thread)
    return threads


def run_once(db: Database, config: Config) -> int:
    """Every thread works until nothing is due; returns how many messages were sent."""
    counts: list[int] = []
    lock = threading.Lock()

    def work(worker: Worker) -> None:
        sent = worker.run_once()
        with lock:
            counts.append(sent)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers(db, config)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)
