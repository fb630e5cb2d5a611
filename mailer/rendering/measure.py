"""How big a template's values are, and how long their text would be, measured without
copying them.

The render limits (limits.py) refuse an operation by what it *would* make, so these
measures must be cheap and never smaller than the truth by much. They count a shared
value every time it appears: ``[[s]] * 600`` holds one string, but printing or joining
it copies that string 600 times, and that copy is what must be refused.

Units are characters. A number counts its bits (its longest text, in binary), an item
of a list, tuple, set or dictionary counts :data:`ITEM` for the reference that holds it
(a list of a million empty strings is 8 MB although it prints short). Counting stops
once past the ``limit`` a caller gives, so measuring a huge value costs little more
than measuring one at the limit. Unknown objects (dates, the loop, personal values)
count a little and are never converted, tested or measured with ``len``, so none of
their own checks fire here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, MappingView
from typing import Any

from jinja2.utils import Namespace

ITEM = 8  # what one item of a container costs, in characters (a pointer's bytes)
DEPTH = 40  # nesting past this is refused as too big (also stops a list holding itself)
OTHER = 100  # the text of an object of unknown kind: a date, the loop, a personal value
_SEQUENCES = (list, tuple, set, frozenset, deque, MappingView)
_NUMBERS = (float, complex)
_UNCOUNTED = frozenset({float, complex, bool, type(None)})


def size(value: Any, limit: int) -> int:
    """What ``value`` holds; at least ``limit + 1`` when it holds more than ``limit``."""
    return _size(value, limit, 0)


def _size(value: Any, limit: int, depth: int) -> int:
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    if isinstance(value, int):
        return 0 if isinstance(value, bool) else value.bit_length()
    if isinstance(value, range):
        return ITEM * _range_length(value)
    if isinstance(value, Namespace):
        return _size(value._Namespace__attrs, limit, depth)
    if isinstance(value, Mapping):
        total = 2 * ITEM * len(value)
        items: Any = (part for pair in value.items() for part in pair)
    elif isinstance(value, _SEQUENCES):
        total = ITEM * len(value)
        items = value
    else:
        return 0
    if total > limit or not total:
        return total
    if depth >= DEPTH:
        return limit + 1
    for item in items:
        kind = type(item)
        if kind is str:
            total += len(item)
        elif kind is int:
            total += item.bit_length()
        elif kind not in _UNCOUNTED:
            total += _size(item, limit - total, depth + 1)
        if total > limit:
            return total
    return total


def _range_length(value: range) -> int:
    try:
        return len(value)
    except OverflowError:
        return 2**63


def made(value: Any) -> int:
    """What making ``value`` took, not counting the values it refers to."""
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    if isinstance(value, int):
        return value.bit_length() // 8
    if isinstance(value, Mapping):
        return 2 * ITEM * len(value)
    if isinstance(value, _SEQUENCES):
        return ITEM * len(value)
    return 0


def text_size(value: Any, limit: int, *, escaped: bool = False) -> int:
    """How long ``str(value)`` would be; ``escaped``: after HTML escaping too."""
    if isinstance(value, str):
        if escaped and not hasattr(value, "__html__"):
            return escaped_size(value)
        return len(value)
    if isinstance(value, int):
        return value.bit_length() + 2
    if value is None or isinstance(value, _NUMBERS):
        return 32
    if isinstance(value, bytes | bytearray):
        return _repr_bytes(value)
    if _is_container(value):
        # str() of a container is its repr; escaping can make each character five.
        return repr_size(value, limit) * (5 if escaped else 1)
    return OTHER


def repr_size(value: Any, limit: int) -> int:
    """How long ``repr(value)`` would be."""
    return _walk(value, limit, _repr_leaf, _no_indent, 0)


def pprint_size(value: Any, limit: int) -> int:
    """How long ``pprint.pformat(value)`` would be: a repr broken into indented lines,
    long strings split into several quoted pieces."""
    return 2 * _walk(value, limit, _repr_leaf, lambda depth: depth + 2, 0)


def json_size(value: Any, limit: int, indent: int | None = None) -> int:
    """How long Jinja's ``tojson`` would make ``value`` (``<>&'`` as ``\\u003c``)."""
    step = max(indent or 0, 0)
    return _walk(value, limit, _json_leaf, lambda depth: 1 + step * (depth + 1), 0)


def escaped_size(text: str) -> int:
    """Length of ``text`` after HTML escaping (``&`` -> ``&amp;``, ``<`` -> ``&lt;``)."""
    widened = 4 * (text.count("&") + text.count('"') + text.count("'"))
    return len(text) + widened + 3 * (text.count("<") + text.count(">"))


def _is_container(value: Any) -> bool:
    return isinstance(value, (Mapping, Namespace, range, *_SEQUENCES))


def _no_indent(depth: int) -> int:
    return 0


def _walk(
    value: Any,
    limit: int,
    leaf: Callable[[Any], int],
    per_item: Callable[[int], int],
    depth: int,
) -> int:
    if isinstance(value, Namespace):
        return 13 + _walk(value._Namespace__attrs, limit, leaf, per_item, depth)
    if isinstance(value, range):
        return 24
    if isinstance(value, Mapping):
        total = 2 + len(value) * (4 + per_item(depth))
        items: Any = (part for pair in value.items() for part in pair)
    elif isinstance(value, _SEQUENCES):
        total = 2 + len(value) * (2 + per_item(depth))
        items = value
    else:
        return leaf(value)
    if total > limit:
        return total
    if depth >= DEPTH:
        return limit + 1
    for item in items:
        if _is_container(item):
            total += _walk(item, limit - total, leaf, per_item, depth + 1)
        else:
            total += leaf(item)
        if total > limit:
            return total
    return total


def _repr_leaf(value: Any) -> int:
    if isinstance(value, str):
        if value.isprintable():
            # Quotes and backslashes are escaped; Markup('...') adds its name.
            return len(value) + 10 + value.count("\\") + value.count("'")
        return (4 if value.isascii() else 10) * len(value) + 10  # '\x00', '\U000e0001'
    if isinstance(value, bytes | bytearray):
        return _repr_bytes(value)
    if isinstance(value, int):
        return value.bit_length() + 2
    if value is None or isinstance(value, _NUMBERS):
        return 32
    return OTHER


def _json_leaf(value: Any) -> int:
    if isinstance(value, str):
        if value.isascii() and value.isprintable():
            marked = sum(value.count(c) for c in "<>&'")
            return len(value) + 2 + 5 * marked + value.count('"') + value.count("\\")
        return 12 * len(value) + 2  # "\ud83d\ude00" for one character
    return _repr_leaf(value)


def _repr_bytes(value: bytes | bytearray) -> int:
    return 4 * len(value) + 14
