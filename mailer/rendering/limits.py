"""Limits on one template render: time and size.

An admin-written template runs in Jinja's sandbox, which stops it reaching Python's
internals but not from running for minutes (loops inside loops) or building a string of
hundreds of megabytes. Every render here has a wall-clock deadline, and every value a
template makes is bounded in size. A render that passes a limit stops with
:class:`RenderLimit`, whose message names the limit.

The size limit holds *before* the memory is spent: each operation that can make a big
value (``*``, ``+``, ``%``, ``~``, printing, every filter and method call) is first
measured by what it would make (measure.py, predict.py, filter_limits.py) and refused
if that is over the limit. Iterators a template makes (``map``, ``select``...) count
what they hand out, so whatever collects them stops at the limit too. Values are also
checked after each operation, which costs little and catches what no estimate foresaw.

The deadline is a timer that raises in the rendering thread (CPython's async
exception), so it is checked while the template's Python code runs at no cost per
step; a single C operation cannot be interrupted that way, which is another reason
sizes are checked before an operation rather than after.
"""

from __future__ import annotations

import contextvars
import ctypes
import threading
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any

from mailer.rendering import measure

RENDER_SECONDS = 3.0
MAX_CHARS = 5_000_000  # any one value a template makes, and its whole output
MAX_MADE = 4 * MAX_CHARS  # everything one render makes, kept or not


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


def too_big_list() -> str:
    return (
        f"makes a list holding more than {MAX_CHARS:,} characters (each item counts as "
        f"{measure.ITEM}), the most a template may make (look for repeated or nested lists)"
    )


def too_much() -> str:
    return (
        f"makes more than {MAX_MADE:,} characters in all, the most one render may make "
        "(look for many long values kept at once)"
    )


class _Timeout(RenderLimit):
    def __init__(self) -> None:
        super().__init__(too_slow())


def refuse_over(estimate: int, *, listing: bool = False) -> None:
    """Refuse an operation that would make more than the limit."""
    if estimate > MAX_CHARS:
        raise RenderLimit(too_big_list() if listing else too_big())


def size(value: Any) -> int:
    """What a value holds (measure.size), counted up to just past the limit."""
    return measure.size(value, MAX_CHARS)


def bounded(value: Any) -> Any:
    refuse_over(size(value), listing=not isinstance(value, str | bytes | int))
    return value


def checked(value: Any) -> Any:
    """A value an operation made: bounded, or if it is an iterator, bounded as it is
    consumed; and counted against the render's allowance."""
    if isinstance(value, Iterator) and type(value).__module__ == "builtins":
        return Bounded(value)  # generators and the builtins' iterators, not Cycler
    return made(bounded(value))


def made(value: Any) -> Any:
    """Count a new value against the render's allowance (what it holds itself; the
    values in a list were counted when they were made)."""
    spent = _spent.get()
    if spent is not None:
        spent.add(value)
    return value


class Allowance:
    """How much one render has made. Each value is within MAX_CHARS, but a template
    can keep many (``{% set a1 = ... %}{% set a2 = ... %}``, a list of them), so all
    of them together are bounded too."""

    def __init__(self) -> None:
        self.total = 0
        self.token: contextvars.Token[Allowance | None] | None = None

    def add(self, value: Any) -> None:
        self.spend(measure.made(value))

    def spend(self, chars: int) -> None:
        self.total += chars
        if self.total > MAX_MADE:
            raise RenderLimit(too_much())

    def __enter__(self) -> Allowance:
        self.token = _spent.set(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.token is not None:
            _spent.reset(self.token)


_spent: contextvars.ContextVar[Allowance | None] = contextvars.ContextVar(
    "render_allowance", default=None
)


class Bounded(Iterator[Any]):
    """An iterator a template made (``map``, ``select``, ``batch``...). Whatever
    collects it (``list``, ``join``, ``sort``) keeps what it hands out, so it stops
    once that would together pass the limit."""

    __slots__ = ("_source", "_total")

    def __init__(self, source: Iterable[Any]) -> None:
        self._source = iter(source)
        self._total = 0

    def __iter__(self) -> Bounded:
        return self

    def __next__(self) -> Any:
        item = next(self._source)
        self._total += measure.ITEM + measure.size(item, MAX_CHARS - self._total)
        refuse_over(self._total, listing=True)
        return made(item)


def materialized(value: Any) -> Any:
    """``value`` as a list if it is an iterator (consumed within the limit), so that
    what a call would make of it can be measured first; anything else as it is."""
    if isinstance(value, Iterator):
        return list(value if isinstance(value, Bounded) else Bounded(value))
    return value


def check_arguments(args: Iterable[Any]) -> None:
    """Refuse, before a call of unknown cost, counts that would make a huge value."""
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_CHARS:
            raise RenderLimit(too_big())
        bounded(arg)


def bounded_join(chunks: Iterable[str]) -> str:
    """Jinja's ``concat`` for output, macros and ``{% set x %}...{% endset %}``,
    stopping once too much was made; what it makes counts against the allowance."""
    parts: list[str] = []
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > MAX_CHARS:
            raise RenderLimit(too_big())
        parts.append(chunk)
    spent = _spent.get()
    if spent is not None:
        spent.spend(total)
    return "".join(parts)


def printed(value: Any, escaped: bool) -> Any:
    """A value about to be printed by ``{{ }}``: its text (escaped, in HTML) within the
    limit. A list prints as its repr, every item in full however often it appears."""
    if type(value) is str and len(value) * 5 <= MAX_CHARS:
        return value  # the common case, however it is escaped
    refuse_over(measure.text_size(value, MAX_CHARS, escaped=escaped))
    return value


def joined_parts(parts: tuple[Any, ...]) -> tuple[Any, ...]:
    """The operands of ``~``, refused if their texts together would pass the limit
    (escaped if one is Markup, as the join then escapes the rest)."""
    escaped = any(hasattr(part, "__html__") for part in parts)
    total = sum(measure.text_size(part, MAX_CHARS, escaped=escaped) for part in parts)
    refuse_over(total)
    spent = _spent.get()
    if spent is not None:
        spent.spend(total)
    return parts


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
