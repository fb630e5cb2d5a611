"""Jinja's filters with the size limit applied before they run.

Every filter first has its value and arguments measured (no one over the limit), then,
for the filters that can make more than they were given, what it would make is
estimated from them and refused over the limit: ``join`` with a long separator,
``replace``, ``format``, ``indent``, ``wordwrap``, ``center``, ``tojson``, ``pprint``,
``string`` of a list that holds one long text many times, ``slice``/``batch`` into
millions of lists, ``list`` of a long text (a string per character). The result is
checked too, and an iterator (``map``, ``select``) is bounded as it is consumed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2.filters import make_attrgetter

from mailer.rendering import limits, measure, predict
from mailer.rendering.limits import MAX_CHARS, materialized, refuse_over

# Filters that print their value, and filters that walk it item by item (a string's
# items are its characters: a new string each for most non-Latin text).
_PRINTING = frozenset(
    [
        "capitalize",
        "center",
        "e",
        "escape",
        "forceescape",
        "format",
        "indent",
        "lower",
        "replace",
        "safe",
        "string",
        "striptags",
        "title",
        "trim",
        "truncate",
        "upper",
        "urlize",
        "wordcount",
        "wordwrap",
    ]
)
_WALKING = frozenset(
    [
        "batch",
        "groupby",
        "join",
        "list",
        "map",
        "reject",
        "rejectattr",
        "select",
        "selectattr",
        "slice",
        "sort",
        "sum",
        "unique",
    ]
)


@dataclass
class FilterCall:
    """One call of a filter: Jinja's context argument if it takes one, the filtered
    value, the other arguments. An estimate may replace the value (an iterator
    collected into a list, to be measured) and the arguments."""

    passed: tuple[Any, ...]
    value: Any
    rest: tuple[Any, ...]
    kwargs: dict[str, Any]

    def argument(self, index: int, name: str, default: Any = None) -> Any:
        if len(self.rest) > index:
            return self.rest[index]
        return self.kwargs.get(name, default)

    @property
    def autoescape(self) -> bool:
        if not self.passed:
            return False
        first = self.passed[0]
        return getattr(getattr(first, "eval_ctx", first), "autoescape", False) is True


def limited_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` (the filter called ``name``) bounded (its Jinja markers kept)."""
    skip = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0
    estimate = _ESTIMATES.get(name)
    printing = name in _PRINTING
    walking = name in _WALKING

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if len(args) <= skip:
            return function(*args, **kwargs)
        passed, value, rest = args[:skip], args[skip], args[skip + 1 :]
        for argument in (value, *rest, *kwargs.values()):
            limits.bounded(argument)
        if printing:
            refuse_over(_text(value))
        if walking and isinstance(value, str):
            refuse_over(len(value) * (measure.ITEM + 1), listing=True)
        if estimate is not None:
            call = FilterCall(passed, value, rest, dict(kwargs))
            estimate(call)
            value, rest, kwargs = call.value, call.rest, call.kwargs
        return limits.checked(function(*passed, value, *rest, **kwargs))

    return wrapper


def _text(value: Any, escaped: bool = False) -> int:
    return measure.text_size(value, MAX_CHARS, escaped=escaped)


def _as_text(value: Any) -> str:
    """``str(value)``, once its length is known to be within the limit."""
    if isinstance(value, str):
        return value
    refuse_over(_text(value))
    return str(value)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _join(call: FilterCall) -> None:
    items = materialized(call.value)
    if isinstance(items, Mapping | set | frozenset | range):
        items = list(items)
    separator = call.argument(0, "d", "")
    attribute = call.argument(1, "attribute")
    if attribute is not None and isinstance(items, list | tuple):
        getter = make_attrgetter(call.passed[0].environment, attribute)
        items = [getter(item) for item in items]
        call.rest, call.kwargs = (separator,), {}
    call.value = items
    escaped = call.autoescape
    if isinstance(items, str):
        count, total = len(items), _text(items, escaped)
    elif isinstance(items, list | tuple):
        count, total = len(items), sum(_text(item, escaped) for item in items)
    else:
        return
    refuse_over(total + _text(separator, escaped) * max(count - 1, 0))


def _replace(call: FilterCall) -> None:
    text = _as_text(call.value)
    old, new = _as_text(call.argument(0, "old", "")), _as_text(call.argument(1, "new", ""))
    count = call.argument(2, "count")
    escaped = call.autoescape
    base = _text(text, escaped)
    grown = predict.replaced_size(text, old, new, count, escaped=escaped)
    refuse_over(base - len(text) + grown)


def _format(call: FilterCall) -> None:
    pattern = _as_text(call.value)
    values = call.kwargs or call.rest
    refuse_over(predict.percent_size(pattern, values, escaped=hasattr(pattern, "__html__")))


def _indent(call: FilterCall) -> None:
    text = _as_text(call.value)
    width = call.argument(0, "width", 4)
    step = len(width) if isinstance(width, str) else max(width, 0) if _integer(width) else 0
    lines = predict.line_breaks(text) + 1
    refuse_over(len(text) + lines * (step + measure.ITEM))


def _wordwrap(call: FilterCall) -> None:
    text = _as_text(call.value)
    width = call.argument(0, "width", 79)
    width = width if _integer(width) and width > 0 else 1
    wrapstring = call.argument(2, "wrapstring")
    joint = len(wrapstring) if isinstance(wrapstring, str) else 2
    # textwrap cuts the text at spaces and hyphens, and long words every ``width``.
    cuts = 2 * predict.spaces(text) + text.count("-") + len(text) // width
    refuse_over(len(text) + (min(cuts, len(text)) + 1) * (measure.ITEM + joint))


def _center(call: FilterCall) -> None:
    width = call.argument(0, "width", 80)
    refuse_over(max(_text(call.value), width if _integer(width) else 0))


def _urlize(call: FilterCall) -> None:
    text = _as_text(call.value)
    extra = sum(_text(call.argument(i, name) or "") for i, name in ((2, "target"), (3, "rel")))
    links = sum(text.count(c) for c in ".@:")
    refuse_over(6 * len(text) + links * (80 + extra))  # escaped, and <a href=...> each


def _urlencode(call: FilterCall) -> None:
    value = call.value
    if isinstance(value, str):
        refuse_over(len(value) * (3 if value.isascii() else 12))  # "%E2%82%AC"
    else:
        refuse_over(12 * _text(value))


def _xmlattr(call: FilterCall) -> None:
    if isinstance(call.value, Mapping):
        pairs = call.value.items()
        refuse_over(sum(_text(k, True) + _text(v, True) + 4 for k, v in pairs))


def _tojson(call: FilterCall) -> None:
    indent = call.argument(0, "indent")
    indent = indent if _integer(indent) else None
    refuse_over(measure.json_size(call.value, MAX_CHARS, indent))


def _pprint(call: FilterCall) -> None:
    refuse_over(measure.pprint_size(call.value, MAX_CHARS))


def _escape(call: FilterCall) -> None:
    value = call.value
    refuse_over(measure.escaped_size(value) if isinstance(value, str) else _text(value, True))


def _recased(call: FilterCall) -> None:
    value = call.value
    ascii_only = isinstance(value, str) and value.isascii()
    refuse_over(_text(value) * (1 if ascii_only else 3))  # "ﬃ" -> "FFI"


def _words(call: FilterCall) -> None:
    text = _as_text(call.value)
    refuse_over(len(text) + (len(text) // 2 + 1) * measure.ITEM, listing=True)


def _sum(call: FilterCall) -> None:
    items = materialized(call.value)
    attribute = call.argument(0, "attribute")
    start = call.argument(1, "start", 0)
    if attribute is not None and isinstance(items, list | tuple):
        getter = make_attrgetter(call.passed[0], attribute)
        items = [getter(item) for item in items]
    call.value, call.rest, call.kwargs = items, (), {"start": start}
    if isinstance(items, list | tuple):
        joined = isinstance(start, list | tuple) or any(isinstance(i, list | tuple) for i in items)
        if joined:
            refuse_over(limits.size(start) + sum(map(limits.size, items)), listing=True)


def _batch(call: FilterCall) -> None:
    count, fill = call.argument(0, "linecount"), call.argument(1, "fill_with")
    if fill is not None and _integer(count):
        refuse_over(max(count, 0) * (measure.ITEM + limits.size(fill)), listing=True)


def _slice(call: FilterCall) -> None:
    count, fill = call.argument(0, "slices"), call.argument(1, "fill_with")
    if _integer(count):
        each = measure.ITEM + (0 if fill is None else measure.ITEM + limits.size(fill))
        refuse_over(max(count, 0) * each, listing=True)


_ESTIMATES: dict[str, Callable[[FilterCall], None]] = {
    "join": _join,
    "replace": _replace,
    "format": _format,
    "indent": _indent,
    "wordwrap": _wordwrap,
    "center": _center,
    "urlize": _urlize,
    "urlencode": _urlencode,
    "xmlattr": _xmlattr,
    "tojson": _tojson,
    "pprint": _pprint,
    "e": _escape,
    "escape": _escape,
    "forceescape": _escape,
    "upper": _recased,
    "lower": _recased,
    "title": _recased,
    "capitalize": _recased,
    "wordcount": _words,
    "striptags": _words,
    "sum": _sum,
    "batch": _batch,
    "slice": _slice,
}
