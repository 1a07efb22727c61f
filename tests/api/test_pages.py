"""Every list answers one page shape, `{items, next_cursor, truncated}`: read a page at a time
(`limit`, then `after=next_cursor`) it gives exactly the whole list, and says when it ends."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from api.http.schemas import examples
from domain.identifier_generators import make_uscc
from tests.api.conftest import Api

LISTS = [
    ("window", "/v1/keys", {}),
    ("window", "/v1/enterprises", {}),
    ("window", "/v1/window/queue", {}),
    ("window", "/v1/window/expiring", {"within_days": 3700}),
    ("auditor", "/v1/audit/events", {}),
    ("admin", "/v1/tokens", {}),
]


def _walk(read: Any, limit: int, items: str = "items") -> list[dict[str, Any]]:
    """Every page of a list, `limit` at a time, following next_cursor to the end."""
    pages, after = [], None
    while True:
        response: httpx.Response = read(limit, after)
        assert response.status_code == 200, response.text
        page = response.json()
        assert {items, "next_cursor", "truncated"} <= set(page)
        pages.append(page)
        if not page["truncated"]:
            assert page["next_cursor"] is None
            return pages
        assert len(page[items]) == limit
        after = page["next_cursor"]
        assert isinstance(after, str)
        assert len(pages) < 100


def _items(pages: list[dict[str, Any]], items: str = "items") -> list[Any]:
    return [item for page in pages for item in page[items]]


@pytest.mark.parametrize(("role", "path", "params"), LISTS)
def test_a_list_read_a_page_at_a_time_is_the_whole_list(
    enrolled: Api, role: str, path: str, params: dict[str, Any]
) -> None:
    api = enrolled
    for seed in (1, 2):  # two more enterprises, waiting for review at the window
        uscc = make_uscc(random.Random(seed), region_prefix="4601")
        body = {"uscc": uscc, "name": f"海南{seed}号贸易有限公司",
                "customs_code": examples.CUSTOMS_CODE, "receipt_number": f"HZ{seed}"}  # fmt: skip
        api.ok(api.post("window", "/v1/enterprises", body), 201)
        for kind, filing in examples.FILINGS.items():
            api.ok(api.post("window", f"/v1/enterprises/{uscc}/filings/{kind}", filing))
    api.settle()

    def read(limit: int, after: str | None) -> httpx.Response:
        extra = {} if after is None else {"after": after}
        return api.get(role, path, **params, limit=limit, **extra)

    whole = _walk(read, 500)
    assert len(whole) == 1
    assert len(whole[0]["items"]) >= 2, whole
    paged = _walk(read, 1)
    assert _items(paged) == whole[0]["items"]
    assert len(paged) == len(whole[0]["items"])  # the last full page already says it ends


def test_the_key_search_pages_like_the_other_lists(enrolled: Api) -> None:
    api = enrolled
    api.settle()

    def read(limit: int, after: str | None) -> httpx.Response:
        body = {"uscc": examples.USCC, "limit": limit, "after": after}
        return api.post("window", "/v1/keys/search", body)

    whole = _items(_walk(read, 500))
    assert [key["card_no"] for key in whole] == [examples.LP_CARD, examples.OP_CARD]
    assert _items(_walk(read, 1)) == whole


def test_an_unknown_token_cursor_is_refused_not_read_from_the_start(api: Api) -> None:
    refused = api.get("admin", "/v1/tokens", after="tok_000000000000")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "query.after"


def test_a_streams_history_pages_its_events(enrolled: Api) -> None:
    api = enrolled
    path = f"/v1/audit/history/enterprise:{examples.USCC}"

    def read(limit: int, after: str | None) -> httpx.Response:
        extra = {} if after is None else {"after": after}
        return api.get("auditor", path, limit=limit, **extra)

    whole = _walk(read, 500, "events")
    assert len(whole) == 1
    assert len(whole[0]["events"]) > 3
    assert _items(_walk(read, 2, "events"), "events") == whole[0]["events"]
