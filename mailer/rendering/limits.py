"""Limits on one template render: time and size.

An admin-written template runs in Jinja's sandbox, which stops it reaching Python's
internals but not from running for minutes (loops inside loops) or building a string of
hundreds of megabytes. Every render here has a wall-clock deadline, and every value a
template makes (output, ``~`` and ``+`` joins, ``*`` repeats, calls and filters) is
bounded in size, checked before the big operations and after the rest. A render that
passes a limit stops with :class:`RenderLimit`, whose message names the limit.

The deadline is a timer that raises in the rendering thread (CPython's async
exception), so it is checked while the template's Python code runs at no cost per
step; a single C operation cannot be interrupted that way, which is why sizes are
checked before ``*`` and calls with large counts rather than after.
"""

from __future__ import annotations

import ctypes
import functools
import re
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

RENDER_SECONDS = 3.0
MAX_CHARS = 5_000_000  # any one value a template makes, and its whole output
_BIG_NUMBER = re.compile(r"\d{7,}")  # a width like "%9999999s" or "{:>9999999}"


class RenderLimit(BaseException):
    """A render went past a limit. A BaseException so that no ``except Exception``
    inside Jinja or a filter can swallow it; sandbox.render_part turns it into a
    TemplateProblem."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or too_slow())


def too_slow() -> str:
    return (
        f"took longer than {RENDER_SECONDS:g} seconds to render, the most a template may "
        "take (look for loops inside loops)"
    )


def too_big() -> str:
    return (
        f"makes text longer than {MAX_CHARS:,} characters, the most a template may make "
        "(look for repeated or joined text)"
    )


class _Timeout(RenderLimit):
    def __init__(self) -> None:
        super().__init__(too_slow())


def size(value: Any) -> int:
    """A cheap measure of how much a value holds: a string's length, a sequence's
    length plus that of the strings in it."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, list | tuple):
        return len(value) + sum(len(v) for v in value if isinstance(v, str | bytes))
    return 0


def bounded(value: Any) -> Any:
    if size(value) > MAX_CHARS:
        raise RenderLimit(too_big())
    return value


def check_arguments(args: Iterable[Any]) -> None:
    """Refuse, before a call, counts that would make a huge value."""
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_CHARS:
            raise RenderLimit(too_big())
        if size(arg) > MAX_CHARS:
            raise RenderLimit(too_big())


def check_format(pattern: Any) -> None:
    """Refuse a format string with a huge width ("%9999999s", "{:>9999999}")."""
    if isinstance(pattern, str) and _BIG_NUMBER.search(pattern):
        raise RenderLimit(too_big())


def bounded_join(chunks: Iterable[str]) -> str:
    """Jinja's ``concat`` for output and macros, stopping once too much was made."""
    parts: list[str] = []
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > MAX_CHARS:
            raise RenderLimit(too_big())
        parts.append(chunk)
    return "".join(parts)


def predicted_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``*`` and ``**`` whose result would be huge, before computing it."""
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            repeated = isinstance(count, int) and isinstance(seq, str | bytes | list | tuple)
            if repeated and size(seq) * max(count, 0) > MAX_CHARS:
                raise RenderLimit(too_big())
    elif operator == "**":
        integers = isinstance(left, int) and isinstance(right, int) and abs(left) > 1
        if integers and right * abs(left).bit_length() > MAX_CHARS:
            raise RenderLimit(too_big())
    elif operator == "%" and isinstance(left, str):
        check_format(left)


def limited_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose arguments and result are bounded (its Jinja markers kept)."""

    formats = function.__name__ == "do_format"

    # The filtered value comes first, after Jinja's context or environment if it asks.
    skip = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        value, rest = args[skip : skip + 1], args[skip + 1 :]
        check_arguments(rest)
        check_arguments(kwargs.values())
        if value and size(value[0]) > MAX_CHARS:
            raise RenderLimit(too_big())
        if formats and value:
            check_format(value[0])
        return bounded(function(*args, **kwargs))

    return wrapper


class Deadline:
    """Raise RenderLimit in this thread if the block runs past ``seconds``."""

    def __init__(self, seconds: float = RENDER_SECONDS) -> None:
        self.seconds = seconds
        self.thread_id = threading.get_ident()
        self.lock = threading.Lock()
        self.finished = False
        self.fired = False
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True

    def _fire(self) -> None:
        with self.lock:
            if self.finished:
                return
            self.fired = True
            _raise_in(self.thread_id, _Timeout)

    def __enter__(self) -> Deadline:
        self.timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.timer.cancel()
        with self.lock:
            self.finished = True
            if self.fired:
                _raise_in(self.thread_id, None)  # one not yet delivered is dropped here
        if self.fired and not isinstance(exc, RenderLimit):
            raise RenderLimit(too_slow())


def _raise_in(thread_id: int, exception: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), None if exception is None else ctypes.py_object(exception)
    )
