"""Running the real ``mailer`` command in a subprocess, as an operator would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

# Variables that would leak a developer's own settings into the command under test.
_SCRUB = (
    "MAILER_CONFIG",
    "MAILER_DATABASE_URL",
    "MAILER_SECRET_KEY",
    "MAILER_ADMIN_PASSWORD",
    "MAILER_ADMIN_EMAIL",
    "MAILER_SMTP_PASSWORD",
)


def mailer_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env.update(extra)
    return env


def run_mailer(
    *args: str, cwd: Path, stdin: str | None = None, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailer", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=mailer_env(**env),
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
