"""ETags for conditional requests: a representation's tag is a hash of its JSON, so
a GET answers 304 to ``If-None-Match`` and a change made with ``If-Match`` is refused
(412) when someone else changed the resource since it was read."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import marshmallow as ma
from flask import Response, current_app, request

from mailer.api.problems import ApiProblem


def tag(representation: Any) -> str:
    """The strong ETag (quoted) of what a GET of the resource returns: pass the JSON
    object the GET answers (a schema's ``dump``, not the model), so that the tag is
    the one every GET carries (``add_to``)."""
    canonical = json.dumps(representation, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32] + '"'


def served(schema: ma.Schema, data: Any) -> Any:
    """``data`` as a GET of it answers: dumped by the operation's response ``schema``
    and through the app's JSON, as flask-smorest serves it. Its ``tag`` is the ETag
    that GET carries, so pass this to ``check_if_match``, and tag a write's answer
    with it: then the tags a GET gives, a write gives and If-Match takes are one."""
    return json.loads(current_app.json.dumps(schema.dump(data)))


def check_if_match(representation: Any) -> None:
    """Refuse a change made against an older copy: ``If-Match`` must name the tag of
    the resource as it is now (``*`` matches any). Without the header, the change is
    made (a script that does not care about lost updates need not send it)."""
    wanted = request.headers.get("If-Match")
    if wanted is None:
        return
    current = tag(representation)
    tags = [t.strip().removeprefix("W/") for t in wanted.split(",")]
    if "*" in tags or current in tags:
        return
    raise ApiProblem(
        412,
        "The resource changed since you read it: read it again, and send its new ETag in If-Match.",
        headers={"ETag": current},
    )


def none_match(tag_now: str) -> bool:
    """Does ``If-None-Match`` name ``tag_now`` (weak comparison, as RFC 9110 says)?"""
    wanted = request.headers.get("If-None-Match")
    if wanted is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in wanted.split(",")]
    return "*" in tags or tag_now in tags


def add_to(response: Response) -> Response:
    """Tag a 200 JSON answer to a GET (or to a PUT or PATCH: the new representation)
    under /api/v1, and answer 304 to a GET whose If-None-Match names the tag. The tag
    is ``tag`` of the body, so it is the tag ``check_if_match`` compares with when the
    resource passes the representation its GET returns (``served``). A GET view
    leaves the ETag to this; one it set anyway still answers If-None-Match."""
    if (
        response.status_code != 200
        or response.mimetype != "application/json"
        or request.method not in ("GET", "HEAD", "PUT", "PATCH")
        or response.direct_passthrough
    ):
        return response
    current = response.headers.get("ETag")
    if current is None:
        try:
            body = json.loads(response.get_data())
        except ValueError:
            return response
        current = tag(body)
        response.headers["ETag"] = current
    if request.method in ("GET", "HEAD") and none_match(current):
        response.status_code = 304
        response.set_data(b"")
        response.headers.remove("Content-Type")
        response.headers.remove("Content-Length")
    return response
