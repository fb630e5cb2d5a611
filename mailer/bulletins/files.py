"""Documents attached to bulletins: checked, stored once by content, read back.

A file is stored under its SHA-256 in the instance folder (``files/ab/abcdef...``) and
recorded once in ``stored_files``, however many bulletins attach it; a bulletin's
attachment row carries the name and title it is shown with. The type is judged by the
contents as well as the name, so a renamed program is not sent as a "PDF".

The file is written before the transaction that records it commits; if that commit
fails the file stays on disk unreferenced, which is harmless (content-addressed, it is
simply reused by the next upload of the same bytes).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer import audit, private_files
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.bulletins import compose
from mailer.bulletins.models import Bulletin, BulletinAttachment, StoredFile
from mailer.config import Config
from mailer.rendering.mime import one_line

FILES_FOLDER = "files"
MAX_FILENAME = 150


class FileRefused(Exception):
    """Why an upload cannot be attached, worded for the person who chose the file."""


# An office document is a zip archive. Its entries are judged by what the archive
# declares before anything is unpacked: a 300 KB "document" whose entries unpack to
# gigabytes (a zip bomb) is refused without being read, and whatever is read is read
# only as far as the comparison needs, whatever the declaration says.
MAX_UNPACKED = 300 * 1024 * 1024  # all entries together, as declared
MAX_RATIO = 200  # unpacked size / packed size, for any entry over RATIO_FROM bytes
RATIO_FROM = 1024 * 1024


def _check_archive(archive: zipfile.ZipFile) -> None:
    """FileRefused if the archive declares more than a document would ever unpack to."""
    total = 0
    for entry in archive.infolist():
        total += entry.file_size
        ratio = entry.file_size / max(entry.compress_size, 1)
        if total > MAX_UNPACKED or (entry.file_size > RATIO_FROM and ratio > MAX_RATIO):
            raise FileRefused(
                "This file is an archive that would unpack to far more than any document "
                f"(over {MAX_UNPACKED // (1024 * 1024)} MB, or more than {MAX_RATIO} times "
                "its packed size); it was not opened. Save the document again and upload that."
            )


def _zip_has(data: bytes, member: str, content: bytes | None = None) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_archive(archive)
            if content is None:
                return member in archive.namelist()
            if archive.getinfo(member).file_size > len(content) + 64:
                return False
            with archive.open(member) as entry:
                return entry.read(len(content) + 65).strip() == content
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, EOFError):
        return False


def _is_text(data: bytes) -> bool:
    sample = data[:65536]
    if b"\x00" in sample:
        return False
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            sample.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    looks_right: Callable[[bytes], bool]


TYPES: dict[str, FileType] = {
    ".pdf": FileType("PDF", "application/pdf", lambda d: d.startswith(b"%PDF-")),
    ".docx": FileType(
        "Word (DOCX)",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        lambda d: _zip_has(d, "word/document.xml"),
    ),
    ".xlsx": FileType(
        "Excel (XLSX)",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        lambda d: _zip_has(d, "xl/workbook.xml"),
    ),
    ".odt": FileType(
        "OpenDocument text (ODT)",
        "application/vnd.oasis.opendocument.text",
        lambda d: _zip_has(d, "mimetype", b"application/vnd.oasis.opendocument.text"),
    ),
    ".csv": FileType("CSV", "text/csv", _is_text),
    ".png": FileType("PNG image", "image/png", lambda d: d.startswith(b"\x89PNG\r\n\x1a\n")),
    ".jpg": FileType("JPEG image", "image/jpeg", lambda d: d.startswith(b"\xff\xd8\xff")),
    ".jpeg": FileType("JPEG image", "image/jpeg", lambda d: d.startswith(b"\xff\xd8\xff")),
    ".gif": FileType("GIF image", "image/gif", lambda d: d[:6] in (b"GIF87a", b"GIF89a")),
}
ACCEPT = ",".join(TYPES)  # for the upload field's accept attribute
KINDS_SENTENCE = "a PDF, a Word (DOCX), OpenDocument (ODT) or Excel (XLSX) file, a CSV or an image"


def folder_for(config: Config) -> Path:
    return config.instance_path / FILES_FOLDER


def path_of(folder: Path, sha256: str) -> Path:
    return folder / sha256[:2] / sha256


def clean_filename(raw: str) -> str:
    """The name without any folder part, control characters or line breaks."""
    name = PureWindowsPath(PurePosixPath(raw or "").name).name
    name = one_line(re.sub(r"[\x00-\x1f\x7f\"<>|?*:]", " ", name)).strip(" .")
    stem, dot, suffix = name.rpartition(".")
    if dot and len(name) > MAX_FILENAME:
        name = stem[: MAX_FILENAME - len(suffix) - 1].rstrip() + "." + suffix
    return name[:MAX_FILENAME]


def check(filename: str, data: bytes) -> tuple[str, FileType]:
    """The cleaned name and the file's type, or FileRefused saying what to do instead."""
    name = clean_filename(filename)
    if not name:
        raise FileRefused("The file has no name; choose it again.")
    if not data:
        raise FileRefused(f"{name} is empty; choose the file again.")
    suffix = Path(name).suffix.lower()
    kind = TYPES.get(suffix)
    if kind is None:
        raise FileRefused(f"{name} is not a type we send: attach {KINDS_SENTENCE}.")
    if not kind.looks_right(data):
        raise FileRefused(
            f"{name} does not look like a {kind.label} file inside, whatever its name "
            f"says. Save it again as {kind.label} and upload that."
        )
    return name, kind


def store(session: Session, folder: Path, data: bytes, content_type: str) -> StoredFile:
    """The stored file for ``data``, written to disk and recorded if it is new."""
    digest = hashlib.sha256(data).hexdigest()
    existing = session.scalar(select(StoredFile).where(StoredFile.sha256 == digest))
    target = path_of(folder, digest)
    if not target.exists():
        private_files.make_dir(target.parent)
        partial = target.with_name(f".{digest}.{secrets.token_hex(4)}.part")
        with private_files.open_new(partial) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    if existing is not None:
        return existing
    stored = StoredFile(sha256=digest, size=len(data), content_type=content_type)
    session.add(stored)
    session.flush()
    return stored


def read(folder: Path, sha256: str) -> bytes:
    try:
        return path_of(folder, sha256).read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"the stored file {sha256} is missing from {folder}; restore the "
            "instance folder from a backup or attach the document again"
        ) from None


def total_size(session: Session, bulletin: Bulletin) -> int:
    return (
        session.scalar(
            select(func.coalesce(func.sum(StoredFile.size), 0))
            .join(BulletinAttachment, BulletinAttachment.file_id == StoredFile.id)
            .where(BulletinAttachment.bulletin_id == bulletin.id)
        )
        or 0
    )


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def check_room(
    name: str,
    size: int,
    *,
    used: int,
    limit_bytes: int,
    taken: list[str],
    owner: str,
    what: str,
    advice: str,
) -> None:
    """FileRefused when ``name`` is already among ``taken`` or would take ``what`` (the
    files travelling with one message) over ``limit_bytes``."""
    if used + size > limit_bytes:
        raise FileRefused(
            f"{name} ({human_size(size)}) would take {what} to {human_size(used + size)}, "
            f"over the limit of {human_size(limit_bytes)}. {advice}"
        )
    if name in taken:
        raise FileRefused(f"{owner} already has a file called {name}.")


def attach(
    session: Session,
    bulletin: Bulletin,
    *,
    filename: str,
    data: bytes,
    title: str = "",
    folder: Path,
    limit_bytes: int,
    by: User,
) -> BulletinAttachment:
    name, kind = check(filename, data)
    check_room(
        name,
        len(data),
        used=total_size(session, bulletin),
        limit_bytes=limit_bytes,
        taken=[a.filename for a in bulletin.attachments],
        owner="This bulletin",
        what="this bulletin's attachments",
        advice='Tick "link to the documents instead" for large files, or make them smaller.',
    )
    stored = store(session, folder, data, kind.content_type)
    attachment = BulletinAttachment(
        file=stored,
        filename=name,
        title=one_line(title)[:255] or Path(name).stem,
        position=len(bulletin.attachments),
    )
    bulletin.attachments.append(attachment)
    session.flush()
    compose.note(session, bulletin, by=by, action=compose.EDITED, part=f"attached {name}")
    audit.record(
        session,
        actions.BULLETIN_ATTACHMENT_ADDED,
        actor=by,
        target_type="bulletin",
        target_id=bulletin.id,
        summary=f'Attached {name} ({human_size(len(data))}) to "{bulletin.subject}"',
    )
    return attachment


def detach(session: Session, bulletin: Bulletin, attachment_id: int, *, by: User) -> str:
    attachment = next((a for a in bulletin.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise LookupError("that attachment is not on this bulletin")
    bulletin.attachments.remove(attachment)
    for position, remaining in enumerate(bulletin.attachments):
        remaining.position = position
    compose.note(
        session, bulletin, by=by, action=compose.EDITED, part=f"removed {attachment.filename}"
    )
    audit.record(
        session,
        actions.BULLETIN_ATTACHMENT_REMOVED,
        actor=by,
        target_type="bulletin",
        target_id=bulletin.id,
        summary=f'Removed {attachment.filename} from "{bulletin.subject}"',
    )
    return attachment.filename
