"""Every read of the API carries an ETag; `If-None-Match` naming it answers 304 with no body."""

from __future__ import annotations

from typing import Any

import httpx

from api.http.conditional import none_match
from api.http.schemas import examples
from tests.api.conftest import Api

PATH_VALUES = {
    "{card_no}": examples.LP_CARD,
    "{uscc}": examples.USCC,
    "{stream}": f"enterprise:{examples.USCC}",
}
QUERIES = {"/v1/audit/proofs/inclusion": {"index": 1}, "/v1/audit/proofs/consistency": {"from": 1}}


def _role(path: str) -> str:
    if path.startswith("/v1/audit"):
        return "auditor"
    return "admin" if path.startswith("/v1/tokens") else "window"


def _reads(api: Api) -> list[str]:
    """Every GET path of the API (its OpenAPI document), with its path parameters filled."""
    paths = api.client.get("/openapi.json").json()["paths"]
    reads = []
    for template, operations in paths.items():
        if "get" in operations and template.startswith("/v1/"):
            for name, value in PATH_VALUES.items():
                template = template.replace(name, value)
            assert "{" not in template, template
            reads.append(template)
    return reads


def _get(api: Api, path: str, **headers: str) -> httpx.Response:
    params: dict[str, Any] = QUERIES.get(path, {})
    return api.client.get(path, params=params, headers={**api.as_(_role(path)), **headers})


def test_every_read_is_tagged_and_answers_304_when_the_client_has_it(enrolled: Api) -> None:
    api = enrolled
    api.ok(api.post("auditor", "/v1/audit/checkpoints"), 201)
    api.settle()
    reads = _reads(api)
    assert len(reads) >= 12
    for path in reads:
        first = _get(api, path)
        assert first.status_code == 200, (path, first.text)
        etag = first.headers["ETag"]
        again = _get(api, path, **{"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.content == b""
        assert again.headers["ETag"] == etag
        assert "X-Request-ID" in again.headers
        listed = _get(api, path, **{"If-None-Match": f'"other", W/{etag}'})
        assert listed.status_code == 304, path
        stale = _get(api, path, **{"If-None-Match": '"not-this-one"'})
        assert stale.status_code == 200, path
        assert stale.content == first.content


def test_a_changed_record_gets_a_new_tag_and_the_old_one_a_full_answer(enrolled: Api) -> None:
    api = enrolled
    api.settle()
    path = f"/v1/keys/{examples.OP_CARD}"
    before = api.get("window", path)
    position = api.ok(api.post("window", f"{path}/freeze", {"reason": "冒用嫌疑"}))["position"]
    after = api.client.get(
        path,
        params={"min_position": position},
        headers={**api.as_("window"), "If-None-Match": before.headers["ETag"]},
    )
    assert after.status_code == 200
    assert after.json()["status"] == "frozen"
    assert after.headers["ETag"] != before.headers["ETag"]


def test_refusals_and_commands_are_not_answered_304(enrolled: Api) -> None:
    api = enrolled
    missing = api.client.get(
        "/v1/keys/8800009999999999", headers={**api.as_("window"), "If-None-Match": "*"}
    )
    assert missing.status_code == 404
    command = api.post("window", f"/v1/keys/{examples.OP_CARD}/unlock", If_None_Match="*")
    assert command.status_code != 304


def test_if_none_match_compares_weakly_and_star_matches_any() -> None:
    assert none_match('W/"a"', '"a"')
    assert none_match('"b", "a"', '"a"')
    assert none_match("*", '"a"')
    assert not none_match('"b"', '"a"')
    assert not none_match(None, '"a"')
