"""The reference page's contents, read from the OpenAPI document as served (so the
page says what the document says): each operation with its scope, parameters, request
and response fields, and the errors it may answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from mailer.api import document

JSON = "application/json"


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool
    description: str
    where: str = ""  # a parameter's place: path, query, header


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    content_type: str
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    scope: str | None
    keyed: bool
    parameters: tuple[Field, ...]
    body: tuple[Field, ...]
    answers: tuple[Answer, ...]

    @property
    def anchor(self) -> str:
        cleaned = "".join(c if c.isalnum() else "-" for c in self.path.strip("/"))
        return f"{self.method.lower()}-{cleaned}".strip("-")

    @property
    def access(self) -> str:
        if not self.keyed:
            return "Public: no key needed"
        if self.scope is None:
            return "Any key"
        return f"Scope {self.scope}"


@dataclass(frozen=True)
class Section:
    name: str
    description: str
    operations: list[Operation] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "tag-" + "-".join(re.findall(r"[a-z0-9]+", self.name.lower()))


def inline_code(text: str) -> Markup:
    """Text from the document with its Markdown ```code``` shown as code (the rest
    escaped): the reference shows no backticks."""
    parts = re.split(r"`([^`]+)`", text)
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if i % 2 else escape(part)
        for i, part in enumerate(parts)
    )


def sections(doc: dict[str, Any]) -> list[Section]:
    """The operations, grouped by their tag in the document's order of tags."""
    by_name = {
        tag["name"]: Section(tag["name"], tag.get("description", "")) for tag in doc.get("tags", [])
    }
    for path, item in doc.get("paths", {}).items():
        for method in document.METHODS:
            raw = item.get(method)
            if not isinstance(raw, dict):
                continue
            tag = (raw.get("tags") or ["Other"])[0]
            section = by_name.setdefault(tag, Section(tag, ""))
            section.operations.append(_operation(doc, path, method, item, raw))
    return [s for s in by_name.values() if s.operations]


def _operation(
    doc: dict[str, Any], path: str, method: str, item: dict[str, Any], raw: dict[str, Any]
) -> Operation:
    parameters = [*item.get("parameters", []), *raw.get("parameters", [])]
    body = ((raw.get("requestBody") or {}).get("content") or {}).get(JSON, {})
    return Operation(
        method=method.upper(),
        path=path,
        summary=raw.get("summary", ""),
        description=raw.get("description", ""),
        scope=document.scope_of(raw),
        keyed=document.keyed(raw),
        parameters=tuple(_parameter(doc, p) for p in parameters),
        body=_fields(doc, body.get("schema")),
        answers=tuple(
            _answer(doc, status, response)
            for status, response in sorted(raw.get("responses", {}).items())
        ),
    )


def _parameter(doc: dict[str, Any], raw: dict[str, Any]) -> Field:
    raw = _resolve(doc, raw)
    return Field(
        name=raw.get("name", ""),
        type=_type(doc, raw.get("schema") or {}),
        required=bool(raw.get("required")),
        description=raw.get("description", ""),
        where=raw.get("in", ""),
    )


def _answer(doc: dict[str, Any], status: str, raw: dict[str, Any]) -> Answer:
    raw = _resolve(doc, raw)
    content = raw.get("content") or {}
    content_type = next(iter(content), "")
    fields = _fields(doc, content[JSON].get("schema")) if JSON in content else ()
    return Answer(status, raw.get("description", ""), content_type, fields)


def _fields(doc: dict[str, Any], schema: dict[str, Any] | None) -> tuple[Field, ...]:
    if not schema:
        return ()
    schema = _resolve(doc, schema)
    if schema.get("type") == "array":
        schema = _resolve(doc, schema.get("items") or {})
    required = set(schema.get("required", []))
    return tuple(
        Field(
            name=name,
            type=_type(doc, prop),
            required=name in required,
            description=_resolve(doc, prop).get("description", ""),
        )
        for name, prop in (schema.get("properties") or {}).items()
    )


def _type(doc: dict[str, Any], schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = schema.get("type", "")
    if isinstance(kind, list):
        kind = " or ".join(str(k) for k in kind)
    if kind == "array":
        return f"list of {_type(doc, schema.get('items') or {})}"
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"] if v is not None)
    if schema.get("format"):
        return f"{kind} ({schema['format']})"
    return str(kind or "any")


def _resolve(doc: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while isinstance(raw, dict) and "$ref" in raw and seen < 10:
        target: Any = doc
        for part in str(raw["$ref"]).removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        raw = target
        seen += 1
    return raw if isinstance(raw, dict) else {}
