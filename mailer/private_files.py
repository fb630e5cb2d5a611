"""Owner-only files: what the product writes holds people's addresses and its keys.

The instance folder (database, secret key, outbox, uploads, stored documents, import
previews) is the product's own: folders are made 0700 and files 0600, so another
account on the machine reads none of it. Files are created with their mode rather
than chmod-ed afterwards, so there is no moment when they are readable by others.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
# What a process of ours creates without saying a mode (SQLite's -wal and -shm files,
# a library's temporary file) is owner-only too.
UMASK = 0o077


def make_dir(path: Path) -> Path:
    """``path`` and any missing parents, owner-only where this call makes them."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    return path


def open_new(path: Path) -> IO[bytes]:
    """A new file (never an existing one: the caller names a fresh temporary) for
    writing, 0600 from the moment it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    return os.fdopen(fd, "wb")


def touch(path: Path) -> None:
    """Make ``path`` empty and 0600 if it does not exist yet (SQLite then keeps the
    mode for the database and gives it to its -wal and -shm files)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def tighten(folder: Path, entries: Iterable[str]) -> int:
    """Take group and other permissions off ``folder`` and off the ``entries`` in it
    (and everything under those that are folders): what an older version left readable.
    Only the named entries: an instance folder pointed at a folder holding other things
    leaves those alone. Returns how many changed. Symbolic links are not followed."""
    changed = _tighten_one(str(folder))
    for name in entries:
        top = folder / name
        if not top.is_dir() or top.is_symlink():
            changed += _tighten_one(str(top))
            continue
        for root, dirs, files in os.walk(top):
            changed += sum(_tighten_one(os.path.join(root, n)) for n in ["", *dirs, *files])
    return changed


def _tighten_one(path: str) -> int:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return 0
    if stat.S_ISLNK(info.st_mode) or not info.st_mode & 0o077:
        return 0
    wanted = DIR_MODE if stat.S_ISDIR(info.st_mode) else FILE_MODE
    try:
        os.chmod(path, stat.S_IMODE(info.st_mode) & wanted)
    except PermissionError:
        log.warning("cannot make %s owner-only: not its owner", path)
        return 0
    return 1
