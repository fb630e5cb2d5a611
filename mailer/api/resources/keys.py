"""``/api/v1/key``: what the key a request is made with may do (a script's first
check that its key works)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint

from mailer.api import auth

blp = Blueprint("api_key", __name__, url_prefix="/api/v1/key", description="The calling key")


class KeySchema(ma.Schema):
    name = ma.fields.String(required=True, metadata={"description": "The key's name"})
    scopes = ma.fields.List(ma.fields.String(), required=True)


@blp.route("")
@auth.requires_any_key
@blp.response(200, KeySchema)
def whoami() -> dict[str, Any]:
    """The calling key's name and scopes."""
    caller = auth.current()
    return {"name": caller.name, "scopes": sorted(caller.scopes)}
