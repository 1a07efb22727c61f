"""Metrics: the process, the database (up, pools), commands by outcome, refusals by rule,
idempotent replays, the last checkpoint's age."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from api.http.metrics import LedgerCollector
from api.http.schemas import examples
from ledger_store.eventstore.probe import ProbeResult
from tests.api.conftest import Api

OP = examples.OP_CARD


def scrape(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of `/metrics` by name and labels."""
    response = api.client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_commands_refusals_and_replays_are_counted(api: Api) -> None:
    api.enrolled()  # through this app: its metrics count the registration (asserted below)
    before = scrape(api)
    attempt = {"ok": False}
    path = f"/v1/keys/{OP}/pin-attempts"
    first = api.post("enterprise", path, attempt, Idempotency_Key="m1")
    again = api.post("enterprise", path, attempt, Idempotency_Key="m1")
    assert (first.status_code, again.headers.get("Idempotent-Replayed")) == (200, "true")
    refused = api.post("window", f"/v1/enterprises/{examples.USCC}/review", {"decision": "approve"})
    assert refused.status_code in (409, 422)
    rule = refused.json()["rule"]
    after = scrape(api)

    def grew(name: str, **labels: str) -> float:
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    assert grew("eport_commands_total", command="record_pin_attempt", outcome="recorded") == 1
    assert grew("eport_commands_total", command="record_pin_attempt", outcome="replayed") == 1
    assert grew("eport_idempotent_replays_total", command="record_pin_attempt") == 1
    outcome = "conflict" if refused.status_code == 409 else "refused"
    assert grew("eport_commands_total", command="review", outcome=outcome) == 1
    assert grew("eport_refusals_total", rule=rule) == 1
    assert (
        value(after, "eport_commands_total", command="register_enterprise", outcome="recorded") == 1
    )


def test_process_database_pools_and_checkpoint_age(api: Api) -> None:
    samples = scrape(api)
    assert value(samples, "eport_database_up") == 1
    assert value(samples, "process_cpu_seconds_total") is not None
    assert any(name == "python_info" for name, _ in samples)
    assert not any(name == "eport_checkpoint_age_seconds" for name, _ in samples)
    pools = {labels for name, labels in samples if name == "eport_db_pool_size"}
    if api.services.settings.is_postgres:
        assert pools == {(("pool", "async"),), (("pool", "sync"),)}
        assert value(samples, "eport_db_pool_waiting", pool="sync") == 0
    else:
        assert pools == set()  # SQLite has no connection pool

    api.ok(api.post("auditor", "/v1/audit/checkpoints"), 201)
    age = value(scrape(api), "eport_checkpoint_age_seconds")
    assert age is not None
    assert age >= 0


def test_database_up_stays_as_zero_while_the_database_does_not_answer() -> None:
    down = LedgerCollector(lambda: ProbeResult(False, error="no answer within 1.5 s"))
    families = {family.name: family for family in down.collect()}
    assert set(families) == {"eport_database_up"}
    assert families["eport_database_up"].samples[0].value == 0
    up = LedgerCollector(lambda: ProbeResult(True, 7, {"key_status": 5}))
    families = {family.name: family for family in up.collect()}
    assert families["eport_database_up"].samples[0].value == 1
    assert families["eport_view_lag"].samples[0].value == 2
