"""The served OpenAPI document: valid OpenAPI 3.1, made from the code, and saying
what the plumbing does (problem details, 401/403/429, Idempotency-Key, ETags)."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from mailer.api import PREFIX, spec
from mailer.api.problems import PROBLEM_JSON

# Rules under /api/v1 that are not operations: the document itself and the reference.
NOT_OPERATIONS = {"api-docs.openapi_json", "api_reference.page"}


def document(client: FlaskClient) -> dict:  # type: ignore[type-arg]
    answer = client.get(f"{PREFIX}/openapi.json")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    return answer.json  # type: ignore[no-any-return]


def operations(doc: dict):  # type: ignore[no-untyped-def,type-arg]
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch"):
                yield path, method, operation


def test_the_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    doc = document(client)
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_the_document_names_the_configured_server(client: FlaskClient, app: Flask) -> None:
    assert document(client)["servers"][0]["url"] == app.config["MAILER"].app.base_url


def test_the_document_is_the_one_the_code_makes(client: FlaskClient, app: Flask) -> None:
    assert document(client) == spec(app)


def test_every_route_under_the_api_is_documented(client: FlaskClient, app: Flask) -> None:
    doc = document(client)
    documented = {(path, method) for path, method, _ in operations(doc)}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX) or rule.endpoint in NOT_OPERATIONS:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:  # type: ignore[operator]
            assert (path, method.lower()) in documented, f"{method} {rule.rule}"


def test_errors_are_documented_as_problem_details(client: FlaskClient) -> None:
    doc = document(client)
    for name, response in doc["components"]["responses"].items():
        content = response.get("content", {})
        assert "application/json" not in content, name
    problem = doc["components"]["responses"]["DEFAULT_ERROR"]["content"][PROBLEM_JSON]
    assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_keyed_operations_document_401_403_and_429(client: FlaskClient) -> None:
    doc = document(client)
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, method, operation in operations(doc):
        security = operation.get("security")
        assert security is not None, f"{method} {path}: keyed or marked public"
        responses = operation["responses"]
        if not security:
            continue
        assert {"401", "429"} <= set(responses), f"{method} {path}"
        scoped = any(scopes for requirement in security for scopes in requirement.values())
        assert ("403" in responses) == scoped, f"{method} {path}"


def test_keyed_posts_take_an_idempotency_key(client: FlaskClient) -> None:
    doc = document(client)
    for path, method, operation in operations(doc):
        names = {p.get("name") for p in operation.get("parameters", [])}
        if method == "post" and operation.get("security"):
            assert "Idempotency-Key" in names, path
            assert {"409", "422"} <= set(operation["responses"]), path
        else:
            assert "Idempotency-Key" not in names, f"{method} {path}"


def test_gets_document_their_etag_and_304(client: FlaskClient) -> None:
    key = document(client)["paths"][f"{PREFIX}/key"]["get"]
    assert "ETag" in key["responses"]["200"]["headers"]
    assert "304" in key["responses"]
    assert "If-None-Match" in {p["name"] for p in key["parameters"]}


def test_the_reference_page_shows_every_operation(client: FlaskClient) -> None:
    doc = document(client)
    for url in (f"{PREFIX}/", f"{PREFIX}/reference"):
        page = client.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        for path, method, _operation in operations(doc):
            assert f'<code class="api-path">{path}</code>' in html.replace("&#39;", "'")
            assert method.upper() in html
        assert "contacts:write" in html  # the scopes, with what each allows
        assert "<script" not in html
        assert "https://" not in html.split("</head>")[0]  # nothing from elsewhere


def test_operations_taking_a_body_document_400_and_415(client: FlaskClient) -> None:
    doc = document(client)
    assert (
        "application/json" in doc["components"]["responses"]["UnsupportedMediaType"]["description"]
    )
    bodied = [(p, m, o) for p, m, o in operations(doc) if "requestBody" in o]
    assert {m for _p, m, _o in bodied} == {"post", "put", "patch"}
    for path, method, operation in bodied:
        assert {"400", "415"} <= set(operation["responses"]), f"{method} {path}"


def test_tags_have_readable_names_and_descriptions(client: FlaskClient) -> None:
    doc = document(client)
    names = [tag["name"] for tag in doc["tags"]]
    assert names == [
        "Key",
        "Contacts",
        "Lists",
        "Organisation types",
        "Suppressions",
        "Bulletins",
        "Sends",
        "Consultations",
        "Statistics",
    ]
    assert all(tag["description"] for tag in doc["tags"])
    for path, method, operation in operations(doc):
        assert operation["tags"][0] in names, f"{method} {path}"


def test_a_summary_is_one_sentence_and_the_rest_is_the_description(client: FlaskClient) -> None:
    doc = document(client)
    for path, method, operation in operations(doc):
        summary = operation["summary"]
        assert "\n" not in summary and "`" not in summary, f"{method} {path}"
        assert ". " not in summary.split("(")[0], f"{method} {path}: {summary}"
        assert "``" not in operation.get("description", ""), f"{method} {path}"
    patch = doc["paths"][f"{PREFIX}/bulletins/{{bulletin_id}}"]["patch"]
    assert patch["summary"] == "Change a bulletin's words."
    assert patch["description"].startswith("Send `If-Match` with the ETag read, so someone")


def test_the_reference_shows_code_as_code_not_backticks(client: FlaskClient) -> None:
    html = client.get(f"{PREFIX}/").get_data(as_text=True)
    assert "`" not in html
    assert "<code>Authorization: Bearer &lt;key&gt;</code>" in html
    assert 'id="tag-organisation-types"' in html
    assert ">Organisation types</h2>" in html
