"""The console says every refusal in Chinese and English from the API's one list of rules, and
has every page text its templates and code ask for in both languages."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

from api.http.console import i18n
from api.http.console.i18n import RULES, TEXT, rule_message
from api.http.console.routes.enterprise import ACTIONS
from api.http.console.routes.hotline import KINDS
from api.http.console.routes.window import KEY_ACTIONS, QUEUE_TABS
from api.http.console.web import HOME
from api.http.refusals import REFUSALS
from domain.enterprise.state import ReviewState

CJK = re.compile(r"[\u4e00-\u9fff]")
FORM_ONLY = {"invalid", "missing"}
"""Words of a form field's own error, not rules a command raises."""

CONSOLE = Path(i18n.__file__).parent
IN_TEMPLATES = re.compile(r"\bt\('([a-z0-9_]+)'\s*[,)]")
IN_CODE = re.compile(
    r"""(?:\btext|ForbiddenError)\("([a-z0-9_]+)"|"(?:notice|kind_key)": "(\w+)\""""
)
NOTICES = ("signed_out", "expired")
"""The sign-in page's notices (routes/signin.py)."""


def test_every_rule_the_api_can_refuse_by_has_chinese_and_english_words_on_a_page() -> None:
    for rule in REFUSALS:
        zh = rule_message(rule, "the-detail", "zh")
        en = rule_message(rule, "the-detail", "en")
        assert CJK.search(zh), (rule, zh)
        assert not CJK.search(en), (rule, en)
        assert en != "the-detail", rule


def test_the_console_words_its_own_way_only_rules_that_exist() -> None:
    assert set(RULES) - FORM_ONLY <= set(REFUSALS)


def test_a_rule_the_console_words_differently_keeps_its_own_words() -> None:
    assert rule_message("idempotency_key_reused", "", "zh") == "表单已提交过，请刷新页面。"
    assert rule_message("key_locked", "", "zh") == f"{REFUSALS['key_locked'].zh}。"


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    return dict(pairs)


def test_the_page_text_file_gives_each_key_once_in_chinese_and_english() -> None:
    document = files("api.http.console").joinpath("page_text.json").read_text(encoding="utf-8")
    text = json.loads(document, object_pairs_hook=_unique)
    assert len(text) > 200
    for key, words in text.items():
        assert set(words) == {"zh", "en"}, key
        assert all(isinstance(said, str) and said.strip() for said in words.values()), key
        assert TEXT[key] == (words["zh"], words["en"])
    assert set(TEXT) == set(text)


def _used_keys() -> set[str]:
    used = {
        key
        for page in (CONSOLE / "templates").glob("*.html")
        for key in IN_TEMPLATES.findall(page.read_text(encoding="utf-8"))
    }
    for module in CONSOLE.rglob("*.py"):
        for found in IN_CODE.findall(module.read_text(encoding="utf-8")):
            used.update(key for key in found if key)
    return used


def test_every_page_text_the_templates_and_code_name_is_there_in_both_languages() -> None:
    used = _used_keys()
    assert {"app", "sign_in", "errors_above", "csrf", "by_card"} <= used  # the scan finds them
    used |= {f"role_{role.value}" for role in HOME}
    used |= {f"state_{state.value}" for state in ReviewState}
    used |= {f"filing_{state}" for state in ("missing", "submitted", "approved", "rejected")}
    used |= {f"stage_{tab}" for tab in QUEUE_TABS}
    used |= {f"view_{view}" for view in ("key", "enterprise", "queue")}
    used |= {f"done_{action}" for action in (*KEY_ACTIONS, *ACTIONS)}
    used |= {*KINDS.values(), *NOTICES, "forbidden"}
    assert not sorted(used - set(TEXT))  # and each of TEXT has both languages (test above)
