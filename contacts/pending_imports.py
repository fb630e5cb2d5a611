"""Uploaded CSV files waiting between the admin's import preview and its confirmation.

They sit in the instance folder's ``uploads`` for a day at most, owner-only, each with
a note beside it (``<id>.json``) of who uploaded it and the choices made in the preview:
only that person may see its preview, download its rejected rows or apply it. Applying
first renames the file (``<id>.applying``), so of two tabs applying at once only one
gets it; the other is told it has gone. An applied file stays (``<id>.imported``) for
the download of its rejected rows, until the day is out. Erasing a
contact withdraws every pending upload that holds the address (a CSV row cannot be
cut out safely: a quoted field may span lines, and the preview's line numbers would no
longer match): the file goes, and a marker makes the confirmation say why, so the
editor chooses the file again and the erased address is then refused as suppressed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
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
_NOTE = ".json"
_APPLYING = ".applying"
_IMPORTED = ".imported"

EXPIRED = "That upload has expired; choose the file again."
IMPORTED = "That file has already been imported."
WITHDRAWN = (
    "That upload was withdrawn because someone in it has since been erased; choose the "
    "file again (the erased address will be counted as suppressed, not imported)."
)


def folder(instance_path: Path) -> Path:
    """The uploads folder, with uploads older than a day removed."""
    path = private_files.make_dir(instance_path / FOLDER)
    cutoff = time.time() - KEPT_FOR_S
    suffixes = (".csv", _WITHDRAWN, _NOTE, _APPLYING, _IMPORTED, ".tmp")
    for old in [old for suffix in suffixes for old in path.glob(f"*{suffix}")]:
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        except FileNotFoundError:
            continue
    return path


@dataclass
class Pending:
    """What the uploader chose for an upload: whose it is, and how to import it."""

    owner_id: int
    filename: str
    lists: list[str] = field(default_factory=list)
    lawful_basis: str = ""
    # The field each column goes into ("" leaves it out); None: guessed from the header.
    columns: list[str] | None = None
    # Per unknown organisation type (by its key): contacts.importing.types' choices.
    types: dict[str, str] = field(default_factory=dict)


class NotYours(Exception):
    """The upload belongs to someone else (or its note is missing or damaged)."""


def save(instance_path: Path, upload_id: str, stream: IO[bytes], pending: Pending) -> Path:
    """Store an upload and its note, owner-only from the start."""
    path = folder(instance_path) / f"{upload_id}.csv"
    with private_files.open_new(path) as handle:
        shutil.copyfileobj(stream, handle)
    save_choices(instance_path, upload_id, pending)
    return path


def save_choices(instance_path: Path, upload_id: str, pending: Pending) -> None:
    """Replace an upload's note (written beside it, then moved into place)."""
    note = folder(instance_path) / f"{upload_id}{_NOTE}"
    fresh = note.with_name(f"{upload_id}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    with private_files.open_new(fresh) as handle:
        handle.write(json.dumps(asdict(pending)).encode())
    fresh.replace(note)


def load(
    instance_path: Path, upload_id: str, *, owner_id: int, applied: bool = False
) -> tuple[Path, Pending] | None:
    """The upload and its note; None when it has gone (expired, withdrawn, or applied
    unless ``applied`` says an applied one will do). Raises NotYours when it is someone
    else's."""
    if not UPLOAD_ID.match(upload_id):
        return None
    path = folder(instance_path) / f"{upload_id}.csv"
    if not path.is_file() and applied:
        path = path.with_suffix(_IMPORTED)
    if not path.is_file():
        return None
    try:
        raw = json.loads((path.with_suffix(_NOTE)).read_bytes())
        pending = Pending(**raw)
    except (OSError, ValueError, TypeError):
        raise NotYours(upload_id) from None
    if pending.owner_id != owner_id:
        log.warning("user %s refused the import upload of user %s", owner_id, pending.owner_id)
        raise NotYours(upload_id)
    return path, pending


def claim(path: Path) -> Path | None:
    """Take an upload for applying; None when another request took it first."""
    taken = path.with_suffix(_APPLYING)
    try:
        path.rename(taken)
    except FileNotFoundError:
        return None
    return taken


def release(taken: Path) -> None:
    """Give back a claimed upload whose import failed, to be applied again."""
    taken.rename(taken.with_suffix(".csv"))


def finish(taken: Path) -> None:
    """An applied upload: kept as applied, for the download of its rejected rows."""
    taken.rename(taken.with_suffix(_IMPORTED))


def discard(path: Path) -> None:
    """An upload that cannot be used: gone, with its note."""
    path.unlink(missing_ok=True)
    path.with_suffix(_NOTE).unlink(missing_ok=True)


def why_missing(instance_path: Path, upload_id: str) -> str:
    """What to tell the editor whose upload is no longer there."""
    marker = instance_path / FOLDER / f"{upload_id}{_WITHDRAWN}"
    if marker.exists():
        return WITHDRAWN
    if (instance_path / FOLDER / f"{upload_id}{_IMPORTED}").exists():
        return IMPORTED
    return EXPIRED


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
    for path in [*uploads.glob("*.csv"), *uploads.glob(f"*{_IMPORTED}")]:
        try:
            if not _holds(path, needles):
                continue
            private_files.touch(path.with_name(path.stem + _WITHDRAWN))
            path.unlink()
            path.with_suffix(_NOTE).unlink(missing_ok=True)
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
