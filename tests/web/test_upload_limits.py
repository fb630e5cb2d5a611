"""An upload over the limit is never a bare error page: the server's own refusal (a
body too large to read) states the limit and links back to the form, and a form
without an answer of its own goes back to the page it came from, the limit stated."""

from __future__ import annotations

import io
import socket
from pathlib import Path

from mailer.database import Database
from mailer.web.errors import too_large
from tests.conftest import add_user, csrf_from, login, make_config
from tests.test_server import running


def ask(port: int, request: bytes, *, timeout: float = 10) -> bytes:
    """The whole answer, until the server closes: the head and the page may come in
    separate packets, so one recv is not enough."""
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_the_sentence_states_size_and_limit() -> None:
    assert too_large(int(20.3 * 1024 * 1024), 10 * 1024 * 1024).startswith(
        "The file is 20.3 MB; the limit is 10 MB."
    )


def test_a_body_too_large_to_read_gets_a_page_with_the_limit_and_a_way_back(
    tmp_path: Path, db: Database
) -> None:
    with running(tmp_path, db) as port:  # 1 MB of attachments
        reply = ask(
            port,
            f"POST /admin/bulletins/1/attachments HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Referer: http://127.0.0.1:{port}/admin/bulletins/1\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\n"
            "Content-Length: 524288000\r\n\r\n--x".encode(),
        )
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert b"text/html" in head
    assert b"The file is 500 MB; the limit is 1 MB." in body
    assert b'<a href="/admin/bulletins/1">Go back to the form</a>' in body


def test_a_way_back_is_offered_only_to_this_site(tmp_path: Path, db: Database) -> None:
    with running(tmp_path, db) as port:
        reply = ask(
            port,
            f"POST /admin/bulletins/1/attachments HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Referer: https://evil.example/admin/x\r\n"
            "Content-Length: 524288000\r\n\r\n--x".encode(),
        )
    assert reply.startswith(b"HTTP/1.1 413")
    assert b"evil.example" not in reply and b"Go back" not in reply


# The import has an answer of its own (tests/contacts/admin_views/test_import_too_large.py);
# a list's form has none, so it stands for any other form.
def test_another_form_goes_back_to_its_page_with_the_limit(tmp_path: Path, db: Database) -> None:
    from mailer.app import create_app

    app = create_app(
        make_config(tmp_path, db.url, mail={"max_attachments_mb": 1}, app={"max_request_mb": 2})
    )
    try:
        client = app.test_client()
        add_user(db, email="ed@example.org", role="editor")
        login(client, "ed@example.org")
        token = csrf_from(client.get("/admin/lists/").get_data(as_text=True))
        response = client.post(
            "/admin/lists/",
            data={"csrf_token": token, "file": (io.BytesIO(b"x" * 3 * 1024 * 1024), "big.csv")},
            content_type="multipart/form-data",
            headers={"Referer": "http://localhost/admin/lists/"},
        )
        assert response.status_code == 303
        assert response.headers["Location"] == "/admin/lists/"
        page = client.get("/admin/lists/").get_data(as_text=True)
        assert "The file is 3 MB; the limit is 2 MB." in page
        # From elsewhere (or no Referer): an error page that states the limit, no redirect.
        response = client.post(
            "/admin/lists/",
            data={"file": (io.BytesIO(b"x" * 3 * 1024 * 1024), "big.csv")},
            content_type="multipart/form-data",
            headers={"Referer": "https://evil.example/admin/lists/"},
        )
        assert response.status_code == 413
        assert "The file is 3 MB; the limit is 2 MB." in response.get_data(as_text=True)
    finally:
        app.extensions["mailer.db"].dispose()
