"""Every stored event type's JSON schema is pinned: a changed shape is a deliberate decision.

The ledger keeps events for ever, covered by their hashes; an event class whose fields change
silently makes old bytes unreadable or reads them wrongly. Each class registered in
`domain.base.EVENT_TYPES` has its pydantic `model_json_schema()` in
`tests/golden/events/<type_name>.schema.json`; these tests fail when one differs, when a type has
no golden file, or when a golden file has no type.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import domain.catalog  # noqa: F401  (fills EVENT_TYPES with every aggregate's events)
from domain.base import EVENT_TYPES, DomainEvent

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "events"
SUFFIX = ".schema.json"
UPDATE = os.environ.get("EPORT_UPDATE_GOLDEN") == "1"

REGENERATE = (
    "If the change is deliberate, regenerate the golden files and commit them:\n"
    "    EPORT_UPDATE_GOLDEN=1 pytest tests/unit/test_event_schemas.py\n"
    "A changed description or example only needs that. A changed STORED shape (a field added, "
    "removed, renamed or retyped, a new constraint) also needs a new `class_version` on the "
    "event class and an upcaster `upcast_vN_vN+1` from the old shape (applied by "
    "`ledger_store/eventstore/mapping.py`), with a test that reads bytes of the old shape: "
    "ledgers already hold them, covered by their hashes."
)


def stored_event_types() -> dict[str, type[DomainEvent]]:
    """The event classes the ledger stores, by stored type name.

    Tests register toy events in the same registry (`tests/toy_model.py`,
    `tests/unit/test_mapping.py`); only the domain's own events are the ledger's contract.
    """
    return {
        name: cls
        for name, cls in sorted(EVENT_TYPES.items())
        if cls.__module__.split(".")[0] == "domain"
    }


def golden_path(type_name: str) -> Path:
    """Where the golden schema of a stored event type lives."""
    return GOLDEN / f"{type_name}{SUFFIX}"


def rendered_schema(cls: type[DomainEvent]) -> str:
    """The class's JSON schema as the golden file holds it: pretty, sorted keys, final newline."""
    return json.dumps(cls.model_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def golden_type_names() -> set[str]:
    """The type names that have a golden file."""
    return {path.name.removesuffix(SUFFIX) for path in GOLDEN.glob(f"*{SUFFIX}")}


@pytest.mark.parametrize("type_name", sorted(stored_event_types()))
def test_the_schema_of_each_stored_event_type_matches_its_golden_file(type_name: str) -> None:
    cls = stored_event_types()[type_name]
    path = golden_path(type_name)
    schema = rendered_schema(cls)
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(schema, encoding="utf-8")
    assert path.exists(), (
        f"{cls.__module__}.{cls.__qualname__} is stored as {type_name!r} but has no golden "
        f"schema {path.relative_to(GOLDEN.parents[2])}.\n{REGENERATE}"
    )
    assert path.read_text(encoding="utf-8") == schema, (
        f"The JSON schema of {type_name} ({cls.__module__}.{cls.__qualname__}, class_version "
        f"{cls.class_version}) differs from {path.relative_to(GOLDEN.parents[2])}.\n{REGENERATE}"
    )


def test_every_stored_event_type_has_a_golden_file_and_every_golden_file_a_type() -> None:
    types = set(stored_event_types())
    if UPDATE:
        for orphan in golden_type_names() - types:
            golden_path(orphan).unlink()
    without_golden = sorted(types - golden_type_names())
    without_type = sorted(golden_type_names() - types)
    problems = []
    if without_golden:
        problems.append(f"stored event types without a golden schema: {without_golden}")
    if without_type:
        problems.append(
            f"golden schemas of no registered event type: {without_type}. A stored type name "
            "is never retired while ledgers hold events of it: register the class again (or "
            "alias the name in `ledger_store/eventstore/mapping.py`); delete the file only if "
            "the type was never released"
        )
    assert not problems, "\n".join([*problems, REGENERATE])
