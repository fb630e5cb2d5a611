"""Header lines: the fast paths give what the email package would, and never a new line."""

from __future__ import annotations

from email.header import Header

import pytest

from mailer.rendering import mime


@pytest.mark.parametrize("name", ["List-Unsubscribe", "Subject", "X"])
@pytest.mark.parametrize("length", [1, 40, 58, 59, 60, 61, 76, 77, 200, 900])
def test_a_long_word_is_folded_as_the_email_package_folds_it(name: str, length: int) -> None:
    value = f"<https://www.example.org/u/{'A' * length}>"
    expected = Header(value, "us-ascii", header_name=name).encode(linesep="\r\n")
    assert mime.header(name, value) == f"{name}: {expected}\r\n".encode("ascii")


@pytest.mark.parametrize(
    "value",
    [
        "plain words " * 12,
        "Ó'Brien at the Police and Crime Panel " * 3,
        "<a>\r\nBcc: x@example.org",
    ],
)
def test_every_header_is_one_logical_line(value: str) -> None:
    line = mime.header("Subject", value)
    assert line.endswith(b"\r\n")
    # Folding may continue the line (CRLF then a space), but never begin another header.
    for continuation in line[:-2].split(b"\r\n")[1:]:
        assert continuation.startswith(b" ")
    assert b"\n" not in line.replace(b"\r\n", b"")
    assert b"Bcc:" not in line.split(b"\r\n", 1)[-1][:4]


@pytest.mark.parametrize(
    "value",
    ["Jo Bloggs", " Jo", "Jo ", "Jo  Bloggs", "Jo\tBloggs", "Jo\u2028Bloggs", "Jo\xa0Bloggs", ""],
)
def test_one_line_takes_its_shortcut_only_when_nothing_would_change(value: str) -> None:
    assert mime.one_line(value) == " ".join(value.split())
