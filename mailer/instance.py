"""The instance folder: the embedded database, the generated secret key, the outbox."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from mailer.config import Config

log = logging.getLogger(__name__)

SECRET_KEY_FILE = "secret_key"


def ensure_instance_dir(config: Config) -> Path:
    path = config.instance_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(config: Config) -> str:
    """The configured key, else one generated once into the instance folder.

    Config validation already refused a missing key for a non-loopback base_url, so
    a generated key only ever serves a machine's own loopback address.
    """
    if config.app.secret_key:
        return config.app.secret_key
    path = ensure_instance_dir(config) / SECRET_KEY_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    # O_EXCL: if two processes start at once, one writes and the other reads its key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    log.info("generated a secret key in %s", path)
    return key
