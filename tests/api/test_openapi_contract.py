"""The OpenAPI document as a contract: every operation has a readable, unique operation id, a
summary in English and Chinese, and declares the headers it honours; a wrong method on any
path answers 405 with `Allow` listing the path's methods."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.http.app import create_app
from domain.filings import FILING_KIND_LABELS, FilingKind
from ledger_store.eventstore.settings import Settings
from tests.api.conftest import TestClient, api_settings

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3}")
SAMPLE = {
    "card_no": "8800004601000001",
    "uscc": "91460100MA5T4KQX4C",
    "stream": "key:8800004601000001",
    "application_id": "8800004601000001-R1",
    "operator_id": "5b0f3a52-7c1e-5d59-9a0f-4a9f1c3e2b7d",
    "token_id": "tok_000000000000",
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
FILING_MODELS = {
    FilingKind.THREE_IN_ONE: "ThreeInOneFiling",
    FilingKind.CUSTOMS: "CustomsFiling",
    FilingKind.FOREX: "ForexFiling",
    FilingKind.OPERATOR_PREENTRY: "OperatorPreentryFiling",
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    where: Path = tmp_path_factory.mktemp("contract")
    settings = Settings(database_url=f"sqlite:///{where / 'l.db'}", signing_key_path=where / "k")
    with TestClient(create_app(settings, api_settings()), raise_server_exceptions=False) as found:
        yield found


@pytest.fixture(scope="module")
def paths(client: TestClient) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = client.get("/openapi.json").json()["paths"]
    return found


def _operations(paths: dict[str, dict[str, Any]]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in paths.items():
        for method, operation in operations.items():
            yield path, method, operation


def _headers(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def test_every_operation_id_is_its_endpoints_readable_name_and_unique(
    paths: dict[str, dict[str, Any]],
) -> None:
    ids = [operation["operationId"] for _, _, operation in _operations(paths)]
    assert len(ids) == len(set(ids)) > 40
    assert all(re.fullmatch(r"[a-z]+(_[a-z0-9]+)*", name) for name in ids), ids
    assert not [name for name in ids if "v1" in name or name.endswith(("_get", "_post"))]
    assert {"get_key", "record_pin_attempt", "find_keys", "list_tokens"} <= set(ids)


def test_every_summary_is_in_english_and_chinese(paths: dict[str, dict[str, Any]]) -> None:
    for path, method, operation in _operations(paths):
        summary = operation.get("summary", "")
        assert CJK.search(summary), (method, path, summary)
        assert LATIN.search(summary), (method, path, summary)


def test_every_operation_declares_the_headers_it_honours(paths: dict[str, dict[str, Any]]) -> None:
    commands = 0
    for path, method, operation in _operations(paths):
        headers = _headers(operation)
        assert "X-Request-ID" in headers, (method, path)
        if path.startswith("/v1/"):
            assert operation["security"] == [{"bearer": []}], (method, path)  # Authorization
        if method == "get" and path.startswith("/v1/"):
            assert "If-None-Match" in headers, path
            assert "304" in operation["responses"], path
            assert "ETag" in operation["responses"]["200"]["headers"], path
        if "If-Match" in headers:
            assert "Idempotency-Key" in headers, (method, path)
            commands += 1
    assert commands > 15


def test_every_list_takes_after_and_limit_and_answers_a_page(
    paths: dict[str, dict[str, Any]],
) -> None:
    lists = 0
    for path, method, operation in _operations(paths):
        answer = operation["responses"].get("200", {}).get("content", {}).get("application/json")
        reference = (answer or {}).get("schema", {}).get("$ref", "")
        if not reference.endswith(("Page", "List")):
            continue
        lists += 1
        if method == "get":
            query = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
            assert {"after", "limit"} <= query, path
    assert lists >= 7


def _concrete(template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda name: SAMPLE[name.group(1)], template)


def _allowed(paths: dict[str, dict[str, Any]], url: str) -> set[str]:
    """The methods of every documented path that the URL fits (a card number may be `search`)."""
    allowed = set()
    for template, operations in paths.items():
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, url):
            allowed |= {method.upper() for method in operations}
    return allowed


def test_a_wrong_method_on_any_path_is_405_with_the_paths_methods_in_allow(
    client: TestClient, paths: dict[str, dict[str, Any]]
) -> None:
    tried = 0
    for template in paths:
        url = _concrete(template)
        allowed = _allowed(paths, url)
        for method in sorted(set(METHODS) - allowed):
            response = client.request(method, url)
            assert response.status_code == 405, (method, url, response.text)
            assert set(response.headers["Allow"].split(", ")) == allowed, (method, url)
            assert response.json()["rule"] == "method_not_allowed"
            tried += 1
    assert tried > 100


def test_each_filing_kind_has_its_route_taking_its_own_filing_with_its_example(
    paths: dict[str, dict[str, Any]],
) -> None:
    for kind in FilingKind:
        operation = paths[f"/v1/enterprises/{{uscc}}/filings/{kind.value}"]["post"]
        assert operation["operationId"] == f"submit_{kind.value}"
        body = operation["requestBody"]["content"]["application/json"]
        (example,) = body["examples"].values()  # the document leaves out the example's nulls
        assert example["value"]["kind"] == kind.value
        assert body["schema"]["$ref"] == f"#/components/schemas/{FILING_MODELS[kind]}"
        assert operation["summary"].endswith(FILING_KIND_LABELS[kind]), operation["summary"]
