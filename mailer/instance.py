"""The instance folder: the embedded database, the generated secret key, the outbox.

The folder is the product's own and owner-only (see mailer.private_files): made 0700,
and tightened at start when an older version left it readable by others.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import time
from pathlib import Path

from mailer import private_files
from mailer.config import Config, ConfigError

log = logging.getLogger(__name__)

SECRET_KEY_FILE = "secret_key"
# What the configuration demands of [app] secret_key (mailer.config.validation._secret_key).
MIN_KEY_LENGTH = 32
# A key file another process is still writing (only where hard links are not
# available): how long a reader waits for it to be whole.
_WAIT_FOR_WRITER_S = 5.0

# What the product keeps in the instance folder (the database and its side files, the
# key, the outbox, stored documents, import uploads, the scheduler's lock file).
OWN_ENTRIES = (
    "mailer.db",
    "mailer.db-wal",
    "mailer.db-shm",
    "mailer.db-journal",
    "mailer.db.scheduler-lock",
    SECRET_KEY_FILE,
    "scheduler.lock",
    "outbox",
    "files",
    "uploads",
)

_tightened: set[Path] = set()


def ensure_instance_dir(config: Config) -> Path:
    path = config.instance_path
    existed = path.is_dir()
    private_files.make_dir(path)
    if existed and path not in _tightened:
        # Once per process: the app factory and the commands both come through here.
        changed = private_files.tighten(path, OWN_ENTRIES)
        if changed:
            log.warning(
                "instance folder %s: made %d files and folders owner-only "
                "(they were readable by other accounts)",
                path,
                changed,
            )
    _tightened.add(path)
    if config.uses_default_database:
        # Made 0600 before SQLite opens it: SQLite keeps the mode and gives it to its
        # -wal and -shm files.
        private_files.touch(path / "mailer.db")
    return path


def secret_key(config: Config) -> str:
    """The configured key, else one generated once into the instance folder.

    Config validation already refused a missing key for a non-loopback base_url, so
    a generated key only ever serves a machine's own loopback address. A key file that
    is empty or short is refused (ConfigError, exit 2 at start), never used: every
    link signed with it would be forgeable.
    """
    if config.app.secret_key:
        return config.app.secret_key
    path = ensure_instance_dir(config) / SECRET_KEY_FILE
    key = _read(path)
    if key is not None:
        return key
    return _generate(path)


def _generate(path: Path) -> str:
    """Write a new key so that no reader ever sees an empty or partial file, and
    processes starting at once all end up with the one key that won."""
    key = secrets.token_urlsafe(48)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    with private_files.open_new(temporary) as handle:
        handle.write(f"{key}\n".encode("ascii"))
        handle.flush()
        os.fsync(handle.fileno())
    try:
        try:
            # Appears whole or not at all, and fails if another process's key is there.
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won: its key is the key
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            _create_without_link(path, key)
    finally:
        temporary.unlink(missing_ok=True)
    found = _read(path)
    if found is None:  # removed between our write and this read: start again
        return _generate(path)
    if found == key:
        log.info("generated a secret key in %s", path)
    return found


def _create_without_link(path: Path, key: str) -> None:
    """A file system without hard links: create exclusively and write; a reader that
    meets the file still empty waits for it (see _read)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, private_files.FILE_MODE)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _read(path: Path) -> str | None:
    """The key in ``path``, None if there is no file; ConfigError if it is unusable."""
    deadline = time.monotonic() + _WAIT_FOR_WRITER_S
    while True:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            key = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            key = ""
        if len(key) >= MIN_KEY_LENGTH:
            return key
        try:
            young = time.time() - path.stat().st_mtime < _WAIT_FOR_WRITER_S
        except FileNotFoundError:
            return None
        if young and time.monotonic() < deadline:
            time.sleep(0.05)  # another process is still writing it
            continue
        what = "empty" if not key else f"{len(key)} characters, fewer than {MIN_KEY_LENGTH}"
        raise ConfigError(
            "[app] secret_key",
            f"the generated key file {path} is unusable ({what}). Remove the file to have "
            "a new key generated (links in messages already sent stop working), or set "
            "[app] secret_key",
        )
