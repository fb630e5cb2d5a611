"""Driving the admin's import as a browser would: upload a file, read the preview's
form (its hidden fields and the options selected), change some choices, post it."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import csrf_from

_CHECK = re.compile(r"/admin/contacts/import/([0-9a-f]{32})$")


def upload(
    client: FlaskClient, data: bytes, filename: str = "people.csv", **form: str
) -> TestResponse:
    """Post a file to the upload form (a list and a lawful basis as ``form`` says)."""
    csrf = csrf_from(client.get("/admin/contacts/import").get_data(as_text=True))
    return client.post(
        "/admin/contacts/import",
        data={
            "csrf_token": csrf,
            "lawful_basis": "public task",
            **form,
            "file": (io.BytesIO(data), filename),
        },
        content_type="multipart/form-data",
    )


def upload_id(client: FlaskClient, data: bytes, filename: str = "people.csv", **form: str) -> str:
    response = upload(client, data, filename, **form)
    assert response.status_code == 302, response.get_data(as_text=True)
    match = _CHECK.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


class _Form(HTMLParser):
    """The fields of the preview's form, as a browser would post them unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.inside = False
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "/import/" in a.get("action", ""):
            self.inside = True
        elif not self.inside:
            return
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self.select = a["name"]
        elif (
            tag == "option"
            and self.select is not None
            and ("selected" in a or self.select not in self.fields)
        ):
            self.fields[self.select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.inside = False


def preview_form(html: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(html)
    return parser.fields


def choose(
    client: FlaskClient,
    upload: str,
    changes: dict[str, str] | None = None,
    *,
    action: str = "preview",
) -> TestResponse:
    """Post the preview's form with ``changes`` made ({"column-3": "role"}), to update
    the preview or (``action="apply"``) to import."""
    page = client.get(f"/admin/contacts/import/{upload}").get_data(as_text=True)
    fields = {**preview_form(page), **(changes or {})}
    return client.post(f"/admin/contacts/import/{upload}", data={**fields, "action": action})


def apply(client: FlaskClient, upload: str) -> TestResponse:
    """Import with the choices the preview shows."""
    return choose(client, upload, action="apply")


def type_field(html: str, name: str) -> str:
    """The form name of the select for the unknown organisation type ``name``."""
    fields = preview_form(html)
    for field, value in fields.items():
        if field.startswith("type-key-") and value == name.casefold():
            return "type-" + field.removeprefix("type-key-")
    raise AssertionError(f"no choice for the type {name!r}")


def column_field(html: str, header: str) -> str:
    """The form name of the select for the column headed ``header``."""
    match = re.search(rf'<label class="label" for="(column-\d+)">{re.escape(header)}</label>', html)
    assert match, f"no column {header!r}"
    return match.group(1)
