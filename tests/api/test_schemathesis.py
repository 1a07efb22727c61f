"""schemathesis against /openapi.json: no 5xx, and every answer fits the schema it documents.

Driven through schemathesis's Python API (its pytest plugin does not load under pytest 9): each
operation's strategy, positive and negative, a bounded number of examples, on SQLite.
"""

from __future__ import annotations

import time
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from pydantic import TypeAdapter
from schemathesis import GenerationMode, checks
from schemathesis.python import asgi

from api.http.app import create_app
from api.http.schemas import examples
from domain.base import Actor, CommandContext, Role, utcnow
from domain.filings import Filing
from domain.ukey.events import DeliveryChannel
from ledger_store.application import deciders
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.settings import Settings
from tests.api.conftest import api_settings

CHECKS = [
    checks.not_a_server_error,
    checks.response_schema_conformance,
    checks.content_type_conformance,
]
EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 2}


def _enroll(ledger: Ledger) -> None:
    """The example enterprise registered, filed, approved, with its free pair."""
    me = CommandContext(
        actor=Actor(principal_id=f"enterprise:{examples.USCC}", role=Role.ENTERPRISE), at=utcnow()
    )
    clerk = CommandContext(actor=Actor(principal_id="clerk", role=Role.WINDOW), at=utcnow())
    ledger.run(
        deciders.register_enterprise,
        me,
        uscc=examples.USCC,
        name=examples.COMPANY,
        customs_code=examples.CUSTOMS_CODE,
        receipt_number=examples.RECEIPT_NUMBER,
    )
    for body in examples.FILINGS.values():
        ledger.run(
            deciders.submit_filing, me, examples.USCC, TypeAdapter(Filing).validate_python(body)
        )
    ledger.run(deciders.review, clerk, examples.USCC, approve=True, window="window")
    ledger.run(
        deciders.issue_free_pair,
        clerk,
        examples.USCC,
        legal_person_card_no=examples.LP_CARD,
        operator_card_no=examples.OP_CARD,
    )
    for card in (examples.LP_CARD, examples.OP_CARD):  # handed over: the keys are in use
        ledger.run(deciders.deliver_key, clerk, card, DeliveryChannel.WINDOW)


def _fuzz(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    count: int,
    headers: dict[str, str],
) -> None:
    """Up to `count` generated requests of the operation, each checked."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def _role_for(path: str) -> str:
    if path.startswith("/v1/tokens"):
        return "admin"
    if path.startswith("/v1/audit"):
        return "auditor"
    return "window"


def test_no_answer_is_a_server_error_or_breaks_its_schema(tmp_path: Path) -> None:
    app = create_app(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'ledger.db'}", signing_key_path=tmp_path / "k"
        ),
        api_settings(query_wait_seconds=0.2),
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # starts the app's lifespan
    try:
        services = app.state.services
        _enroll(services.ledger)
        tokens = {
            role: services.tokens.issue(role).token for role in ("window", "auditor", "admin")
        }
        started = time.monotonic()
        failures: list[str] = []
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 30
        for operation in operations:
            headers = {"Authorization": f"Bearer {tokens[_role_for(operation.path)]}"}
            for mode, count in EXAMPLES.items():
                try:
                    _fuzz(operation, mode, count, headers)
                except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                    assert mode is GenerationMode.NEGATIVE, operation.label
                except Exception as error:  # collect every operation's failure, then report
                    failures.append(f"{operation.label} ({mode.value}): {error}")
        assert not failures, "\n\n".join(failures)
        assert time.monotonic() - started < 60
    finally:
        asgi.shutdown_lifespans()


def test_the_openapi_document_has_examples_and_problem_answers(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'l.db'}"), api_settings())
    document = app.openapi()
    schemas = document["components"]["schemas"]
    for name in (
        "RegisterEnterprise",
        "PinAttempt",
        "MailKey",
        "Renew",
        "CommandAnswer",
        "Problem",
    ):
        assert schemas[name].get("examples"), name
    answers = document["paths"]["/v1/keys/{card_no}/pin-attempts"]["post"]["responses"]
    assert set(answers["422"]["content"]) == {"application/problem+json"}
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
