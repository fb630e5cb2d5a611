"""Answers that take the same time whatever they found.

"Register for updates" must not tell anyone whether an address is new, known or
suppressed. The page and the checks are the same on every branch (mailer.tracking.
limits), but a new address also writes its pending sign-up and queues its email; a
fraction of a millisecond, measurable over enough requests. An accepted answer is
therefore held back until a fixed time after the request began. Refusals (a limit, a
typo) are not held: they say nothing about the address, and holding them would let a
flood of refused requests tie up the server's threads.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import make_response

View = TypeVar("View", bound=Callable[..., Any])

SIGN_UP_ANSWER_S = 0.15


def steady(seconds: float) -> Callable[[View], View]:
    """Hold a view's successful (2xx) answer until ``seconds`` after it started."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def held(*args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            response = make_response(view(*args, **kwargs))
            if 200 <= response.status_code < 300:
                left = seconds - (time.monotonic() - started)
                if left > 0:
                    time.sleep(left)
            return response

        # functools.wraps keeps the view's name and signature; mypy cannot tell.
        return held  # type: ignore[return-value]

    return decorate
