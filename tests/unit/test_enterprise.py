"""The Enterprise aggregate: registration, filings, window review, changes, the free pair."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain.aggregate_ids import enterprise_id
from domain.base import Actor, CommandContext, DomainEvent, Role
from domain.enterprise import decisions as enterprises
from domain.enterprise.events import (
    EnterpriseChange,
    EnterpriseInfoChanged,
    EnterpriseRegistered,
    FilingSubmitted,
    FreeKeyPairIssued,
    WindowApproved,
    WindowRejected,
)
from domain.enterprise.state import Enterprise, ReviewState
from domain.filings import CustomsFiling, FilingKind, ForexFiling, ThreeInOneFiling
from domain.forms import KeyKind
from domain.identifier_generators import make_customs_code, make_uscc
from domain.region import GUANGDONG, HAINAN
from domain.ukey import decisions as ukeys
from tests.factories import (
    T0,
    active_key,
    approved_enterprise,
    build,
    enterprise_ctx,
    filed_enterprise,
    mailing_details,
    refused,
    registered_enterprise,
    then,
    valid_filings,
    window_ctx,
)


@pytest.fixture
def rng() -> random.Random:
    return random.Random(4601)


def _register(rng: random.Random, **changes: object) -> list[DomainEvent]:
    uscc = make_uscc(rng)
    fields: dict[str, object] = {
        "uscc": uscc,
        "name": "海南示例贸易有限公司",
        "customs_code": make_customs_code(rng),
        "receipt_number": "HZ0001",
        "region": HAINAN,
    }
    fields |= changes
    ctx = enterprise_ctx(str(fields["uscc"]))
    return enterprises.register(ctx, **fields)  # type: ignore[arg-type]


# -- registration --------------------------------------------------------------------------------


def test_registration_records_the_enterprise_in_draft(rng: random.Random) -> None:
    events = _register(rng)
    (event,) = events
    assert isinstance(event, EnterpriseRegistered)
    enterprise: Enterprise = build(events)
    assert enterprise.id == enterprise_id(event.uscc)
    assert enterprise.version == 1
    assert enterprise.review_state is ReviewState.DRAFT
    assert enterprise.region == "hainan"
    assert enterprise.missing_filings == list(FilingKind)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customs_code": None}, "customs_code"),
        ({"customs_code": "  "}, "customs_code"),
        ({"receipt_number": None}, "receipt_number"),
        ({"receipt_number": ""}, "receipt_number"),
    ],
)
def test_registration_without_customs_receipt_is_refused(
    rng: random.Random, changes: dict[str, object], field: str
) -> None:
    with refused("customs_receipt_required", field):
        _register(rng, **changes)


def test_registration_with_an_invalid_uscc_is_refused(rng: random.Random) -> None:
    with refused("invalid_uscc", "uscc"):
        _register(rng, uscc="91350100M000100Y4Z")


def test_registration_with_a_malformed_customs_code_is_refused(rng: random.Random) -> None:
    with refused("invalid_customs_code", "customs_code"):
        _register(rng, customs_code="46012")


def test_registration_with_another_provinces_customs_code_is_refused(rng: random.Random) -> None:
    with refused("region_mismatch", "customs_code"):
        _register(rng, customs_code=make_customs_code(rng, province="44"))


def test_registration_with_another_provinces_uscc_is_refused(rng: random.Random) -> None:
    with refused("region_mismatch", "uscc"):
        _register(rng, uscc=make_uscc(rng, region_prefix="4403"))


def test_registration_needs_a_name(rng: random.Random) -> None:
    with refused("name_required", "name"):
        _register(rng, name=" ")


def test_another_region_registers_with_its_own_prefix(rng: random.Random) -> None:
    enterprise = registered_enterprise(rng, region=GUANGDONG)
    assert enterprise.region == "guangdong"
    assert enterprise.customs_code.startswith("44")


# -- filings -------------------------------------------------------------------------------------


def test_enterprise_stays_in_draft_until_all_four_filings_are_in(rng: random.Random) -> None:
    enterprise = registered_enterprise(rng)
    filings = valid_filings(enterprise.uscc, enterprise.customs_code, rng)
    ctx = enterprise_ctx(enterprise.uscc)
    for count, filing in enumerate(filings.values(), start=1):
        events = enterprises.submit_filing(enterprise, ctx, filing, HAINAN)
        assert [type(e) for e in events] == [FilingSubmitted]
        enterprise = then(enterprise, events)
        expected = ReviewState.AWAITING_REVIEW if count == 4 else ReviewState.DRAFT
        assert enterprise.review_state is expected
    assert enterprise.missing_filings == []
    assert enterprise.legal_representative is not None


def test_a_resubmitted_filing_replaces_the_previous_one(rng: random.Random) -> None:
    enterprise = filed_enterprise(rng)
    forex = ForexFiling(forex_bureau_code="460000", company_name="海南新名称贸易有限公司")
    enterprise = then(
        enterprise,
        enterprises.submit_filing(enterprise, enterprise_ctx(enterprise.uscc), forex, HAINAN),
    )
    assert enterprise.filings[FilingKind.FOREX] == forex
    assert enterprise.review_state is ReviewState.AWAITING_REVIEW


def test_filing_with_a_wrong_department_code_is_refused(rng: random.Random) -> None:
    enterprise = registered_enterprise(rng)
    filing = valid_filings(enterprise.uscc, enterprise.customs_code, rng)[FilingKind.THREE_IN_ONE]
    assert isinstance(filing, ThreeInOneFiling)
    wrong = filing.model_copy(update={"business_registration_dept_code": "440000"})
    with refused("wrong_department_code", "business_registration_dept_code"):
        enterprises.submit_filing(enterprise, enterprise_ctx(enterprise.uscc), wrong, HAINAN)


def test_forex_filing_with_a_wrong_bureau_code_is_refused(rng: random.Random) -> None:
    enterprise = registered_enterprise(rng)
    wrong = ForexFiling(forex_bureau_code="440000", company_name="海南示例贸易有限公司")
    with refused("wrong_department_code", "forex_bureau_code"):
        enterprises.submit_filing(enterprise, enterprise_ctx(enterprise.uscc), wrong, HAINAN)


def test_customs_filing_with_another_customs_code_is_refused(rng: random.Random) -> None:
    enterprise = registered_enterprise(rng)
    other = CustomsFiling(
        customs_code=make_customs_code(rng), company_name="某公司", receipt_number="HZ1"
    )
    with refused("customs_code_mismatch", "customs_code"):
        enterprises.submit_filing(enterprise, enterprise_ctx(enterprise.uscc), other, HAINAN)


def test_filing_under_another_regions_configuration_is_refused(rng: random.Random) -> None:
    enterprise = registered_enterprise(rng)
    forex = ForexFiling(forex_bureau_code="440000", company_name="某公司")
    with refused("region_mismatch", "region"):
        enterprises.submit_filing(enterprise, enterprise_ctx(enterprise.uscc), forex, GUANGDONG)


def test_filing_after_approval_is_refused(rng: random.Random) -> None:
    enterprise = approved_enterprise(rng)
    forex = ForexFiling(forex_bureau_code="460000", company_name="某公司")
    with refused("already_approved"):
        enterprises.submit_filing(enterprise, enterprise_ctx(enterprise.uscc), forex, HAINAN)


def test_filing_event_kind_must_match_the_filing() -> None:
    forex = ForexFiling(forex_bureau_code="460000", company_name="某公司")
    with pytest.raises(ValidationError, match="kind differs"):
        FilingSubmitted(
            originator_id=enterprise_id("x"),
            originator_version=2,
            timestamp=T0,
            actor=Actor(principal_id="p", role=Role.ENTERPRISE),
            kind=FilingKind.CUSTOMS,
            filing=forex,
        )


# -- review --------------------------------------------------------------------------------------


def test_window_approval_records_who_where_and_when(rng: random.Random) -> None:
    enterprise = filed_enterprise(rng)
    at = T0 + timedelta(days=2)
    events = enterprises.approve(enterprise, window_ctx(at), HAINAN.window_name)
    assert [type(e) for e in events] == [WindowApproved]
    approved = then(enterprise, events)
    assert approved.review_state is ReviewState.APPROVED
    review = approved.last_review
    assert review is not None
    assert review.reviewer.role is Role.WINDOW
    assert (review.window, review.at, review.reason) == (HAINAN.window_name, at, None)


def test_approval_with_filings_missing_is_refused_naming_them(rng: random.Random) -> None:
    enterprise = registered_enterprise(rng)
    customs = valid_filings(enterprise.uscc, enterprise.customs_code, rng)[FilingKind.CUSTOMS]
    enterprise = then(
        enterprise,
        enterprises.submit_filing(enterprise, enterprise_ctx(enterprise.uscc), customs, HAINAN),
    )
    with refused("filings_incomplete", "filings") as info:
        enterprises.approve(enterprise, window_ctx(), HAINAN.window_name)
    message = str(info.value)
    assert "three_in_one" in message
    assert "forex" in message
    assert "operator_preentry" in message
    assert "customs (" not in message


def test_approving_twice_is_refused(rng: random.Random) -> None:
    enterprise = approved_enterprise(rng)
    with refused("not_awaiting_review", "review_state"):
        enterprises.approve(enterprise, window_ctx(), HAINAN.window_name)
    with refused("not_awaiting_review", "review_state"):
        enterprises.reject(enterprise, window_ctx(), HAINAN.window_name, "again")


def test_only_window_staff_review(rng: random.Random) -> None:
    enterprise = filed_enterprise(rng)
    with refused("role_not_allowed", "actor"):
        enterprises.approve(enterprise, enterprise_ctx(enterprise.uscc), HAINAN.window_name)


def test_approval_names_the_window(rng: random.Random) -> None:
    enterprise = filed_enterprise(rng)
    with refused("window_required", "window"):
        enterprises.approve(enterprise, window_ctx(), " ")


@pytest.mark.parametrize("reason", ["", "   "])
def test_rejection_without_a_reason_is_refused(rng: random.Random, reason: str) -> None:
    enterprise = filed_enterprise(rng)
    with refused("reason_required", "reason"):
        enterprises.reject(enterprise, window_ctx(), HAINAN.window_name, reason)


def test_rejection_records_the_reason_and_a_resubmission_returns_to_review(
    rng: random.Random,
) -> None:
    enterprise = filed_enterprise(rng)
    events = enterprises.reject(
        enterprise, window_ctx(), HAINAN.window_name, "法人证件扫描件不清晰"
    )
    assert [type(e) for e in events] == [WindowRejected]
    rejected = then(enterprise, events)
    assert rejected.review_state is ReviewState.REJECTED
    assert rejected.last_review is not None
    assert rejected.last_review.reason == "法人证件扫描件不清晰"
    with refused("not_awaiting_review"):
        enterprises.approve(rejected, window_ctx(), HAINAN.window_name)
    filing = rejected.filings[FilingKind.THREE_IN_ONE]
    resubmitted = then(
        rejected, enterprises.submit_filing(rejected, enterprise_ctx(rejected.uscc), filing, HAINAN)
    )
    assert resubmitted.review_state is ReviewState.AWAITING_REVIEW
    assert then(resubmitted, enterprises.approve(resubmitted, window_ctx(), "窗口")).is_approved


def test_a_refused_command_leaves_the_aggregate_unchanged(rng: random.Random) -> None:
    enterprise = filed_enterprise(rng)
    before = enterprise.model_dump()
    enterprises.approve(enterprise, window_ctx(), HAINAN.window_name)  # returned events not applied
    with refused("reason_required"):
        enterprises.reject(enterprise, window_ctx(), HAINAN.window_name, "")
    assert enterprise.model_dump() == before


# -- changes -------------------------------------------------------------------------------------


def test_change_with_an_active_legal_person_key_is_recorded(rng: random.Random) -> None:
    enterprise = approved_enterprise(rng)
    key = active_key(rng, enterprise.uscc)
    change = EnterpriseChange(name="海南新名称贸易有限公司", legal_representative="陈明")
    events = enterprises.change_info(enterprise, enterprise_ctx(enterprise.uscc), change, key)
    (event,) = events
    assert isinstance(event, EnterpriseInfoChanged)
    assert event.legal_representative_changed
    assert event.authorising_card_no == key.card_no
    changed = then(enterprise, events)
    assert (changed.name, changed.legal_representative) == ("海南新名称贸易有限公司", "陈明")
    assert changed.business_address == enterprise.business_address


def test_an_address_change_does_not_change_the_legal_representative(rng: random.Random) -> None:
    enterprise = approved_enterprise(rng)
    key = active_key(rng, enterprise.uscc)
    change = EnterpriseChange(business_address="海南省三亚市吉阳区1号")
    (event,) = enterprises.change_info(enterprise, enterprise_ctx(enterprise.uscc), change, key)
    assert isinstance(event, EnterpriseInfoChanged)
    assert not event.legal_representative_changed


def test_change_repeating_the_current_information_is_refused(rng: random.Random) -> None:
    enterprise = approved_enterprise(rng)
    key = active_key(rng, enterprise.uscc)
    with refused("nothing_changed", "change"):
        enterprises.change_info(
            enterprise, enterprise_ctx(enterprise.uscc), EnterpriseChange(name=enterprise.name), key
        )


def test_a_change_names_at_least_one_field() -> None:
    with pytest.raises(ValidationError, match="at least one"):
        EnterpriseChange()


def test_change_before_approval_is_refused(rng: random.Random) -> None:
    enterprise = filed_enterprise(rng)
    key = active_key(rng, enterprise.uscc)
    with refused("enterprise_not_approved"):
        enterprises.change_info(
            enterprise, enterprise_ctx(enterprise.uscc), EnterpriseChange(name="新"), key
        )


def test_change_without_a_usable_legal_person_key_of_this_enterprise_is_refused(
    rng: random.Random,
) -> None:
    enterprise = approved_enterprise(rng)
    ctx = enterprise_ctx(enterprise.uscc)
    change = EnterpriseChange(name="海南新名称贸易有限公司")
    operator_key = active_key(rng, enterprise.uscc, KeyKind.OPERATOR)
    other_enterprise_key = active_key(rng, make_uscc(rng))
    lost_key = active_key(rng, enterprise.uscc)
    lost_key = then(lost_key, ukeys.report_lost(lost_key, ctx, "遗失"))
    expired_key = active_key(rng, enterprise.uscc)
    late = enterprise_ctx(enterprise.uscc, expired_key.valid_until + timedelta(seconds=1))
    for key, context in [
        (None, ctx),
        (operator_key, ctx),
        (other_enterprise_key, ctx),
        (lost_key, ctx),
        (expired_key, late),
    ]:
        with refused("legal_person_key_required", "authorising_key"):
            enterprises.change_info(enterprise, context, change, key)


def test_a_locked_legal_person_key_cannot_authorise_a_change(rng: random.Random) -> None:
    enterprise = approved_enterprise(rng)
    ctx = enterprise_ctx(enterprise.uscc)
    key = active_key(rng, enterprise.uscc)
    for _ in range(5):
        key = then(key, ukeys.record_pin_attempt(key, ctx, ok=False))
    with refused("legal_person_key_required"):
        enterprises.change_info(
            enterprise, ctx, EnterpriseChange(name="海南新名称贸易有限公司"), key
        )


# -- the free pair -------------------------------------------------------------------------------


def test_free_pair_is_issued_only_once(rng: random.Random) -> None:
    enterprise = approved_enterprise(rng)
    events = enterprises.record_free_pair_issued(
        enterprise, window_ctx(), "8000000000000001", "0800000000000002"
    )
    (event,) = events
    assert isinstance(event, FreeKeyPairIssued)
    issued = then(enterprise, events)
    assert issued.free_pair_issued is not None
    assert issued.free_pair_issued.operator_card_no == "0800000000000002"
    with refused("free_pair_already_issued"):
        enterprises.record_free_pair_issued(
            issued, window_ctx(), "8000000000000003", "8000000000000004"
        )


def test_free_pair_needs_an_approved_enrollment(rng: random.Random) -> None:
    enterprise = filed_enterprise(rng)
    with refused("enterprise_not_approved"):
        enterprises.record_free_pair_issued(
            enterprise, window_ctx(), "8000000000000001", "8000000000000002"
        )


def test_free_pair_is_issued_by_the_window(rng: random.Random) -> None:
    enterprise = approved_enterprise(rng)
    with refused("role_not_allowed", "actor"):
        enterprises.record_free_pair_issued(
            enterprise, enterprise_ctx(enterprise.uscc), "8000000000000001", "8000000000000002"
        )


@pytest.mark.parametrize(
    ("lp", "op", "rule", "field"),
    [
        ("8000000000000001", "8000000000000001", "duplicate_card_number", "op_card_no"),
        ("8000 0001", "8000000000000002", "invalid_card_number", "lp_card_no"),
        ("8000000000000001", "8" * 21, "invalid_card_number", "op_card_no"),
    ],
)
def test_free_pair_card_numbers_are_checked(
    rng: random.Random, lp: str, op: str, rule: str, field: str
) -> None:
    enterprise = approved_enterprise(rng)
    with refused(rule, field):
        enterprises.record_free_pair_issued(enterprise, window_ctx(), lp, op)


def test_the_parcel_holds_the_enterprises_own_free_pair(rng: random.Random) -> None:
    enterprise = approved_enterprise(rng)
    lp, op = "8000000000000001", "0800000000000002"
    with refused("free_pair_not_issued", "legal_person_card_no"):
        enterprises.parcel_of(enterprise, window_ctx(), mailing_details(rng, lp, op))
    enterprise = then(
        enterprise, enterprises.record_free_pair_issued(enterprise, window_ctx(), lp, op)
    )
    pair = enterprises.parcel_of(enterprise, window_ctx(), mailing_details(rng, lp, op))
    assert (pair.legal_person_card_no, pair.operator_card_no) == (lp, op)
    with refused("role_not_allowed", "actor"):
        enterprises.parcel_of(
            enterprise, enterprise_ctx(enterprise.uscc), mailing_details(rng, lp, op)
        )
    another_enterprises_card = "8800004601000002"
    with refused("card_number_mismatch", "operator_card_no"):
        enterprises.parcel_of(
            enterprise, window_ctx(), mailing_details(rng, lp, another_enterprises_card)
        )
    with refused("card_number_mismatch", "legal_person_card_no"):
        enterprises.parcel_of(enterprise, window_ctx(), mailing_details(rng, op, lp))


# -- events --------------------------------------------------------------------------------------


def _enrollment_events(seed: int, ctx_for: dict[str, CommandContext]) -> list[DomainEvent]:
    rng = random.Random(seed)
    events = enterprises.register(
        ctx_for["enterprise"],
        make_uscc(rng),
        "海南示例贸易有限公司",
        make_customs_code(rng),
        "HZ1",
        HAINAN,
    )
    enterprise: Enterprise = build(events)
    for filing in valid_filings(enterprise.uscc, enterprise.customs_code, rng).values():
        new = enterprises.submit_filing(enterprise, ctx_for["enterprise"], filing, HAINAN)
        events += new
        enterprise = then(enterprise, new)
    events += enterprises.approve(enterprise, ctx_for["window"], HAINAN.window_name)
    return events


def test_events_carry_the_actor(rng: random.Random) -> None:
    ctx = {
        "enterprise": CommandContext(
            actor=Actor(principal_id="token-17", role=Role.ENTERPRISE),
            at=T0,
            request_id="req-1",
            idempotency_key="idem-1",
        ),
        "window": window_ctx(T0, request_id="req-2"),
    }
    events = _enrollment_events(1, ctx)
    assert [e.actor.principal_id for e in events] == ["token-17"] * 5 + ["window-clerk-01"]
    assert events[0].request_id == "req-1"
    assert events[0].idempotency_key == "idem-1"
    assert events[-1].actor.role is Role.WINDOW
    assert all(e.timestamp == T0 for e in events)
    assert [e.originator_version for e in events] == [1, 2, 3, 4, 5, 6]


def test_same_context_gives_identical_event_bytes() -> None:
    ctx = {"enterprise": enterprise_ctx("x"), "window": window_ctx()}
    first = [e.model_dump_json() for e in _enrollment_events(7, ctx)]
    second = [e.model_dump_json() for e in _enrollment_events(7, ctx)]
    assert first == second


def test_events_round_trip_through_json_and_rebuild_the_same_enterprise() -> None:
    ctx = {"enterprise": enterprise_ctx("x"), "window": window_ctx()}
    events = _enrollment_events(3, ctx)
    copies = [type(e).model_validate_json(e.model_dump_json()) for e in events]
    assert copies == events
    assert build(copies) == build(events)
