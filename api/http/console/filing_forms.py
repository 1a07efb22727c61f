"""The four filings as HTML forms: a field's name is its path in the filing (`company_name`,
`materials.ic_card_registration_form.operator.phone`, `operators.1.id_number`), so the domain's
own models (the ones the API takes) validate what was typed and their errors name the field
the page shows them next to."""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from pydantic import BaseModel
from starlette.datastructures import FormData

from domain.filings import (
    CustomsFiling,
    FilingKind,
    ForexFiling,
    OperatorPreentryFiling,
    ThreeInOneFiling,
)
from domain.region import RegionConfig

FILING_MODELS: Final[dict[FilingKind, type[BaseModel]]] = {
    FilingKind.THREE_IN_ONE: ThreeInOneFiling,
    FilingKind.CUSTOMS: CustomsFiling,
    FilingKind.FOREX: ForexFiling,
    FilingKind.OPERATOR_PREENTRY: OperatorPreentryFiling,
}
FORM = "materials.ic_card_registration_form"
"""Where the IC-card registration form (附件2) sits in the three-in-one filing."""
OPTIONAL_PARTS: Final = (f"{FORM}.customs_declarer", f"{FORM}.verification_officer")
"""Parts of 附件2 left out when none of their fields is filled in."""
LISTS: Final = (f"{FORM}.customs_permissions", f"{FORM}.forex_permissions")
"""Check boxes: every ticked value, as a list."""
CHOSEN_BY_DEFAULT: Final = ("media", "id_type")
"""Fields a blank operator block has chosen already (not typed: they do not make it filled)."""
CONTROLS: Final = ("csrf", "idempotency_key", "operator_count", "add")
MAX_OPERATORS: Final = 20

Values = dict[str, Any]
"""A form's values by field name: text, or a list of ticked values for check boxes."""


def typed(form: FormData) -> Values:
    """What was typed in a filing form, stripped (the page shows it again if refused)."""
    values: Values = {}
    for name in form:
        if name in CONTROLS:
            continue
        if name in LISTS:
            values[name] = [v for v in form.getlist(name) if isinstance(v, str)]
            continue
        value = form.get(name)
        values[name] = value.strip() if isinstance(value, str) else ""
    return values


def operator_count(form: FormData | None, values: Values) -> int:
    """How many operator blocks the pre-entry form shows (one more after “add an operator”)."""
    shown = [int(n.split(".")[1]) + 1 for n in values if n.startswith("operators.")]
    count = max([1, *shown])
    if form is not None:
        asked = form.get("operator_count")
        if isinstance(asked, str) and asked.isdigit():
            count = max(count, int(asked))
        if form.get("add") == "operator":
            count += 1
    return min(count, MAX_OPERATORS)


def nested(values: Values) -> dict[str, Any]:
    """The dotted field names as the filing's nested data: blank fields left out, numbered
    parts as lists in order, optional parts and blank operator blocks dropped."""
    tree: dict[str, Any] = {}
    for name, value in values.items():
        if value in ("", None) and name not in LISTS:
            continue
        *parents, leaf = name.split(".")
        place = tree
        for part in parents:
            place = place.setdefault(part, {})
        place[leaf] = value
    for part in OPTIONAL_PARTS:
        *parents, leaf = part.split(".")
        holder = _at(tree, parents)
        if holder is not None and not holder.get(leaf):
            holder.pop(leaf, None)
    if isinstance(tree.get("operators"), dict):
        tree["operators"] = [
            block
            for _, block in sorted(tree["operators"].items(), key=lambda item: int(item[0]))
            if set(block) - set(CHOSEN_BY_DEFAULT)
        ]
    return tree


def _at(tree: dict[str, Any], path: list[str]) -> dict[str, Any] | None:
    place: Any = tree
    for part in path:
        place = place.get(part) if isinstance(place, dict) else None
    return place if isinstance(place, dict) else None


def filing_from(kind: FilingKind, values: Values) -> Any:
    """The filing the form describes, validated by the domain's model (or ValidationError)."""
    return FILING_MODELS[kind].model_validate({**nested(values), "kind": kind.value})


def flat(data: Any, prefix: str = "") -> Values:
    """A filing's data (`model_dump(mode="json")`) as form values, to fill the form again."""
    values: Values = {}
    if isinstance(data, dict):
        for name, value in data.items():
            values.update(flat(value, f"{prefix}{name}."))
    elif isinstance(data, list) and prefix.rstrip(".") in LISTS:
        values[prefix.rstrip(".")] = list(data)
    elif isinstance(data, list):
        for number, value in enumerate(data):
            values.update(flat(value, f"{prefix}{number}."))
    elif data is not None:
        values[prefix.rstrip(".")] = str(data)
    return values


def starting_values(
    kind: FilingKind,
    name: str,
    customs_code: str,
    receipt_number: str,
    region: RegionConfig,
    today: date,
) -> Values:
    """A new form filled in with what the ledger knows already: the registered name and
    customs receipt, the region's department codes (from the guide), today as the seal date."""
    if kind is FilingKind.THREE_IN_ONE:
        return {
            "company_name": name,
            "business_registration_dept_code": region.business_registration_dept_code,
            "commerce_authority_code": region.commerce_authority_code,
            f"{FORM}.seal_date": today.isoformat(),
            "materials.express_handover_form.company_name": name,
        }
    if kind is FilingKind.CUSTOMS:
        return {
            "company_name": name,
            "customs_code": customs_code,
            "receipt_number": receipt_number,
        }
    if kind is FilingKind.FOREX:
        return {"company_name": name, "forex_bureau_code": region.forex_bureau_code}
    return {}
