"""The outbox transport: each message written as an .eml file in the instance folder.

The embedded default, so a newcomer can send a whole consultation without a mail
server and read what would have gone out. Files are written under a temporary name and
renamed, so a reader never sees half a message.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from mailer import private_files
from mailer.delivery.transport import STAGE_STORE, TransportError

SUFFIX = ".eml"


def _return_path(sender: str) -> bytes:
    """The envelope sender, as the receiving mail server records it on delivery: so an
    operator can read in the outbox where bounces would go (the VERP address)."""
    if not sender or any(c in sender for c in "\r\n<> ") or not sender.isascii():
        return b""
    return f"Return-Path: <{sender}>\r\n".encode("ascii")


class OutboxTransport:
    name = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(
        self,
        *,
        sender: str,
        recipient: str,
        data: bytes,
        before_data: Callable[[], object] | None = None,
    ) -> str:
        if before_data is not None:
            before_data()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        name = f"{stamp}-{secrets.token_hex(6)}{SUFFIX}"
        temporary = self.folder / f".{name}.part"
        try:
            private_files.make_dir(self.folder)
            with private_files.open_new(temporary) as handle:
                handle.write(_return_path(sender))
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.folder / name)
        except OSError as exc:
            with contextlib.suppress(OSError):  # the folder itself may be the problem
                temporary.unlink(missing_ok=True)
            # A full disk or a permissions problem is worth retrying once fixed.
            raise TransportError(
                f"could not write to the outbox {self.folder}: {exc.strerror or exc}",
                stage=STAGE_STORE,
                temporary=True,
            ) from exc
        return f"written to the outbox as {name}"

    def close(self) -> None:
        return None
