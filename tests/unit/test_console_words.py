"""The console says every refusal in Chinese and English from the API's one list of rules."""

from __future__ import annotations

import re

from api.http.console.i18n import RULES, rule_message
from api.http.refusals import REFUSALS

CJK = re.compile(r"[\u4e00-\u9fff]")
FORM_ONLY = {"invalid", "missing"}
"""Words of a form field's own error, not rules a command raises."""


def test_every_rule_the_api_can_refuse_by_has_chinese_and_english_words_on_a_page() -> None:
    for rule in REFUSALS:
        zh = rule_message(rule, "the-detail", "zh")
        en = rule_message(rule, "the-detail", "en")
        assert CJK.search(zh), (rule, zh)
        assert not CJK.search(en), (rule, en)
        assert en != "the-detail", (rule, en)


def test_the_console_words_its_own_way_only_rules_that_exist() -> None:
    assert set(RULES) - FORM_ONLY <= set(REFUSALS)


def test_a_rule_the_console_words_differently_keeps_its_own_words() -> None:
    assert rule_message("idempotency_key_reused", "", "zh") == "表单已提交过，请刷新页面。"
    assert rule_message("key_locked", "", "zh") == f"{REFUSALS['key_locked'].zh}。"
