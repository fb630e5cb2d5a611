"""Uploaded CSV files waiting between the admin's import preview and its confirmation.

They sit in the instance folder's ``uploads`` for a day at most, owner-only. Erasing a
contact withdraws every pending upload that holds the address (a CSV row cannot be
cut out safely: a quoted field may span lines, and the preview's line numbers would no
longer match): the file goes, and a marker makes the confirmation say why, so the
editor chooses the file again and the erased address is then refused as suppressed.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy.orm import Session

from contacts.importing import detect_encoding
from mailer import private_files

log = logging.getLogger(__name__)

FOLDER = "uploads"
KEPT_FOR_S = 24 * 3600
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_WITHDRAWN = ".withdrawn"

EXPIRED = "That upload has expired; choose the file again."
WITHDRAWN = (
    "That upload was withdrawn because someone in it has since been erased; choose the "
    "file again (the erased address will be counted as suppressed, not imported)."
)


def folder(instance_path: Path) -> Path:
    """The uploads folder, with uploads older than a day removed."""
    path = private_files.make_dir(instance_path / FOLDER)
    cutoff = time.time() - KEPT_FOR_S
    for old in [*path.glob("*.csv"), *path.glob(f"*{_WITHDRAWN}")]:
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        except FileNotFoundError:
            continue
    return path


def save(instance_path: Path, upload_id: str, stream: IO[bytes]) -> Path:
    """Store an upload, owner-only from the start."""
    path = folder(instance_path) / f"{upload_id}.csv"
    with private_files.open_new(path) as handle:
        shutil.copyfileobj(stream, handle)
    return path


def why_missing(instance_path: Path, upload_id: str) -> str:
    """What to tell the editor whose upload is no longer there."""
    marker = instance_path / FOLDER / f"{upload_id}{_WITHDRAWN}"
    return WITHDRAWN if marker.exists() else EXPIRED


def _holds(path: Path, needles: set[str]) -> bool:
    with path.open("rb") as stream:
        encoding, _lines = detect_encoding(stream)
        text = stream.read().decode(encoding, errors="replace").casefold()
    return any(needle in text for needle in needles)


def withdraw_holding(instance_path: Path, email: str) -> int:
    """Remove every pending upload that holds ``email``; returns how many went."""
    uploads = instance_path / FOLDER
    if not uploads.is_dir():
        return 0
    needles = {email.casefold()}
    local, _, domain = email.rpartition("@")
    try:  # the same address with its domain written the other way (IDNA or Unicode)
        needles.add(f"{local}@{domain.encode('idna').decode('ascii')}".casefold())
        needles.add(f"{local}@{domain.encode('ascii').decode('idna')}".casefold())
    except UnicodeError:
        pass
    withdrawn = 0
    for path in uploads.glob("*.csv"):
        try:
            if not _holds(path, needles):
                continue
            private_files.touch(path.with_name(path.stem + _WITHDRAWN))
            path.unlink()
        except FileNotFoundError:
            continue
        withdrawn += 1
    return withdrawn


@dataclass(frozen=True)
class UploadScrubber:
    """Erasure: withdraws the pending uploads under ``instance_path`` holding the address."""

    instance_path: Path

    def __call__(self, session: Session, contact_id: int, email: str) -> None:
        withdrawn = withdraw_holding(self.instance_path, email)
        if withdrawn:
            log.info(
                "erasure of contact %s withdrew %d pending import uploads", contact_id, withdrawn
            )
