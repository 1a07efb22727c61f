"""One list of refusals (api/http/refusals.py): every rule the code raises is in it, with the
status the code answers; docs/api.md prints exactly it; problem documents take their titles
from it, in English and Chinese."""

from __future__ import annotations

import re

from api.http.refusals import REFUSALS, markdown_table
from api.http.schemas import examples
from tests.api.conftest import Api
from tests.api.rule_sites import ROOT, rule_sites, rules_answered, rules_in_code
from tests.api.test_docs_walkthrough import rules_in_docs

KIND_STATUS = {"NotFoundError": 404, "ConflictError": 409, "_retry_later": 429}
_TABLE = re.compile(r"^## Refusals\n.*?\n(\| rule \|.*?)\n\n", re.S | re.M)


def test_every_rule_the_code_raises_is_listed_and_every_listed_rule_is_raised() -> None:
    raised = rules_in_code()
    assert {"key_locked", "nothing_to_erase", "subject_required", "unknown_finder"} <= raised
    assert sorted(raised - REFUSALS.keys()) == []
    assert sorted(REFUSALS.keys() - rules_answered()) == []


def test_each_rule_is_listed_with_the_status_the_code_answers_it_with() -> None:
    wrong = []
    for site in rule_sites():
        status = site.status or KIND_STATUS.get(site.call)
        if status is not None and REFUSALS[site.rule].status != status:
            wrong.append((site.rule, site.path, status, REFUSALS[site.rule].status))
    assert wrong == []


def test_every_title_is_given_in_english_and_chinese() -> None:
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for rule, found in REFUSALS.items():
        assert found.en, rule
        assert not cjk.search(found.en), rule
        assert cjk.search(found.zh), rule


def test_the_docs_print_exactly_the_list_and_name_no_other_rule() -> None:
    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    table = _TABLE.search(page)
    assert table is not None, "docs/api.md has no table under ## Refusals"
    assert table.group(1) + "\n" == markdown_table(), "run: python -m api.http.refusals"
    for doc, named in rules_in_docs().items():
        assert sorted(named - REFUSALS.keys()) == [], doc


def test_a_problem_document_is_titled_by_its_rule_in_both_languages(api: Api) -> None:
    body = {"uscc": examples.USCC, "name": examples.COMPANY, "customs_code": "4601230917"}
    refused = api.post("window", "/v1/enterprises", body)
    assert refused.status_code == 422
    problem = refused.json()
    listed = REFUSALS["customs_receipt_required"]
    assert (problem["title"], problem["title_zh"]) == (listed.en, listed.zh)
    unknown = api.get("window", "/v1/keys/8800009999999999").json()
    assert (unknown["title"], unknown["title_zh"]) == (REFUSALS["not_found"].en, "未找到")
    wrong_method = api.client.put("/v1/tokens")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["title_zh"] == REFUSALS["method_not_allowed"].zh
