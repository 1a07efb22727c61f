"""Pages of a list: the items, the cursor of the next page and whether the list goes on.

Every list answers `{items, next_cursor, truncated}` (api/http/schemas/queries.py, `Page`); the
next page is asked with `after=<next_cursor>` and the same `limit`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query

Item = TypeVar("Item")


def cursor(what: str, *, ge: int | None = None, le: int | None = None) -> Any:
    """The `after` query parameter: the previous page's `next_cursor`, which is `what`."""
    return Query(ge=ge, le=le, description=f"the previous page's next_cursor ({what})")


Limit = Annotated[int, Query(ge=1, le=500, description="items per page at most")]
Offset = Annotated[int, cursor("0: the first page", ge=0, le=1_000_000)]
"""The cursor of lists kept in an order with no key to resume after (the window's work lists)."""


def page(items: Sequence[Item], truncated: bool, next_cursor: object) -> dict[str, Any]:
    """A page: `next_cursor` is kept only when the list goes on."""
    return {
        "items": list(items),
        "next_cursor": str(next_cursor) if truncated else None,
        "truncated": truncated,
    }


def first(found: Sequence[Item], limit: int, key: Callable[[Item], object]) -> dict[str, Any]:
    """The first `limit` of `found` as a page resumed after the key of its last item: the query
    asked for `limit + 1`, so one more than a page means the list goes on."""
    items = found[:limit]
    truncated = len(found) > limit
    return page(items, truncated, key(items[-1]) if truncated else None)


def from_offset(found: Sequence[Item], offset: int, limit: int) -> dict[str, Any]:
    """`limit` items of `found` from `offset` (the query asked for `offset + limit + 1`)."""
    return page(found[offset : offset + limit], len(found) > offset + limit, offset + limit)
