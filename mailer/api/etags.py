"""ETags for conditional requests: a representation's tag is a hash of its JSON, so
a GET answers 304 to ``If-None-Match`` and a change made with ``If-Match`` is refused
(412) when someone else changed the resource since it was read."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import request

from mailer.api.problems import ApiProblem


def tag(representation: Any) -> str:
    """The strong ETag (quoted) of what a GET of the resource returns."""
    canonical = json.dumps(representation, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32] + '"'


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
