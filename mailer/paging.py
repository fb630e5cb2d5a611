"""Page arithmetic shared by every paged list (services and views alike)."""

from __future__ import annotations


def pages(total: int, per_page: int) -> int:
    """How many pages ``total`` items fill (at least one, for the empty list)."""
    return max(1, -(-total // per_page))


def within(page: int, total: int, per_page: int) -> int:
    """``page`` kept between the first and the last page, so an offset stays small."""
    return min(max(1, page), pages(total, per_page))
