"""Uploaded office documents are zip archives: one that would unpack to far more than
a document is refused from what it declares, without being unpacked."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest

from mailer.bulletins import files

ODT = b"application/vnd.oasis.opendocument.text"


def archive(entries: dict[str, bytes | int]) -> bytes:
    """A zip with the given entries; an int is that many zero bytes, written in chunks
    so the test itself never holds them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as made:
        for name, content in entries.items():
            if isinstance(content, bytes):
                made.writestr(name, content)
                continue
            with made.open(name, "w", force_zip64=True) as entry:
                chunk = bytes(1024 * 1024)
                for _ in range(content // len(chunk)):
                    entry.write(chunk)
    return buffer.getvalue()


def test_a_real_odt_is_accepted() -> None:
    data = archive({"mimetype": ODT, "content.xml": b"<office:document/>" * 50})
    assert files.check("plan.odt", data)[1].label == "OpenDocument text (ODT)"


@pytest.mark.parametrize(
    "entries",
    [
        {"mimetype": 64 * 1024 * 1024},  # the probe's case: a huge "mimetype"
        {"mimetype": ODT, "content.xml": 64 * 1024 * 1024},  # a bomb beside it
    ],
)
def test_a_zip_bomb_is_refused_without_being_unpacked(entries: dict[str, bytes | int]) -> None:
    data = archive(entries)
    assert len(data) < 200 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(files.FileRefused, match="would unpack to far more than any document"):
            files.check("plan.odt", data)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024  # nothing near the declared 64 MB was unpacked


def test_a_mimetype_entry_is_read_only_as_far_as_the_comparison_needs() -> None:
    # Declared small, not a bomb by ratio, and still not an ODT: refused as the wrong type.
    data = archive({"mimetype": ODT + b" " * 5000})
    with pytest.raises(files.FileRefused, match="does not look like a OpenDocument"):
        files.check("plan.odt", data)
