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


def _qp_by_binascii(text: str) -> bytes:
    import binascii

    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
    encoded = encoded.replace(b"\n", b"\r\n")
    return encoded if encoded.endswith(b"\r\n") else encoded + b"=\r\n"


@pytest.mark.parametrize(
    "value",
    [
        "https://www.example.org/u/AbC-_.123", ".", "..", ". ", " .", "a", "a b", "a ", " a",
        "=", "a=b", "x" * 69, "x" * 70, "x" * 71, "a" * 69 + " ", "a\tb", "Ó'Brien",
        "line\r\nbreak", "From here", "~!@#$%^&*()_+{}|:<>?`-[];',./",
    ],
)  # fmt: skip
def test_quoted_printable_shortcut_gives_what_binascii_gives(value: str) -> None:
    # Personal values take a shortcut when quoted-printable would leave them unchanged.
    assert mime.qp(value) == _qp_by_binascii(value)


def test_quoted_printable_shortcut_agrees_on_random_text() -> None:
    import binascii
    import random

    rng = random.Random(5)  # noqa: S311 (test data, not secrets)
    alphabet = [chr(c) for c in range(32, 127)] + ["\t", "é", "\n", "."]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80)))
        encoded = mime.qp(text)
        reference = _qp_by_binascii(text)
        if max(len(line) for line in reference.split(b"\r\n")) <= 76:
            # Where binascii's lines fit beside the soft break, the same bytes.
            assert encoded == reference, text
        assert binascii.a2b_qp(encoded.replace(b"=\r\n", b"")) == text.encode().replace(
            b"\n", b"\r\n"
        ), text
        assert max(len(line) for line in encoded.split(b"\r\n")) <= 76, text


def test_quoted_printable_lines_never_pass_76_characters() -> None:
    # binascii's own output runs to 77 in two cases: an encoded trailing space at the
    # end of a full line, and a full last line followed by the segment's soft break.
    for text in ["a" * 76, "a" * 75 + "=", "a" * 74 + " \nb", "a" * 75 + " \nb", "é" * 30]:
        for line in mime.qp(text).split(b"\r\n"):
            assert len(line) <= 76, (text, line)
    assert mime.qp("a" * 76) == b"a" * 75 + b"=\r\na=\r\n"
    # Never broken inside an escape.
    assert mime.qp("a" * 74 + "=") == b"a" * 74 + b"=\r\n=3D=\r\n"
    assert mime.qp("a" * 73 + "é") == b"a" * 73 + b"=\r\n=C3=A9=\r\n"


@pytest.mark.parametrize("name", ["Ó", "Person 12 Ó'Brien", "Ó" * 22, "Ó" * 23, "Ó" * 60])
def test_encoded_words_decode_to_the_name(name: str) -> None:
    from email.header import decode_header

    words = mime.encoded_words(name)
    assert all(len(word) <= 75 for word in words.split("\r\n "))
    decoded = "".join(
        part.decode(charset) for part, charset in decode_header(words.replace("\r\n", ""))
    )
    assert decoded == name
