"""The command path on both backends: demo, idempotency, If-Match, races, atomic multi-aggregate."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from api.demo import samples
from api.demo.scenario import Demo
from domain.base import Actor, CommandContext, ConflictError, DomainError, Role
from domain.filings import FilingKind
from domain.forms import SIGNATORIES, Signature, Supplier, SupplierProduct
from domain.identifier_generators import make_card_number, make_customs_code, make_uscc
from domain.personal import person_key
from domain.ukey.events import DeliveryChannel
from domain.ukey.status import KeyStatus
from ledger_store.application import deciders
from ledger_store.application.idempotency import IdempotencyClaim, IdempotencyMismatchError
from ledger_store.application.ledger import Ledger
from ledger_store.application.results import VersionMismatchError
from ledger_store.eventstore.settings import Settings
from ledger_store.proofs.chain import verify_chain
from projections.engine.query import ViewSource
from projections.engine.runner import Runner
from projections.enterprise_overview.queries import get_enterprise
from projections.key_status.queries import find_keys
from tests.factories import execute, mailing_details

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
WINDOW = Actor(principal_id="window-clerk-01", role=Role.WINDOW)


@pytest.fixture
def ledger(settings: Settings) -> Iterator[Ledger]:
    app = Ledger(settings)
    yield app
    app.close()


def ctx(actor: Actor, minutes: int = 0) -> CommandContext:
    return CommandContext(actor=actor, at=T0 + timedelta(minutes=minutes))


def owner(uscc: str) -> Actor:
    """The enterprise itself, as its token's principal."""
    return Actor(principal_id=f"enterprise:{uscc}", role=Role.ENTERPRISE)


def enrolled(ledger: Ledger, seed: int = 1) -> tuple[str, str, str]:
    """An approved enterprise with its free pair issued and delivered: (uscc, lp card, op card)."""
    uscc, lp, op = issued(ledger, seed)
    for card in (lp, op):  # handed over at the window
        ledger.run(deciders.deliver_key, ctx(WINDOW, 4), card, DeliveryChannel.WINDOW)
    return uscc, lp, op


def issued(ledger: Ledger, seed: int = 1) -> tuple[str, str, str]:
    """An approved enterprise with its free pair issued, not handed over yet."""
    rng = random.Random(seed)
    region = ledger.region
    uscc = make_uscc(rng, region_prefix="4601")
    code = make_customs_code(rng)
    me = Actor(principal_id=f"enterprise:{uscc}", role=Role.ENTERPRISE)
    ledger.run(
        deciders.register_enterprise,
        ctx(me),
        uscc=uscc,
        name="海南测试贸易有限公司",
        customs_code=code,
        receipt_number="HZ1",
    )
    for filing in samples.filings(
        rng, region, "海南测试贸易有限公司", code, "HZ1", T0.date()
    ).values():
        ledger.run(deciders.submit_filing, ctx(me, 1), uscc, filing)
    ledger.run(deciders.review, ctx(WINDOW, 2), uscc, approve=True, window=region.window_name)
    lp, op = make_card_number(rng), make_card_number(rng)
    ledger.run(
        deciders.issue_free_pair, ctx(WINDOW, 3), uscc, legal_person_card_no=lp, operator_card_no=op
    )
    return uscc, lp, op


def revealed(ledger: Ledger) -> tuple[list[Any], list[Any], list[tuple[int, str, int]]]:
    """What a ledger says, decrypted: every key and enterprise as the window reads them, and
    each entry's place, type and version (its sealed bytes differ run to run: random keys)."""
    runner = Runner(ledger.database)
    runner.setup()
    runner.catch_up()
    keys = find_keys(ViewSource(ledger.database, ledger.vault, mask=False), limit=500, now=T0)
    enterprises = [
        get_enterprise(ViewSource(ledger.database, ledger.vault, mask=False), uscc, now=T0)
        for uscc in sorted({key.uscc for key in keys})
    ]
    entries = [
        (e.ledger_index, e.topic, e.originator_version) for e in ledger.database.iter_entries()
    ]
    return keys, enterprises, entries


def test_demo_gives_the_same_ledger_for_the_same_seed_on_either_backend(
    ledger: Ledger, tmp_path: Path
) -> None:
    Demo(ledger, seed=3, enterprises=4).run()
    other = Ledger(Settings(database_url=f"sqlite:///{tmp_path / 'other.db'}"))
    try:
        Demo(other, seed=3, enterprises=4).run()
        assert revealed(other) == revealed(ledger)
    finally:
        other.close()
    report = verify_chain(ledger.database.iter_entries())
    assert report.intact
    assert report.size == ledger.position() > 50


def test_a_retry_under_the_same_idempotency_key_records_nothing_new(ledger: Ledger) -> None:
    uscc, lp, _ = enrolled(ledger)
    claim = IdempotencyClaim(scope=f"enterprise:{uscc}", key="k-1", fingerprint="body-a")
    me = Actor(principal_id=f"enterprise:{uscc}", role=Role.ENTERPRISE)
    first = execute(
        ledger, deciders.record_pin_attempt, ctx(me, 10), lp, ok=False, idempotency=claim
    )
    size = ledger.position()
    again = execute(
        ledger, deciders.record_pin_attempt, ctx(me, 11), lp, ok=False, idempotency=claim
    )
    assert again.replayed
    assert again.fields() == first.fields()
    assert ledger.position() == size
    assert ledger.key(lp).consecutive_failures == 1


def test_the_same_idempotency_key_with_another_body_is_refused(ledger: Ledger) -> None:
    uscc, lp, _ = enrolled(ledger)
    me = Actor(principal_id=f"enterprise:{uscc}", role=Role.ENTERPRISE)
    execute(
        ledger,
        deciders.change_pin,
        ctx(me, 10),
        lp,
        idempotency=IdempotencyClaim("s", "k", "body-a"),
    )
    with pytest.raises(IdempotencyMismatchError):
        execute(
            ledger,
            deciders.change_pin,
            ctx(me, 11),
            lp,
            idempotency=IdempotencyClaim("s", "k", "body-b"),
        )


def test_if_match_with_a_stale_version_is_refused_naming_the_current_one(ledger: Ledger) -> None:
    uscc, lp, _ = enrolled(ledger)
    me = Actor(principal_id=f"enterprise:{uscc}", role=Role.ENTERPRISE)
    version = ledger.key(lp).version
    execute(ledger, deciders.change_pin, ctx(me, 10), lp, expected_version=version)
    with pytest.raises(VersionMismatchError) as refused:
        execute(ledger, deciders.change_pin, ctx(me, 11), lp, expected_version=version)
    assert refused.value.current == version + 1


def test_concurrent_pin_failures_lock_the_key_exactly_once(ledger: Ledger) -> None:
    uscc, lp, _ = enrolled(ledger)
    me = Actor(principal_id=f"enterprise:{uscc}", role=Role.ENTERPRISE)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        try:
            ledger.run(deciders.record_pin_attempt, ctx(me, 10 + n), lp, ok=False)
            outcomes.append("recorded")
        except DomainError as error:
            outcomes.append(error.rule)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    key = ledger.key(lp)
    assert key.locked
    assert key.status(T0 + timedelta(hours=1)) is KeyStatus.LOCKED
    assert outcomes.count("recorded") == 5
    assert outcomes.count("key_locked") == 3
    topics = [type(e).__name__ for e in ledger.history(key.id)]
    assert topics.count("PinLocked") == 1
    assert topics.count("PinAttemptFailed") == 5


def test_a_free_pair_whose_card_exists_records_nothing_at_all(ledger: Ledger) -> None:
    uscc, lp, _ = enrolled(ledger, seed=1)
    rng = random.Random(99)
    region = ledger.region
    other_uscc = make_uscc(rng, region_prefix="4601")
    code = make_customs_code(rng)
    them = Actor(principal_id=f"enterprise:{other_uscc}", role=Role.ENTERPRISE)
    ledger.run(
        deciders.register_enterprise,
        ctx(them),
        uscc=other_uscc,
        name="海南另一公司",
        customs_code=code,
        receipt_number="HZ2",
    )
    for filing in samples.filings(rng, region, "海南另一公司", code, "HZ2", T0.date()).values():
        ledger.run(deciders.submit_filing, ctx(them, 1), other_uscc, filing)
    ledger.run(deciders.review, ctx(WINDOW, 2), other_uscc, approve=True, window=region.window_name)
    size = ledger.position()
    with pytest.raises(ConflictError):
        ledger.run(
            deciders.issue_free_pair,
            ctx(WINDOW, 3),
            other_uscc,
            legal_person_card_no="NEW0001",
            operator_card_no=lp,
        )
    assert ledger.position() == size
    assert ledger.enterprise(other_uscc).free_pair_issued is None
    assert ledger.find_key("NEW0001") is None
    assert FilingKind.THREE_IN_ONE in ledger.enterprise(uscc).filings


def test_registering_an_enterprise_twice_is_a_conflict(ledger: Ledger) -> None:
    uscc, _, _ = enrolled(ledger)
    me = Actor(principal_id=f"enterprise:{uscc}", role=Role.ENTERPRISE)
    with pytest.raises(ConflictError) as refused:
        ledger.run(
            deciders.register_enterprise,
            ctx(me),
            uscc=uscc,
            name="重复",
            customs_code="4601110001",
            receipt_number="HZ1",
        )
    assert refused.value.rule == "already_exists"


def test_a_new_persons_key_stored_first_by_another_process_is_the_one_sealed_under(
    ledger: Ledger, settings: Settings
) -> None:
    """Two processes mail two parcels signed by the same postal clerk, whom the ledger has not
    seen yet: both create the clerk's data key with their append. The second append is refused
    on the key alone, so its command is decided and sealed again — under the stored key."""
    first, second = issued(ledger, seed=1), issued(ledger, seed=2)
    rng = random.Random(5)
    clerk = Signature(name="符晓梅", date=T0.date())
    mine = mailing_details(rng, first[1], first[2], T0).model_copy(update={"postal_clerk": clerk})
    theirs = mailing_details(rng, second[1], second[2], T0)
    theirs = theirs.model_copy(update={"postal_clerk": clerk})
    other_process = Ledger(settings)
    seal = ledger.vault.seal
    sealings: list[int] = []

    def seal_while_another_process_mails(events: Any, *keys: Any) -> Any:
        sealed = seal(events, *keys)
        if not sealings:  # between this command's sealing and its append
            other_process.run(deciders.mail_free_pair, ctx(WINDOW, 5), second[0], theirs)
        sealings.append(len(events))
        return sealed

    ledger.vault.seal = seal_while_another_process_mails  # type: ignore[method-assign]
    try:
        result = ledger.run(deciders.mail_free_pair, ctx(WINDOW, 5), first[0], mine)
    finally:
        other_process.close()
    assert len(sealings) == 2  # raced for the clerk's key once, then sealed under the stored one
    assert result.extra["legal_person_card_no"] == first[1]
    clerk_id = ledger.vault.subject_id(person_key(SIGNATORIES, "signatory", clerk.name))
    assert set(ledger.vault.live_keys([clerk_id])) == {clerk_id}
    stored = [orjson.loads(entry.state) for entry in ledger.database.iter_entries()]
    opened = ledger.vault.reveal_inside(stored, erased=lambda value: pytest.fail(f"{value}"))
    assert opened is not None
    assert orjson.dumps(opened).decode().count(clerk.name) == 4  # two parcels, two keys each
    assert verify_chain(ledger.database.iter_entries()).intact


def test_a_key_another_process_erased_is_not_used_from_this_ones_memory(
    ledger: Ledger, settings: Settings
) -> None:
    """This process revealed the operator's data (so it keeps the operator's data key in
    memory); another process erases the operator; a key bought for the operator here is then
    refused as erased — not issued with the name sealed under a key that no longer exists."""
    uscc, _, operator_card = enrolled(ledger)
    operator = ledger.key(operator_card).holder_id
    me = owner(uscc)
    bought = {"supplier": Supplier.AISINO, "product": SupplierProduct.SMART_KEY}
    ledger.run(
        deciders.issue_bought_key, ctx(me, 5), uscc, card_no="8800000000000101",
        holder_id=operator, **bought,
    )  # fmt: skip
    other_process = Ledger(settings)
    try:
        other_process.run(
            deciders.erase_personal_data, ctx(WINDOW, 6), reason="撤回同意", card_holder_id=operator
        )
    finally:
        other_process.close()
    size = ledger.position()
    with pytest.raises(DomainError) as refused:
        ledger.run(
            deciders.issue_bought_key, ctx(me, 7), uscc, card_no="8800000000000102",
            holder_id=operator, **bought,
        )  # fmt: skip
    assert refused.value.rule == "personal_data_erased"
    assert ledger.position() == size
    assert ledger.find_key("8800000000000102") is None


def test_a_person_this_process_has_not_seen_keeps_the_key_another_process_made(
    ledger: Ledger, settings: Settings
) -> None:
    """A process takes a person it has not seen for new; after a restart (a new process), a
    clerk who signed before signs again: the append that creates a second key for them fails,
    and the command is sealed again under the key they have."""
    first, second = issued(ledger, seed=1), issued(ledger, seed=2)
    rng = random.Random(6)
    clerk = Signature(name="王建国", date=T0.date())
    for (uscc, lp, op), process in ((first, ledger), (second, Ledger(settings))):
        details = mailing_details(rng, lp, op, T0).model_copy(update={"postal_clerk": clerk})
        process.run(deciders.mail_free_pair, ctx(WINDOW, 5), uscc, details)
        if process is not ledger:
            process.close()
    clerk_id = ledger.vault.subject_id(person_key(SIGNATORIES, "signatory", clerk.name))
    assert set(ledger.vault.live_keys([clerk_id])) == {clerk_id}
    stored = [orjson.loads(entry.state) for entry in ledger.database.iter_entries()]
    opened = ledger.vault.reveal_inside(stored, erased=lambda value: pytest.fail(f"{value}"))
    assert orjson.dumps(opened).decode().count(clerk.name) == 4
