"""What the hotline, the window and auditors read from the views, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest

from domain.identifiers import mask_id_number, mask_phone
from ledger_store.application import deciders
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.settings import Settings
from projections.audit_trail.queries import audit_events, position_at, stream_history
from projections.engine.freshness import Freshness, ViewNotCaughtUpError
from projections.engine.query import ViewSource
from projections.engine.rebuild import rebuild
from projections.enterprise_overview.queries import get_enterprise
from projections.expiry_calendar.queries import expiring_keys
from projections.key_status.name_search import enterprises_by_name
from projections.key_status.queries import find_keys, get_key
from projections.window_queue.queries import window_queue
from tests.factories import enterprise_ctx, window_ctx
from tests.integration.test_views_world import World, catch_up, dump, open_ledger


@pytest.fixture
def ledger(settings: Settings) -> Iterator[Ledger]:
    with open_ledger(settings) as ledger:
        yield ledger


@pytest.fixture
def world(ledger: Ledger) -> World:
    return World(ledger)


def as_hotline(ledger: Ledger) -> ViewSource:
    """The views as the hotline reads them: ID numbers and phones masked."""
    return ViewSource(ledger.database, ledger.vault, mask=True)


def as_window(ledger: Ledger) -> ViewSource:
    """The views as window staff read them: nothing masked."""
    return ViewSource(ledger.database, ledger.vault, mask=False)


def test_the_hotline_sees_personal_data_masked_and_the_window_in_full(
    world: World, ledger: Ledger
) -> None:
    e = world.enrolled()
    catch_up(ledger)
    assert e.lp_card is not None
    hotline = get_key(as_hotline(ledger), e.lp_card, now=world.now)
    window = get_key(as_window(ledger), e.lp_card, now=world.now)
    assert hotline is not None
    assert window is not None
    holder = e.form.legal_person
    assert window.holder.id_number == holder.id_number
    assert window.holder.phone == holder.phone
    assert hotline.holder.id_number == mask_id_number(holder.id_number)
    assert hotline.holder.phone == mask_phone(holder.phone)
    assert "*" in hotline.holder.id_number
    assert hotline.holder.name == holder.name
    assert (hotline.status, hotline.kind, hotline.enterprise_name) == (
        "active",
        "legal_person",
        e.company,
    )
    assert hotline.initial_pin is True
    assert hotline.days_left == (hotline.valid_until - world.now).days
    assert hotline.mailing is not None
    assert hotline.mailing.recipient_phone == mask_phone(window.mailing.recipient_phone or "")  # type: ignore[union-attr]


def test_the_fifth_wrong_pin_locks_the_key_and_queues_it_for_the_window(
    world: World, ledger: Ledger
) -> None:
    e = world.enrolled()
    card = e.op_card
    assert card is not None
    for _ in range(3):
        world.pin(e, card, ok=False)
    catch_up(ledger)
    key = get_key(as_hotline(ledger), card, now=world.now)
    assert key is not None
    assert (key.status, key.failed_attempts, key.attempts_left) == ("active", 3, 2)
    world.pin(e, card, ok=False)
    result = world.pin(e, card, ok=False)
    catch_up(ledger)
    key = get_key(as_hotline(ledger), card, now=world.now)
    assert key is not None
    assert (key.status, key.failed_attempts, key.attempts_left) == ("locked", 5, 0)
    assert key.last_change.ledger_index == result.position
    assert key.last_change.event == "PinLocked"
    locked = window_queue(ledger.database, stage="locked_keys", now=world.now + timedelta(hours=2))
    assert [(i.card_no, i.uscc, i.age_seconds) for i in locked] == [(card, e.uscc, 7200)]
    ledger.run(deciders.unlock_key, window_ctx(world.tick()), card)
    catch_up(ledger)
    key = get_key(as_hotline(ledger), card, now=world.now)
    assert key is not None
    assert (key.status, key.attempts_left, key.initial_pin) == ("active", 5, True)
    assert window_queue(ledger.database, stage="locked_keys", now=world.now) == []


def test_expired_comes_from_the_clock_at_query_time(world: World, ledger: Ledger) -> None:
    e = world.enrolled()
    catch_up(ledger)
    assert e.lp_card is not None
    key = get_key(as_hotline(ledger), e.lp_card, now=world.now)
    assert key is not None
    later = key.valid_until + timedelta(days=3)
    expired = get_key(as_hotline(ledger), e.lp_card, now=later)
    assert expired is not None
    assert (expired.status, expired.days_left) == ("expired", -3)
    found = find_keys(as_hotline(ledger), uscc=e.uscc, status="expired", now=later)
    assert sorted(k.card_no for k in found) == sorted(e.cards)
    assert find_keys(as_hotline(ledger), uscc=e.uscc, status="expired", now=world.now) == []
    active = find_keys(as_hotline(ledger), uscc=e.uscc, status="active", now=world.now)
    assert len(active) == 2


def test_mailing_shows_the_case_the_ems_number_and_the_recipient(
    world: World, ledger: Ledger
) -> None:
    e = world.register()
    world.approve(e)
    world.issue_pair(e)
    catch_up(ledger)
    assert e.lp_card is not None
    key = get_key(as_window(ledger), e.lp_card, now=world.now)
    assert key is not None
    assert (key.status, key.mailing) == ("issued", None)
    waiting = window_queue(ledger.database, stage="issued_awaiting_mailing", now=world.now)
    assert sorted(i.card_no or "" for i in waiting) == sorted(e.cards)
    world.mail(e)
    catch_up(ledger)
    key = get_key(as_window(ledger), e.lp_card, now=world.now)
    assert key is not None
    assert key.status == "mailed"
    assert key.mailing is not None
    details = e.mailing
    assert (key.mailing.case_number, key.mailing.ems_number, key.mailing.recipient_name) == (
        details.case_number,
        details.ems_tracking_number,
        details.recipient_name,
    )
    assert window_queue(ledger.database, stage="issued_awaiting_mailing", now=world.now) == []


def test_a_replacement_keeps_the_chain_from_old_to_new(world: World, ledger: Ledger) -> None:
    e = world.enrolled()
    old = e.op_card
    assert old is not None
    world.replace(e, old)
    new = e.cards[-1]
    catch_up(ledger)
    old_key = get_key(as_hotline(ledger), old, now=world.now)
    new_key = get_key(as_hotline(ledger), new, now=world.now)
    assert old_key is not None
    assert new_key is not None
    assert (old_key.status, old_key.replaced_by, old_key.incident_reason) == (
        "replaced",
        new,
        "遗失补办",
    )
    assert (new_key.status, new_key.replaces, new_key.supplier) == (
        "issued",
        old,
        "beijing_tongfang",
    )
    by_holder = find_keys(as_hotline(ledger), holder=e.form.operator.name, now=world.now)
    assert {k.card_no for k in by_holder} == {old, new}


def test_voiding_with_erasure_drops_the_holders_personal_data(world: World, ledger: Ledger) -> None:
    e = world.enrolled()
    card = e.op_card
    assert card is not None
    ledger.run(
        deciders.void_key,
        enterprise_ctx(e.uscc, world.tick()),
        card,
        reason="持卡人撤回同意",
        erase_personal_data=True,
    )
    catch_up(ledger)
    key = get_key(as_window(ledger), card, now=world.now)
    assert key is not None
    assert key.status == "void"
    assert key.personal_data_erased is True
    assert (key.holder.name, key.holder.id_number, key.holder.phone, key.mailing) == (
        None,
        None,
        None,
        None,
    )
    # Not only hidden: the view's holder row keeps nothing of the person, after a rebuild too.
    holders = ledger.database.table("view_key_holders")
    for _ in ("incremental", "rebuilt"):
        with ledger.database.reading() as cursor:
            row = cursor.execute(
                f"SELECT person FROM {holders} WHERE holder_id = ?", (key.holder.id,)
            ).fetchone()
        assert row == (None,)
        rebuild(ledger.database)
    assert ledger.vault.live_keys([UUID(key.holder.id)]) == {}  # the holder's key is destroyed


def test_the_overview_shows_filings_review_keys_and_card_holders(
    world: World, ledger: Ledger
) -> None:
    e = world.register()
    world.reject(e, "三证合一信息与工商登记不符，请更正")
    catch_up(ledger)
    overview = get_enterprise(as_window(ledger), e.uscc, now=world.now)
    assert overview is not None
    assert overview.review_state == "rejected"
    assert overview.review is not None
    assert (overview.review.outcome, overview.review.reason) == (
        "rejected",
        "三证合一信息与工商登记不符，请更正",
    )
    assert {f.state for f in overview.filings} == {"rejected"}
    three_in_one = ledger.enterprise(e.uscc).filings["three_in_one"]  # type: ignore[index]
    ledger.run(deciders.submit_filing, enterprise_ctx(e.uscc, world.tick()), e.uscc, three_in_one)
    catch_up(ledger)
    overview = get_enterprise(as_window(ledger), e.uscc, now=world.now)
    assert overview is not None
    assert overview.review_state == "awaiting_review"
    states = {f.kind: (f.state, f.submissions) for f in overview.filings}
    assert states["three_in_one"] == ("submitted", 2)
    assert states["forex"] == ("rejected", 1)
    world.approve(e)
    world.issue_pair(e)
    catch_up(ledger)
    overview = get_enterprise(as_hotline(ledger), e.uscc, now=world.now)
    assert overview is not None
    assert overview.review_state == "approved"
    assert {f.state for f in overview.filings} == {"approved"}
    assert overview.free_pair == (e.lp_card, e.op_card)
    assert sorted(k.card_no for k in overview.keys) == sorted(e.cards)
    assert all("*" in (k.holder.id_number or "") for k in overview.keys)
    kinds = {o.kind: o for o in overview.operators}
    assert kinds["operator"].name == e.form.operator.name
    asked = sorted(p.value for p in e.form.customs_permissions | e.form.forex_permissions)
    assert list(kinds["operator"].permissions) == asked
    assert kinds["legal_person"].permissions == ()


def test_a_draft_enrollment_shows_its_missing_filings(world: World, ledger: Ledger) -> None:
    e = world.register()
    catch_up(ledger)
    overview = get_enterprise(as_hotline(ledger), e.uscc, now=world.now)
    assert overview is not None
    assert overview.review_state == "awaiting_review"
    assert get_enterprise(as_hotline(ledger), "91350100M000100Y43") is None


def test_the_window_queue_lists_work_oldest_first_with_its_age(
    world: World, ledger: Ledger
) -> None:
    first, second = world.register("海南甲公司"), world.register("海南乙公司")
    third = world.enrolled("海南丙公司")
    assert third.lp_card is not None
    requested = world.renew(third, third.lp_card, steps=1)
    catch_up(ledger)
    now = world.tick(60)
    review = window_queue(ledger.database, stage="awaiting_review", now=now)
    assert [(i.uscc, i.enterprise_name) for i in review] == [
        (first.uscc, "海南甲公司"),
        (second.uscc, "海南乙公司"),
    ]
    assert review[0].age_seconds > review[1].age_seconds > 0
    world.approve(second)
    renewals = window_queue(ledger.database, stage="renewals_awaiting_pre_review", now=now)
    assert [(i.card_no, i.ledger_index) for i in renewals] == [(third.lp_card, requested.position)]
    application = renewals[0].application_id
    assert application is not None
    ledger.run(deciders.pre_approve_renewal, window_ctx(world.tick()), third.lp_card, application)
    catch_up(ledger)
    everything = window_queue(ledger.database, now=world.now)
    stages = [(i.stage, i.uscc) for i in everything]
    assert stages == [
        ("awaiting_review", first.uscc),
        ("approved_awaiting_issue", second.uscc),
        ("renewals_awaiting_visit", third.uscc),
    ]
    with pytest.raises(ValueError, match="unknown stage"):
        window_queue(ledger.database, stage="tea_break")


def test_the_window_finds_enterprises_by_a_part_of_their_name(world: World, ledger: Ledger) -> None:
    first, second = world.register("海南甲_100%公司"), world.register("海南乙公司")
    catch_up(ledger)
    assert enterprises_by_name(ledger.database, " 公司 ") == sorted(
        [(first.uscc, "海南甲_100%公司"), (second.uscc, "海南乙公司")]
    )
    assert enterprises_by_name(ledger.database, "_100%") == [(first.uscc, "海南甲_100%公司")]
    assert enterprises_by_name(ledger.database, "乙_") == []  # wildcards are taken literally
    assert enterprises_by_name(ledger.database, "  ") == []


def test_the_expiry_calendar_lists_keys_expiring_within_n_days(
    world: World, ledger: Ledger
) -> None:
    e = world.enrolled()
    catch_up(ledger)
    assert e.lp_card is not None
    key = get_key(as_hotline(ledger), e.lp_card, now=world.now)
    assert key is not None
    month_before = key.valid_until - timedelta(days=30)
    assert expiring_keys(as_window(ledger), within_days=20, now=month_before) == []
    soon = expiring_keys(as_window(ledger), within_days=31, now=month_before)
    assert sorted(k.card_no for k in soon) == sorted(e.cards)
    assert {k.days_left for k in soon} == {30}
    after = key.valid_until + timedelta(days=1)
    assert expiring_keys(as_window(ledger), within_days=31, now=after) == []
    late = expiring_keys(as_window(ledger), within_days=31, now=after, include_expired=True)
    assert {(k.status, k.days_left) for k in late} == {("expired", -1)}


def test_the_audit_trail_files_each_entry_under_its_streams_with_its_hashes(
    world: World, ledger: Ledger
) -> None:
    e = world.enrolled()
    midway = ledger.position()
    assert e.op_card is not None
    world.pin(e, e.op_card, ok=False)
    catch_up(ledger)
    key_stream = stream_history(ledger.database, f"key:{e.op_card}")
    entries = {entry.ledger_index: entry for entry in ledger.database.iter_entries()}
    assert [x.event_type for x in key_stream][:2] == ["KeyIssued", "KeyMailed"]
    for x in key_stream:
        stored = entries[x.ledger_index]
        assert (x.entry_hash, x.chain_hash) == (stored.entry_hash.hex(), stored.chain_hash.hex())
        assert x.originator_id == str(stored.originator_id)
        assert x.stream == f"key:{e.op_card}"
    assert key_stream[-1].actor.role == "enterprise"
    whole = stream_history(ledger.database, f"enterprise:{e.uscc}")
    assert [x.ledger_index for x in whole] == list(range(1, ledger.position() + 1))
    own = stream_history(ledger.database, f"enterprise:{e.uscc}", related=False)
    assert {x.stream for x in own} == {f"enterprise:{e.uscc}"}
    operator = next(x for x in whole if x.event_type == "OperatorRegistered")
    assert stream_history(ledger.database, f"operator:{operator.originator_id}")[0] == operator
    as_of = stream_history(ledger.database, f"key:{e.op_card}", until_position=midway)
    assert [x.ledger_index for x in as_of] == [x.ledger_index for x in key_stream[:-1]]
    moment = key_stream[-2].recorded_at
    assert position_at(ledger.database, moment) == midway
    by_time = stream_history(ledger.database, f"key:{e.op_card}", until_time=moment)
    assert by_time == as_of
    page = audit_events(ledger.database, after=3, limit=4)
    assert [x.ledger_index for x in page] == [4, 5, 6, 7]
    with pytest.raises(ValueError, match="stream"):
        stream_history(ledger.database, "shop:1")


def test_an_as_of_rebuild_shows_the_past_and_leaves_the_live_views(
    world: World, ledger: Ledger
) -> None:
    e = world.enrolled()
    assert e.op_card is not None
    before_lock = ledger.position()
    for _ in range(5):
        world.pin(e, e.op_card, ok=False)
    catch_up(ledger)
    live = dump(ledger)
    result = rebuild(ledger, until_position=before_lock)
    assert (result.as_of, result.position) == (True, before_lock)
    assert dump(ledger) == live
    past = get_key(
        ViewSource(ledger.database, ledger.vault, mask=True, names=result.names),
        e.op_card,
        now=world.now,
    )
    now = get_key(as_hotline(ledger), e.op_card, now=world.now)
    assert past is not None
    assert now is not None
    assert (past.status, now.status) == ("active", "locked")
    moment = world.now - timedelta(minutes=1)
    by_time = rebuild(ledger, views=["key_status"], until_time=moment)
    assert by_time.views == ("key_status",)
    assert by_time.position < ledger.position()


def test_a_rebuild_gives_exactly_the_incremental_rows(world: World, ledger: Ledger) -> None:
    for company in ("海南甲公司", "海南乙公司"):
        e = world.enrolled(company)
        assert e.lp_card is not None
        world.renew(e, e.lp_card)
        world.buy_key(e)
    catch_up(ledger, batch_size=7)
    incremental = dump(ledger)
    seen: list[tuple[int, int]] = []
    result = rebuild(ledger, page_size=29, progress=lambda done, total: seen.append((done, total)))
    assert dump(ledger) == incremental
    assert result.position == ledger.position()
    assert seen[-1] == (ledger.position(), ledger.position())


def test_a_query_past_the_views_position_gives_up_after_its_timeout(
    world: World, ledger: Ledger
) -> None:
    e = world.enrolled()
    catch_up(ledger)
    assert e.lp_card is not None
    result = world.pin(e, e.lp_card, ok=False)
    with pytest.raises(ViewNotCaughtUpError) as caught:
        get_key(
            as_hotline(ledger),
            e.lp_card,
            fresh=Freshness(result.position, timeout=0.05),
        )
    assert caught.value.wanted == result.position
    catch_up(ledger)
    key = get_key(as_hotline(ledger), e.lp_card, fresh=Freshness(result.position))
    assert key is not None
    assert key.failed_attempts == 1
