"""What an operator or a method call in a template would make, refused before it runs.

The sandbox (sandbox.py) sends every ``*``, ``**``, ``+`` and ``%`` and every call of a
method or global here first. Each estimate is a cheap upper bound from the operands:
lengths, counts of a substring (one C scan), the widths a format asks for. The call is
refused when the bound passes the limit, so a template cannot make Python allocate a
gigabyte to find out (``s.replace('x', 'x' * 100)``, ``('{0}' * 1000).format(s)``).
Calls without an estimate here get the generic check: no argument over the limit, and
no count over it either (a count is how a call of unknown cost makes a big value).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from string import Formatter
from typing import Any

from jinja2.utils import generate_lorem_ipsum

from mailer.rendering import limits, measure
from mailer.rendering.limits import MAX_CHARS, materialized, refuse_over

Args = tuple[Any, ...]
Kwargs = dict[str, Any]
_FORMATTER = Formatter()
_NUMBER = re.compile(r"\d+")
# One %-conversion: optional (key), flags, width, precision, length modifier, type.
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.?)")
_ASCII_WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e"
_UNICODE_LINE_BREAKS = "\x85\u2028\u2029"


def binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``*``, ``**``, ``+`` and ``%`` whose result would pass the limit."""
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(count, int) and isinstance(seq, str | bytes | list | tuple):
                listing = isinstance(seq, list | tuple)
                refuse_over(limits.size(seq) * max(count, 0), listing=listing)
        if _integer(left) and _integer(right):
            refuse_over(left.bit_length() + right.bit_length())
    elif operator == "**":
        if _integer(left) and _integer(right) and abs(left) > 1 and right > 0:
            refuse_over(right * left.bit_length())
    elif operator == "+":
        if isinstance(left, str) and isinstance(right, str):
            escaped = _marks(left) or _marks(right)  # Markup escapes the other side
            refuse_over(_printed(left, False, escaped) + _printed(right, False, escaped))
        elif isinstance(left, list | tuple) and isinstance(right, list | tuple):
            refuse_over(limits.size(left) + limits.size(right), listing=True)
    elif operator == "%" and isinstance(left, str):
        refuse_over(percent_size(left, right, escaped=_marks(left)))


def percent_size(pattern: str, values: Any, *, escaped: bool = False) -> int:
    """How long ``pattern % values`` could be: the pattern, what each conversion
    prints, and the widths and precisions it asks for."""
    conversions = _PERCENT.findall(pattern)
    total = len(pattern)
    for width, precision, _kind in conversions:
        total += _number(width) + _number(precision)
    as_repr = any(kind in ("r", "a") for _w, _p, kind in conversions)
    if isinstance(values, Mapping):
        # "%(a)s%(a)s..." may print the same value any number of times.
        widest = max((_printed(v, as_repr, escaped) for v in values.values()), default=0)
        return total + len(conversions) * widest
    items = values if isinstance(values, tuple) else (values,)
    total += sum(_printed(v, as_repr, escaped) for v in items)
    if any("*" in (width, precision) for width, precision, _k in conversions):
        total += sum(abs(v) for v in items if _integer(v))  # widths taken from the values
    return total


def format_size(pattern: str, args: Args, kwargs: Mapping[str, Any], escaped: bool) -> int:
    """How long ``pattern.format(*args, **kwargs)`` could be: every field may print
    the longest argument (``"{0}{0}{0}"``), padded to the widths it names."""
    try:
        fields = list(_FORMATTER.parse(pattern))
    except ValueError:
        return len(pattern)  # the call itself will report the mistake
    values = [*args, *kwargs.values()]
    as_repr = any(conversion in ("r", "a") for _l, _f, _s, conversion in fields)
    widest = max((_printed(v, as_repr, escaped) for v in values), default=0)
    widest_count = max((abs(v) for v in values if _integer(v)), default=0)
    total = 0
    for literal, field, spec, _conversion in fields:
        total += len(literal)
        if field is None:
            continue
        total += widest + sum(_number(n) for n in _NUMBER.findall(spec or ""))
        if spec and "{" in spec:
            total += widest_count  # a width given as an argument: "{:{}}"
        if total > MAX_CHARS:
            break
    return total


def before_call(function: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    """Check a call a template makes; returns the arguments to call with (an iterator
    argument comes back as a list, consumed within the limit, to be measured)."""
    for value in (*args, *kwargs.values()):
        limits.bounded(value)
    name = getattr(function, "__name__", None)
    if name in ("format", "format_map"):
        # The sandbox hands templates str.format wrapped; the bound method is inside.
        function = getattr(function, "__wrapped__", function)
    owner = getattr(function, "__self__", None)
    estimate: _Estimate | None = None
    if isinstance(owner, str | bytes):
        estimate = _TEXT_METHODS.get(name or "")
    elif isinstance(owner, list):
        estimate = _LIST_METHODS.get(name or "")
    elif isinstance(owner, dict) or owner is dict:
        estimate = _DICT_METHODS.get(name or "")
    elif isinstance(owner, type) and issubclass(owner, str) and name == "escape":
        estimate = _escape  # Markup.escape
    elif function is generate_lorem_ipsum:
        estimate = _lipsum
    if estimate is None:
        limits.check_arguments((*args, *kwargs.values()))
        return args, kwargs
    return estimate(owner, args, kwargs)


_Estimate = Callable[[Any, Args, Kwargs], tuple[Args, Kwargs]]


def _argument(args: Args, kwargs: Kwargs, index: int, name: str, default: Any = None) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def _replace(text: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    old = _argument(args, kwargs, 0, "old")
    new = _argument(args, kwargs, 1, "new")
    count = _argument(args, kwargs, 2, "count", -1)
    same_kind = isinstance(old, str) == isinstance(new, str) == isinstance(text, str)
    if same_kind and isinstance(old, str | bytes) and isinstance(new, str | bytes):
        refuse_over(replaced_size(text, old, new, count, escaped=_marks(text)))
    return args, kwargs


def replaced_size(text: Any, old: Any, new: Any, count: Any, *, escaped: bool) -> int:
    """How long ``text.replace(old, new, count)`` would be."""
    grows = _printed(new, False, escaped) - len(old)
    if grows <= 0:
        return len(text)
    found = len(text) + 1 if not old else text.count(old)
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * grows


def _join(separator: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    items = materialized(_argument(args, kwargs, 0, "iterable"))
    if isinstance(items, Mapping | set | frozenset | range):
        items = list(items)  # references to what the call's check already measured
    if isinstance(items, str | bytes):
        count, total = len(items), len(items)
    elif isinstance(items, list | tuple):
        count = len(items)
        escaped = _marks(separator)
        total = sum(_printed(item, False, escaped) for item in items)
    else:
        return (items,), {}
    refuse_over(total + len(separator) * max(count - 1, 0))
    return (items,), {}


def _pad(text: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    width = _argument(args, kwargs, 0, "width", 0)
    refuse_over(max(len(text), width if _integer(width) else 0))
    return args, kwargs


def _expandtabs(text: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    tabsize = _argument(args, kwargs, 0, "tabsize", 8)
    if _integer(tabsize):
        tab = "\t" if isinstance(text, str) else b"\t"
        refuse_over(len(text) + text.count(tab) * max(tabsize, 0))
    return args, kwargs


def _format(text: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    refuse_over(format_size(text, args, kwargs, _marks(text)))
    return args, kwargs


def _format_map(text: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    mapping = args[0] if len(args) == 1 and isinstance(args[0], Mapping) else {}
    refuse_over(format_size(text, (), mapping, _marks(text)))
    return args, kwargs


def _translate(text: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    table = _argument(args, kwargs, 0, "table")
    if isinstance(text, str) and isinstance(table, Mapping | list | tuple):
        replacements = table.values() if isinstance(table, Mapping) else table
        longest = max((len(r) for r in replacements if isinstance(r, str)), default=1)
        refuse_over(len(text) * max(longest, 1))
    return args, kwargs


def _split(text: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    separator = _argument(args, kwargs, 0, "sep")
    most = _argument(args, kwargs, 1, "maxsplit", -1)
    if isinstance(separator, str | bytes) and separator:
        pieces = text.count(separator) + 1
    else:
        pieces = spaces(text) + 1
    if _integer(most) and most >= 0:
        pieces = min(pieces, most + 1)
    refuse_over(len(text) + measure.ITEM * pieces, listing=True)
    return args, kwargs


def _splitlines(text: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    refuse_over(len(text) + measure.ITEM * (line_breaks(text) + 1), listing=True)
    return args, kwargs


def spaces(text: Any) -> int:
    """How many places ``text.split()`` could cut (at most half of a non-ASCII text)."""
    if isinstance(text, bytes):
        return sum(text.count(c.encode()) for c in _ASCII_WHITESPACE)
    if not text.isascii():
        return len(text) // 2
    return sum(text.count(c) for c in _ASCII_WHITESPACE)


def line_breaks(text: Any) -> int:
    """How many places ``text.splitlines()`` cuts, at most."""
    if isinstance(text, bytes):
        return sum(text.count(c.encode()) for c in _LINE_BREAKS)
    return sum(text.count(c) for c in _LINE_BREAKS + _UNICODE_LINE_BREAKS)


def _recased(text: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    # Changing case can lengthen some letters three times ("ﬃ" -> "FFI").
    ascii_only = isinstance(text, bytes) or text.isascii()
    refuse_over(len(text) * (1 if ascii_only else 3))
    return args, kwargs


def _encode(text: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    refuse_over(4 * len(text) + 4)  # UTF-8 and UTF-32 take up to four bytes a character
    return args, kwargs


def _hex(text: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    refuse_over(3 * len(text))  # two digits a byte, and a separator if asked
    return args, kwargs


def _escape(text: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    value = _argument(args, kwargs, 0, "s")
    refuse_over(measure.text_size(value, MAX_CHARS, escaped=True))
    return args, kwargs


_TEXT_METHODS: dict[str, _Estimate] = {
    "replace": _replace,
    "join": _join,
    "center": _pad,
    "ljust": _pad,
    "rjust": _pad,
    "zfill": _pad,
    "expandtabs": _expandtabs,
    "format": _format,
    "format_map": _format_map,
    "translate": _translate,
    "split": _split,
    "rsplit": _split,
    "splitlines": _splitlines,
    "upper": _recased,
    "lower": _recased,
    "title": _recased,
    "swapcase": _recased,
    "casefold": _recased,
    "capitalize": _recased,
    "encode": _encode,
    "hex": _hex,
    "escape": _escape,
}


def _grow_list(items: list[Any], args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    refuse_over(limits.size(items) + sum(map(limits.size, args)) + measure.ITEM, listing=True)
    return args, kwargs


def _extend(items: list[Any], args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    more = materialized(_argument(args, kwargs, 0, "iterable"))
    refuse_over(limits.size(items) + limits.size(more), listing=True)
    return (more,), {}


_LIST_METHODS: dict[str, _Estimate] = {
    "append": _grow_list,
    "insert": _grow_list,
    "extend": _extend,
}


def _update(mapping: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    args = tuple(materialized(arg) for arg in args)
    added = sum(map(limits.size, args)) + limits.size(kwargs)
    refuse_over(limits.size(mapping) + added + 2 * measure.ITEM, listing=True)
    return args, kwargs


def _fromkeys(_owner: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    keys = materialized(_argument(args, kwargs, 0, "iterable"))
    value = _argument(args, kwargs, 1, "value")
    sized = list | tuple | str | range | dict | set | frozenset
    count = len(keys) if isinstance(keys, sized) else 0
    each = 2 * measure.ITEM + limits.size(value)
    refuse_over(limits.size(keys) + count * each, listing=True)
    return (keys, *args[1:]), kwargs


_DICT_METHODS: dict[str, _Estimate] = {
    "update": _update,
    "setdefault": _update,
    "fromkeys": _fromkeys,
}


def _lipsum(_owner: Any, args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    limits.check_arguments((*args, *kwargs.values()))
    paragraphs = _argument(args, kwargs, 0, "n", 5)
    words = _argument(args, kwargs, 3, "max", 100)
    if _integer(paragraphs) and _integer(words):
        refuse_over(max(paragraphs, 0) * (max(words, 0) * 14 + 16))  # words of 13 or less
    return args, kwargs


def _printed(value: Any, as_repr: bool, escaped: bool) -> int:
    if as_repr:
        return measure.repr_size(value, MAX_CHARS)
    return measure.text_size(value, MAX_CHARS, escaped=escaped)


def _marks(text: Any) -> bool:
    """Markup escapes what it is combined with."""
    return hasattr(text, "__html__")


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(digits: str) -> int:
    if not digits or digits == "*":
        return 0
    return MAX_CHARS + 1 if len(digits) > 7 else int(digits)
