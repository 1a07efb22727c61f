"""Where the code refuses with a rule: every call that names one, found by walking the source."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "ledger_store", "projections", "api", "replay")
RULE_ARGUMENT = {
    "DomainError": 0, "NotFoundError": 0, "ConflictError": 0, "__init__": 0,
    "ProblemError": 1, "problem": 2, "checked": 2, "require_text": 1, "_retry_later": 0,
}  # fmt: skip
"""Where a call names the rule it refuses with: its positional argument of that index."""
DYNAMIC_RULES = {"renewal_not_requested", "renewal_not_pre_approved"}
"""Rules made from a value (`renewal_not_{state}`, domain/ukey/decisions.py)."""
HTTP_RULES = {"bad_request", "method_not_allowed", "not_found"}
"""Rules named after the status of Starlette's own refusals (api/http/errors.py, http_error)."""
MIDDLEWARE_RULES = {"body_too_large", "internal_error"}
"""Rules the middleware answers with before or after the app (api/http/middleware.py)."""


@dataclass(frozen=True)
class RuleSite:
    """One call that refuses with a rule: what it calls, the status it names (if any), where."""

    rule: str
    call: str
    status: int | None
    path: str


def rule_sites() -> list[RuleSite]:
    """Every call in the packages that names a rule as a string literal."""
    sites = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                index = RULE_ARGUMENT.get(name)
                if index is None or len(node.args) <= index:
                    continue
                argument = node.args[index]
                if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
                    continue
                status = node.args[index - 1] if name in ("ProblemError", "problem") else None
                named = status.value if isinstance(status, ast.Constant) else None
                where = str(path.relative_to(ROOT))
                sites.append(RuleSite(argument.value, name, named, where))
    return sites


def rules_in_code() -> set[str]:
    """Every rule name the code can refuse with, from the calls that raise one."""
    return DYNAMIC_RULES | {site.rule for site in rule_sites()}


def rules_answered() -> set[str]:
    """Every rule a problem document can name: the code's, Starlette's and the middleware's."""
    return rules_in_code() | HTTP_RULES | MIDDLEWARE_RULES
