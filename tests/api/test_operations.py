"""Operations: health, readiness with the views' lag, metrics by route template, safe logs."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from api.cli import worker
from api.demo.scenario import Demo
from api.http.schemas import examples
from api.logging import JsonFormatter
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.settings import Settings
from projections.engine.inprocess import InProcessProjector
from tests.api.conftest import Api, opened

LEGAL_PERSON = examples.FILINGS["three_in_one"]["materials"]["ic_card_registration_form"][
    "legal_person"
]


def test_health_readiness_and_metrics_need_no_token(api: Api) -> None:
    api.enrolled()  # through this app: its metrics name the PIN attempt's route (below)
    assert api.client.get("/healthz").json() == {"status": "ok"}
    api.settle()
    ready = api.client.get("/readyz").json()
    size = api.services.ledger.position()
    assert ready["status"] == "ready"
    assert ready["ledger_size"] == size
    assert ready["views"]["key_status"] == {"position": size, "lag": 0}
    metrics = api.client.get("/metrics")
    assert metrics.status_code == 200
    text = metrics.text
    assert 'route="/v1/keys/{card_no}/pin-attempts"' in text
    assert f"eport_ledger_size {float(size)}" in text
    assert 'eport_view_lag{view="audit_trail"} 0.0' in text
    assert examples.LP_CARD not in text


def test_readiness_waits_until_the_views_reach_the_ledger_as_it_was_at_start(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process started on a ledger its views have not kept yet is `starting` (503): a load
    balancer sends it no lookups that would miss what exists. Ready once they caught up."""
    ledger = Ledger(settings)
    try:
        Demo(ledger, seed=2, enterprises=1).run()
    finally:
        ledger.close()
    held: list[InProcessProjector] = []
    start = InProcessProjector.start
    monkeypatch.setattr(InProcessProjector, "start", lambda projector: held.append(projector))
    with opened(settings) as api:
        starting = api.client.get("/readyz")
        assert starting.status_code == 503
        assert starting.json()["status"] == "starting"
        assert starting.headers["Retry-After"] == "1"
        assert starting.json()["views"]["key_status"]["lag"] > 0
        start(held[0])  # the views may run now
        api.settle()
        ready = api.client.get("/readyz")
        assert (ready.status_code, ready.json()["status"]) == (200, "ready")


def test_logs_are_json_with_request_ids_and_never_personal_data_or_tokens(
    enrolled: Api, caplog: pytest.LogCaptureFixture
) -> None:
    api = enrolled
    caplog.set_level(logging.INFO, logger="eport")
    holder = LEGAL_PERSON["name"]
    api.client.get(
        "/v1/keys",
        params={"holder": holder},
        headers={**api.as_("hotline"), "X-Request-ID": "trace-42"},
    )
    api.post("enterprise", f"/v1/enterprises/{examples.USCC}/filings/forex", {"x": holder})
    api.client.get("/v1/keys", headers={"Authorization": "Bearer epl_stolen_stolen_stolen_x"})
    lines = [JsonFormatter().format(record) for record in caplog.records]
    text = "\n".join(lines)
    assert '"request_id":"trace-42"' in text
    assert '"route":"/v1/keys"' in text
    assert '"status":422' in text
    for secret in (holder, LEGAL_PERSON["id_number"], "epl_", examples.USCC, examples.LP_CARD):
        assert secret not in text
    for token in api.headers.values():
        assert token["Authorization"].removeprefix("Bearer ") not in text


def test_with_views_kept_by_a_worker_reads_wait_for_the_worker(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EPORT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("EPORT_SIGNING_KEY_PATH", str(settings.key_path()))
    with opened(settings, views="worker", query_wait_seconds=0.3) as api:
        api.register()
        position = api.services.ledger.position()
        behind = api.get("window", f"/v1/enterprises/{examples.USCC}", min_position=position)
        assert (behind.status_code, behind.json()["rule"]) == (503, "views_behind")
        assert behind.headers["Retry-After"] == "1"
        stop = threading.Event()
        thread = threading.Thread(target=worker.work, args=(settings, stop), daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                found = api.get("window", f"/v1/enterprises/{examples.USCC}", min_position=position)
                if found.status_code == 200:
                    break
            assert found.status_code == 200, found.text
            assert api.client.get("/readyz").json()["views_kept_by"] == "worker"
        finally:
            stop.set()
            thread.join(10)
        assert not thread.is_alive()
