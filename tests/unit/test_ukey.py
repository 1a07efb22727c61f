"""The UKey aggregate: issue, EMS, PIN and lock, renewal, loss, freeze, void, replacement."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

import domain.card_holder.events
import domain.enterprise.events
import domain.ukey.events
from domain.aggregate_ids import key_id
from domain.base import DomainEvent, NotFoundError
from domain.forms import KeyKind, Media, Supplier
from domain.identifier_generators import make_uscc
from domain.ukey import decisions as ukeys
from domain.ukey.decisions import VALIDITY_YEARS, add_years
from domain.ukey.events import (
    CertificateRenewalPreApproved,
    CertificateRenewalRequested,
    CertificateRenewed,
    DeliveryChannel,
    KeyDelivered,
    KeyIssued,
    KeyMailed,
    KeyReplaced,
    KeyUnfrozen,
    PinAttemptFailed,
    PinAttemptSucceeded,
    PinLocked,
    PinUnlocked,
)
from domain.ukey.state import UKey
from domain.ukey.status import PIN_LOCK_THRESHOLD, KeyStatus
from tests.factories import (
    T0,
    active_key,
    all_documents,
    build,
    delivered_key,
    enterprise_ctx,
    issued_key,
    mailing_details,
    refused,
    then,
    window_ctx,
)


@pytest.fixture
def rng() -> random.Random:
    return random.Random(95198)


@pytest.fixture
def uscc(rng: random.Random) -> str:
    return make_uscc(rng)


def _fail(key: UKey, times: int, at: datetime = T0) -> UKey:
    for _ in range(times):
        key = then(key, ukeys.record_pin_attempt(key, enterprise_ctx(key.uscc, at), ok=False))
    return key


def _locked(rng: random.Random, uscc: str) -> UKey:
    return _fail(active_key(rng, uscc), PIN_LOCK_THRESHOLD)


def _pre_approved(key: UKey, at: datetime = T0, application_id: str = "APP-1") -> UKey:
    key = then(key, ukeys.request_renewal(key, enterprise_ctx(key.uscc, at), application_id))
    return then(key, ukeys.pre_approve_renewal(key, window_ctx(at), application_id))


def _free_pair(rng: random.Random, uscc: str) -> tuple[UKey, UKey]:
    lp = issued_key(rng, uscc, KeyKind.LEGAL_PERSON)
    op = issued_key(rng, uscc, KeyKind.OPERATOR)
    return lp, op


def _mailed(rng: random.Random, uscc: str) -> UKey:
    lp, op = _free_pair(rng, uscc)
    return then(lp, ukeys.mail(lp, window_ctx(), mailing_details(rng, lp.card_no, op.card_no)))


# -- issue ---------------------------------------------------------------------------------------


def test_issued_key_starts_with_the_initial_pin_and_no_failures(uscc: str) -> None:
    events = ukeys.issue(
        window_ctx(),
        "0123456789012345",
        KeyKind.LEGAL_PERSON,
        Media.IC_CARD,
        uscc,
        key_id("holder"),
        "王伟",
    )
    (event,) = events
    assert isinstance(event, KeyIssued)
    key: UKey = build(events)
    assert key.id == key_id("0123456789012345")
    assert key.card_no == "0123456789012345"
    assert (key.pin_is_initial, key.consecutive_failures, key.attempts_left) == (True, 0, 5)
    assert key.status(T0) is KeyStatus.ISSUED
    assert key.supplier is None
    assert key.is_usable(T0)


def test_a_second_legal_person_key_for_the_same_holder_is_not_bought(
    rng: random.Random, uscc: str
) -> None:
    free = active_key(rng, uscc)
    holder = free.holder_id
    with refused("legal_person_key_exists", "holder_id"):
        ukeys.check_extra_key(KeyKind.LEGAL_PERSON, holder, [free])
    ukeys.check_extra_key(KeyKind.OPERATOR, holder, [free])  # extra keys for new operators
    ukeys.check_extra_key(KeyKind.LEGAL_PERSON, key_id("another holder"), [free])
    for unusable in (
        then(free, ukeys.report_lost(free, enterprise_ctx(uscc), "遗失")),
        then(free, ukeys.freeze(free, window_ctx(), "冒用")),
        _locked(rng, uscc).model_copy(update={"holder_id": holder}),
    ):  # a lost or frozen key is replaced (补办), a locked one unlocked: not bought again
        with refused("legal_person_key_exists"):
            ukeys.check_extra_key(KeyKind.LEGAL_PERSON, holder, [unusable])
    replaced = then(free, ukeys.replace(free, enterprise_ctx(uscc), "8009", "芯片损坏"))
    voided = then(free, ukeys.void(free, window_ctx(), "作废", erase_personal_data=False))
    ukeys.check_extra_key(KeyKind.LEGAL_PERSON, holder, [replaced, voided])


def test_key_expires_ten_years_after_issue(rng: random.Random, uscc: str) -> None:
    key = issued_key(rng, uscc, at=T0)
    assert key.valid_until == datetime(2034, 3, 1, 9, 30, tzinfo=UTC)
    assert key.status(key.valid_until) is KeyStatus.ISSUED
    assert key.status(key.valid_until + timedelta(microseconds=1)) is KeyStatus.EXPIRED
    assert key.days_left(T0) == 3652
    assert key.days_left(key.valid_until + timedelta(days=1)) == -1


def test_a_key_issued_on_29_february_expires_on_28_february() -> None:
    leap = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
    assert add_years(leap, VALIDITY_YEARS) == datetime(2034, 2, 28, 12, 0, tzinfo=UTC)
    assert add_years(datetime(2023, 2, 28, tzinfo=UTC), 1) == datetime(2024, 2, 28, tzinfo=UTC)


def test_a_free_issue_is_the_windows(uscc: str) -> None:
    with refused("role_not_allowed", "actor"):
        ukeys.issue(
            enterprise_ctx(uscc), "8001", KeyKind.OPERATOR, Media.IKEY, uscc, key_id("h"), "王伟"
        )


def test_enterprise_records_a_key_bought_from_a_supplier(rng: random.Random, uscc: str) -> None:
    key = issued_key(rng, uscc, KeyKind.OPERATOR, supplier=Supplier.AISINO)
    assert key.supplier is Supplier.AISINO
    assert key.status(T0) is KeyStatus.ISSUED


@pytest.mark.parametrize(
    ("changes", "rule", "field"),
    [
        ({"card_no": "8001 0002"}, "invalid_card_number", "card_no"),
        (
            {"certificate_number": "03000000000cde6"},
            "invalid_certificate_number",
            "certificate_number",
        ),
        ({"replaces": "8001"}, "same_card_number", "replaces"),
        ({"replaces": "#"}, "invalid_card_number", "replaces"),
        ({"holder_name": "  "}, "holder_name_required", "holder_name"),
    ],
)
def test_issue_checks_its_input(uscc: str, changes: dict[str, str], rule: str, field: str) -> None:
    fields: dict[str, object] = {
        "card_no": "8001",
        "kind": KeyKind.OPERATOR,
        "media": Media.IKEY,
        "uscc": uscc,
        "holder_id": key_id("h"),
        "holder_name": "王伟",
    }
    with refused(rule, field):
        ukeys.issue(window_ctx(), **(fields | changes))  # type: ignore[arg-type]


def test_certificate_number_is_kept_normalised(uscc: str) -> None:
    key: UKey = build(
        ukeys.issue(
            window_ctx(),
            "8001",
            KeyKind.OPERATOR,
            Media.IKEY,
            uscc,
            key_id("h"),
            "王伟",
            certificate_number="03000000000CDE6F",
        )
    )
    assert key.certificate_number == "03000000000cde6f"


# -- mail and delivery ---------------------------------------------------------------------------


def test_window_mails_a_free_key_then_it_is_delivered(rng: random.Random, uscc: str) -> None:
    lp, op = _free_pair(rng, uscc)
    details = mailing_details(rng, lp.card_no, op.card_no)
    events = ukeys.mail(op, window_ctx(), details)
    assert [type(e) for e in events] == [KeyMailed]
    mailed = then(op, events)
    assert mailed.status(T0) is KeyStatus.MAILED
    assert mailed.mailing == details
    delivered = then(mailed, ukeys.deliver(mailed, enterprise_ctx(uscc)))
    assert delivered.status(T0) is KeyStatus.DELIVERED
    assert delivered.delivered_at == T0
    assert delivered.delivered_by is DeliveryChannel.EMS
    assert [type(e) for e in ukeys.deliver(mailed, window_ctx())] == [KeyDelivered]


def test_the_window_hands_a_free_key_over_instead_of_mailing_it(
    rng: random.Random, uscc: str
) -> None:
    lp, op = _free_pair(rng, uscc)
    with refused("role_not_allowed", "actor"):
        ukeys.deliver(lp, enterprise_ctx(uscc), DeliveryChannel.WINDOW)
    events = ukeys.deliver(lp, window_ctx(), DeliveryChannel.WINDOW)
    assert [(type(e), e.channel) for e in events if isinstance(e, KeyDelivered)] == [
        (KeyDelivered, DeliveryChannel.WINDOW)
    ]
    handed = then(lp, events)
    assert (handed.status(T0), handed.delivered_by) == (KeyStatus.DELIVERED, DeliveryChannel.WINDOW)
    with refused("already_delivered", "delivered_at"):
        ukeys.mail(handed, window_ctx(), mailing_details(rng, lp.card_no, op.card_no))
    with refused("already_delivered"):
        ukeys.deliver(handed, window_ctx(), DeliveryChannel.WINDOW)


def test_a_mailed_key_is_not_handed_over_at_the_window(rng: random.Random, uscc: str) -> None:
    with refused("already_mailed", "channel"):
        ukeys.deliver(_mailed(rng, uscc), window_ctx(), DeliveryChannel.WINDOW)


def test_a_bought_key_is_not_delivered(rng: random.Random, uscc: str) -> None:
    bought = issued_key(rng, uscc, KeyKind.OPERATOR, supplier=Supplier.AISINO)
    for channel in DeliveryChannel:
        with refused("not_free_issue", "supplier"):
            ukeys.deliver(bought, window_ctx(), channel)


def test_a_delivery_of_the_first_version_reads_as_by_ems() -> None:
    old = {"originator_id": str(key_id("k")), "originator_version": 3}
    assert KeyDelivered.upcast_v1_v2(dict(old)) == {**old, "channel": "ems"}
    assert KeyDelivered.class_version == 2


def test_a_key_is_mailed_only_once(rng: random.Random, uscc: str) -> None:
    key = _mailed(rng, uscc)
    assert key.mailing is not None
    with refused("already_mailed", "mailing"):
        ukeys.mail(key, window_ctx(), key.mailing)


def test_a_delivered_key_is_not_mailed_again(rng: random.Random, uscc: str) -> None:
    key = _mailed(rng, uscc)
    key = then(key, ukeys.deliver(key, window_ctx()))
    assert key.mailing is not None
    with refused("already_delivered"):
        ukeys.mail(key, window_ctx(), key.mailing)
    with refused("already_delivered"):
        ukeys.deliver(key, window_ctx())


def test_a_bought_key_is_not_mailed_by_the_window(rng: random.Random, uscc: str) -> None:
    key = issued_key(rng, uscc, KeyKind.LEGAL_PERSON, supplier=Supplier.GUANGDONG_NANFANG)
    with refused("not_free_issue"):
        ukeys.mail(key, window_ctx(), mailing_details(rng, key.card_no, "8009"))


def test_mailing_with_another_card_number_is_refused(rng: random.Random, uscc: str) -> None:
    lp, op = _free_pair(rng, uscc)
    swapped = mailing_details(rng, op.card_no, lp.card_no)
    with refused("card_number_mismatch", "legal_person_card_no"):
        ukeys.mail(lp, window_ctx(), swapped)
    with refused("card_number_mismatch", "operator_card_no"):
        ukeys.mail(op, window_ctx(), swapped)


def test_only_the_window_mails(rng: random.Random, uscc: str) -> None:
    lp, op = _free_pair(rng, uscc)
    with refused("role_not_allowed"):
        ukeys.mail(lp, enterprise_ctx(uscc), mailing_details(rng, lp.card_no, op.card_no))


def test_the_pair_goes_in_one_parcel_with_one_form(rng: random.Random, uscc: str) -> None:
    lp, op = _free_pair(rng, uscc)
    details = mailing_details(rng, lp.card_no, op.card_no)
    events = ukeys.mail_pair(lp, op, window_ctx(), details)
    assert [(type(e), e.originator_id) for e in events] == [(KeyMailed, lp.id), (KeyMailed, op.id)]
    assert {e.details for e in events if isinstance(e, KeyMailed)} == {details}
    with refused("card_number_mismatch", "operator_card_no"):
        ukeys.mail_pair(op, lp, window_ctx(), details)


def test_a_pair_with_a_key_that_cannot_go_is_not_mailed(rng: random.Random, uscc: str) -> None:
    lp, op = _free_pair(rng, uscc)
    handed = then(op, ukeys.deliver(op, window_ctx(), DeliveryChannel.WINDOW))
    with refused("already_delivered"):
        ukeys.mail_pair(lp, handed, window_ctx(), mailing_details(rng, lp.card_no, op.card_no))


def test_delivery_needs_a_mailing(rng: random.Random, uscc: str) -> None:
    with refused("not_mailed", "mailing"):
        ukeys.deliver(issued_key(rng, uscc), window_ctx())


# -- PIN -----------------------------------------------------------------------------------------


def test_a_key_is_not_used_before_it_reached_its_holder(rng: random.Random, uscc: str) -> None:
    issued = issued_key(rng, uscc)
    mailed = _mailed(rng, uscc)
    for key in (issued, mailed):
        for ok in (True, False):
            with refused("key_not_delivered", "status"):
                ukeys.record_pin_attempt(key, enterprise_ctx(uscc), ok=ok)
        with refused("key_not_delivered", "status"):
            ukeys.change_pin(key, enterprise_ctx(uscc))
    delivered = then(mailed, ukeys.deliver(mailed, enterprise_ctx(uscc)))
    assert ukeys.record_pin_attempt(delivered, enterprise_ctx(uscc), ok=True)


def test_a_bought_key_is_in_its_holders_hands_from_the_start(rng: random.Random, uscc: str) -> None:
    bought = issued_key(rng, uscc, KeyKind.OPERATOR, supplier=Supplier.AISINO)
    assert bought.status(T0) is KeyStatus.ISSUED
    used = then(bought, ukeys.change_pin(bought, enterprise_ctx(uscc)))
    assert used.status(T0) is KeyStatus.ACTIVE


def test_a_wrong_pin_is_counted(rng: random.Random, uscc: str) -> None:
    key = delivered_key(rng, uscc)
    events = ukeys.record_pin_attempt(key, enterprise_ctx(uscc), ok=False)
    (event,) = events
    assert isinstance(event, PinAttemptFailed)
    assert event.consecutive_failures == 1
    assert then(key, events).attempts_left == 4


def test_fifth_wrong_pin_locks_the_key(rng: random.Random, uscc: str) -> None:
    key = _fail(active_key(rng, uscc), 4)
    assert key.status(T0) is KeyStatus.ACTIVE
    events = ukeys.record_pin_attempt(key, enterprise_ctx(uscc), ok=False)
    assert [type(e) for e in events] == [PinAttemptFailed, PinLocked]
    assert [e.originator_version for e in events] == [key.version + 1, key.version + 2]
    locked = then(key, events)
    assert locked.locked
    assert locked.status(T0) is KeyStatus.LOCKED
    assert locked.attempts_left == 0
    assert not locked.is_usable(T0)


def test_correct_pin_resets_the_failure_count(rng: random.Random, uscc: str) -> None:
    key = _fail(delivered_key(rng, uscc), 4)
    events = ukeys.record_pin_attempt(key, enterprise_ctx(uscc), ok=True)
    assert [type(e) for e in events] == [PinAttemptSucceeded]
    key = then(key, events)
    assert key.consecutive_failures == 0
    key = _fail(key, 4)
    assert not key.locked


def test_first_correct_pin_makes_the_key_active(rng: random.Random, uscc: str) -> None:
    key = _mailed(rng, uscc)
    key = then(key, ukeys.deliver(key, enterprise_ctx(uscc, T0 + timedelta(days=2))))
    assert key.status(T0 + timedelta(days=2)) is KeyStatus.DELIVERED
    key = then(
        key, ukeys.record_pin_attempt(key, enterprise_ctx(uscc, T0 + timedelta(days=3)), ok=True)
    )
    assert key.status(T0 + timedelta(days=3)) is KeyStatus.ACTIVE
    assert key.first_use_at == T0 + timedelta(days=3)


def test_pin_attempts_on_a_locked_key_are_refused(rng: random.Random, uscc: str) -> None:
    key = _locked(rng, uscc)
    for ok in (True, False):
        with refused("key_locked", "status"):
            ukeys.record_pin_attempt(key, enterprise_ctx(uscc), ok=ok)
    with refused("key_locked"):
        ukeys.change_pin(key, enterprise_ctx(uscc))


def test_changing_the_pin_means_it_is_no_longer_the_initial_one(
    rng: random.Random, uscc: str
) -> None:
    key = _fail(delivered_key(rng, uscc), 2)
    key = then(key, ukeys.change_pin(key, enterprise_ctx(uscc)))
    assert not key.pin_is_initial
    assert key.consecutive_failures == 0
    assert key.status(T0) is KeyStatus.ACTIVE


def test_unlocking_restores_the_initial_pin(rng: random.Random, uscc: str) -> None:
    key = _locked(rng, uscc)
    events = ukeys.unlock(key, window_ctx())
    assert [type(e) for e in events] == [PinUnlocked]
    unlocked = then(key, events)
    assert (unlocked.locked, unlocked.consecutive_failures, unlocked.pin_is_initial) == (
        False,
        0,
        True,
    )
    assert unlocked.status(T0) is KeyStatus.ACTIVE


def test_only_the_window_unlocks(rng: random.Random, uscc: str) -> None:
    with refused("role_not_allowed", "actor"):
        ukeys.unlock(_locked(rng, uscc), enterprise_ctx(uscc))


def test_unlocking_a_key_that_is_not_locked_is_refused(rng: random.Random, uscc: str) -> None:
    with refused("not_locked", "status"):
        ukeys.unlock(active_key(rng, uscc), window_ctx())


# -- renewal -------------------------------------------------------------------------------------


def test_renewal_after_pre_approval_extends_validity_and_resets_the_pin(
    rng: random.Random, uscc: str
) -> None:
    key = active_key(rng, uscc)
    key = then(key, ukeys.change_pin(key, enterprise_ctx(uscc)))
    later = T0 + timedelta(days=3000)
    key = _fail(_pre_approved(key, later), 2, later)
    events = ukeys.renew(key, window_ctx(later), "APP-1", all_documents(), "03000000000abcde")
    (event,) = events
    assert isinstance(event, CertificateRenewed)
    assert event.valid_until == add_years(later, 10)
    renewed = then(key, events)
    assert renewed.valid_from == later
    assert renewed.valid_until == add_years(later, 10)
    assert renewed.certificate_number == "03000000000abcde"
    assert (renewed.pin_is_initial, renewed.consecutive_failures) == (True, 0)
    assert renewed.renewals == {"APP-1": "completed"}


def test_renewal_steps_are_recorded(rng: random.Random, uscc: str) -> None:
    key = active_key(rng, uscc)
    requested = ukeys.request_renewal(key, enterprise_ctx(uscc), "APP-1")
    assert [type(e) for e in requested] == [CertificateRenewalRequested]
    key = then(key, requested)
    approved = ukeys.pre_approve_renewal(key, window_ctx(), "APP-1")
    assert [type(e) for e in approved] == [CertificateRenewalPreApproved]
    assert then(key, approved).renewals == {"APP-1": "pre_approved"}


def test_renewal_without_an_introduction_letter_is_refused_naming_it(
    rng: random.Random, uscc: str
) -> None:
    key = _pre_approved(active_key(rng, uscc))
    with refused("renewal_document_missing", "introduction_letter") as info:
        ukeys.renew(key, window_ctx(), "APP-1", all_documents(introduction_letter=False))
    assert "介绍信" in str(info.value)


@pytest.mark.parametrize(
    "missing",
    ["business_licence_original", "clerk_id_card", "introduction_letter", "key_presented"],
)
def test_renewal_needs_every_document(rng: random.Random, uscc: str, missing: str) -> None:
    key = _pre_approved(active_key(rng, uscc))
    with refused("renewal_document_missing", missing):
        ukeys.renew(key, window_ctx(), "APP-1", all_documents(**{missing: False}))


def test_renewal_with_a_malformed_certificate_number_is_refused(
    rng: random.Random, uscc: str
) -> None:
    key = _pre_approved(active_key(rng, uscc))
    with refused("invalid_certificate_number", "certificate_number"):
        ukeys.renew(key, window_ctx(), "APP-1", all_documents(), "not-hex-at-all!!")


def test_renewal_without_pre_approval_is_refused(rng: random.Random, uscc: str) -> None:
    key = active_key(rng, uscc)
    key = then(key, ukeys.request_renewal(key, enterprise_ctx(uscc), "APP-1"))
    with refused("renewal_not_pre_approved", "application_id"):
        ukeys.renew(key, window_ctx(), "APP-1", all_documents())


def test_an_unknown_renewal_application_is_not_found(rng: random.Random, uscc: str) -> None:
    key = active_key(rng, uscc)
    with pytest.raises(NotFoundError) as info:
        ukeys.pre_approve_renewal(key, window_ctx(), "APP-9")
    assert info.value.rule == "unknown_renewal_application"
    with refused("unknown_renewal_application"):
        ukeys.renew(key, window_ctx(), "APP-9", all_documents())


def test_a_renewal_is_pre_approved_once(rng: random.Random, uscc: str) -> None:
    key = _pre_approved(active_key(rng, uscc))
    with refused("renewal_not_requested"):
        ukeys.pre_approve_renewal(key, window_ctx(), "APP-1")


def test_one_renewal_application_at_a_time(rng: random.Random, uscc: str) -> None:
    key = active_key(rng, uscc)
    key = then(key, ukeys.request_renewal(key, enterprise_ctx(uscc), "APP-1"))
    with refused("renewal_application_exists"):
        ukeys.request_renewal(key, enterprise_ctx(uscc), "APP-1")
    with refused("renewal_already_pending"):
        ukeys.request_renewal(key, enterprise_ctx(uscc), "APP-2")


def test_renewal_is_done_by_the_window(rng: random.Random, uscc: str) -> None:
    key = active_key(rng, uscc)
    key = then(key, ukeys.request_renewal(key, enterprise_ctx(uscc), "APP-1"))
    with refused("role_not_allowed"):
        ukeys.pre_approve_renewal(key, enterprise_ctx(uscc), "APP-1")
    key = then(key, ukeys.pre_approve_renewal(key, window_ctx(), "APP-1"))
    with refused("role_not_allowed"):
        ukeys.renew(key, enterprise_ctx(uscc), "APP-1", all_documents())


def test_an_expired_key_is_renewed_at_the_window(rng: random.Random, uscc: str) -> None:
    key = active_key(rng, uscc)
    late = key.valid_until + timedelta(days=30)
    assert key.status(late) is KeyStatus.EXPIRED
    key = _pre_approved(key, late)
    renewed = then(key, ukeys.renew(key, window_ctx(late), "APP-1", all_documents()))
    assert renewed.status(late) is KeyStatus.ACTIVE
    assert renewed.is_active_legal_person_key_of(uscc, late)


def test_a_locked_key_is_renewed_and_unlocked(rng: random.Random, uscc: str) -> None:
    key = _pre_approved(_locked(rng, uscc))
    renewed = then(key, ukeys.renew(key, window_ctx(), "APP-1", all_documents()))
    assert not renewed.locked
    assert renewed.status(T0) is KeyStatus.ACTIVE


def test_renewal_is_refused_on_a_lost_key(rng: random.Random, uscc: str) -> None:
    key = active_key(rng, uscc)
    key = then(key, ukeys.report_lost(key, enterprise_ctx(uscc), "遗失"))
    with refused("key_not_usable", "status") as info:
        ukeys.request_renewal(key, enterprise_ctx(uscc), "APP-1")
    assert "lost" in str(info.value)


# -- expiry, loss, freeze, void, replacement -------------------------------------------------------


def test_nothing_works_on_an_expired_key(rng: random.Random, uscc: str) -> None:
    key = active_key(rng, uscc)
    late = window_ctx(key.valid_until + timedelta(seconds=1))
    commands: list[Callable[[], list[DomainEvent]]] = [
        lambda: ukeys.record_pin_attempt(key, late, ok=True),
        lambda: ukeys.change_pin(key, late),
        lambda: ukeys.report_lost(key, late, "遗失"),
        lambda: ukeys.freeze(key, late, "冒用"),
        lambda: ukeys.replace(key, late, "8009", "故障"),
    ]
    for command in commands:
        with refused("key_not_usable") as info:
            command()
        assert "expired" in str(info.value)
    assert not key.is_active_legal_person_key_of(uscc, late.at)


def test_a_lost_key_is_unusable(rng: random.Random, uscc: str) -> None:
    key = active_key(rng, uscc)
    key = then(key, ukeys.report_lost(key, enterprise_ctx(uscc), "出差途中遗失"))
    assert key.status(T0) is KeyStatus.LOST
    assert key.last_incident_reason == "出差途中遗失"
    with refused("key_not_usable"):
        ukeys.record_pin_attempt(key, enterprise_ctx(uscc), ok=True)
    with refused("key_not_usable"):
        ukeys.report_lost(key, enterprise_ctx(uscc), "again")
    with refused("key_not_usable"):
        ukeys.unlock(key, window_ctx())


def test_the_window_freezes_a_key(rng: random.Random, uscc: str) -> None:
    key = active_key(rng, uscc)
    with refused("role_not_allowed"):
        ukeys.freeze(key, enterprise_ctx(uscc), "冒用")
    frozen = then(key, ukeys.freeze(key, window_ctx(), "提供虚假信息"))
    assert frozen.status(T0) is KeyStatus.FROZEN
    with refused("key_not_usable"):
        ukeys.mail(frozen, window_ctx(), mailing_details(rng, key.card_no, "8009"))


def test_the_window_lifts_a_freeze(rng: random.Random, uscc: str) -> None:
    key = active_key(rng, uscc)
    with refused("not_frozen", "status"):
        ukeys.unfreeze(key, window_ctx(), "核实无误")
    frozen = then(key, ukeys.freeze(key, window_ctx(), "冒用嫌疑"))
    with refused("role_not_allowed", "actor"):
        ukeys.unfreeze(frozen, enterprise_ctx(uscc), "核实无误")
    with refused("reason_required", "reason"):
        ukeys.unfreeze(frozen, window_ctx(), " ")
    events = ukeys.unfreeze(frozen, window_ctx(), "经核实信息真实，解除冻结")
    assert [type(e) for e in events] == [KeyUnfrozen]
    unfrozen = then(frozen, events)
    assert (unfrozen.status(T0), unfrozen.frozen, unfrozen.last_incident_reason) == (
        KeyStatus.ACTIVE,
        False,
        None,
    )
    assert ukeys.record_pin_attempt(unfrozen, enterprise_ctx(uscc), ok=True)


def test_a_void_or_replaced_key_stays_so(rng: random.Random, uscc: str) -> None:
    key = active_key(rng, uscc)
    frozen = then(key, ukeys.freeze(key, window_ctx(), "冒用嫌疑"))
    replaced = then(frozen, ukeys.replace(frozen, window_ctx(), "8009", "冻结后补办"))
    voided = then(frozen, ukeys.void(frozen, window_ctx(), "作废", erase_personal_data=False))
    for ended in (replaced, voided):
        with refused("key_not_usable", "status"):
            ukeys.unfreeze(ended, window_ctx(), "核实无误")


@pytest.mark.parametrize("command", ["report_lost", "freeze", "void", "replace"])
def test_incidents_need_a_reason(rng: random.Random, uscc: str, command: str) -> None:
    key = active_key(rng, uscc)
    with refused("reason_required", "reason"):
        if command == "void":
            ukeys.void(key, window_ctx(), " ", erase_personal_data=False)
        elif command == "replace":
            ukeys.replace(key, window_ctx(), "8009", "")
        else:
            getattr(ukeys, command)(key, window_ctx(), "")


def test_voiding_erases_personal_data_when_asked(rng: random.Random, uscc: str) -> None:
    key = _mailed(rng, uscc)
    voided = then(
        key, ukeys.void(key, enterprise_ctx(uscc), "持卡人撤回同意", erase_personal_data=True)
    )
    assert voided.status(T0) is KeyStatus.VOID
    assert (voided.holder_name, voided.mailing, voided.personal_data_erased) == (None, None, True)
    kept = then(key, ukeys.void(key, enterprise_ctx(uscc), "卡号遗失", erase_personal_data=False))
    assert kept.holder_name == key.holder_name
    assert not kept.personal_data_erased


def test_anything_not_yet_void_can_be_voided_once(rng: random.Random, uscc: str) -> None:
    key = _locked(rng, uscc)
    key = then(key, ukeys.report_lost(key, enterprise_ctx(uscc), "遗失"))
    late = window_ctx(key.valid_until + timedelta(days=1))
    voided = then(key, ukeys.void(key, late, "卡号遗失", erase_personal_data=False))
    assert voided.status(late.at) is KeyStatus.VOID
    with refused("key_not_usable") as info:
        ukeys.void(voided, window_ctx(), "again", erase_personal_data=True)
    assert "void" in str(info.value)


def test_a_lost_key_is_replaced_and_the_chain_kept(rng: random.Random, uscc: str) -> None:
    old = active_key(rng, uscc)
    old = then(old, ukeys.report_lost(old, enterprise_ctx(uscc), "遗失"))
    events = ukeys.replace(old, enterprise_ctx(uscc), "8000000000000099", "遗失补办")
    assert [type(e) for e in events] == [KeyReplaced]
    old = then(old, events)
    assert old.replaced_by == "8000000000000099"
    assert old.status(T0) is KeyStatus.REPLACED
    new: UKey = build(
        ukeys.issue(
            enterprise_ctx(uscc),
            "8000000000000099",
            old.kind,
            Media.IKEY,
            uscc,
            old.holder_id,
            "王伟",
            supplier=Supplier.BEIJING_TONGFANG,
            replaces=old.card_no,
        )
    )
    assert new.replaces == old.card_no
    with refused("key_not_usable", "status"):
        ukeys.replace(old, enterprise_ctx(uscc), "8000000000000100", "again")


def test_a_frozen_or_faulty_key_can_be_replaced(rng: random.Random, uscc: str) -> None:
    faulty = active_key(rng, uscc)
    assert ukeys.replace(faulty, enterprise_ctx(uscc), "8009", "芯片损坏")
    frozen = then(faulty, ukeys.freeze(faulty, window_ctx(), "冒用"))
    assert ukeys.replace(frozen, window_ctx(), "8009", "冻结后补办")


def test_a_void_key_cannot_be_replaced(rng: random.Random, uscc: str) -> None:
    key = active_key(rng, uscc)
    key = then(key, ukeys.void(key, window_ctx(), "作废", erase_personal_data=False))
    with refused("key_not_usable"):
        ukeys.replace(key, window_ctx(), "8009", "补办")


def test_a_key_cannot_replace_itself(rng: random.Random, uscc: str) -> None:
    key = active_key(rng, uscc)
    with refused("same_card_number", "new_card_no"):
        ukeys.replace(key, window_ctx(), key.card_no, "补办")


def test_status_precedence(rng: random.Random, uscc: str) -> None:
    key = _locked(rng, uscc)
    assert key.status(key.valid_until + timedelta(days=1)) is KeyStatus.EXPIRED
    lost = then(key, ukeys.report_lost(key, enterprise_ctx(uscc), "遗失"))
    assert lost.status(T0) is KeyStatus.LOST
    replaced = then(lost, ukeys.replace(lost, enterprise_ctx(uscc), "8009", "补办"))
    assert replaced.status(T0) is KeyStatus.REPLACED
    voided = then(replaced, ukeys.void(replaced, window_ctx(), "作废", erase_personal_data=False))
    assert voided.status(T0) is KeyStatus.VOID


def test_only_a_usable_legal_person_key_of_the_enterprise_is_active_for_it(
    rng: random.Random, uscc: str
) -> None:
    assert active_key(rng, uscc).is_active_legal_person_key_of(uscc, T0)
    assert not active_key(rng, uscc, KeyKind.OPERATOR).is_active_legal_person_key_of(uscc, T0)
    assert not active_key(rng, uscc).is_active_legal_person_key_of(make_uscc(rng), T0)
    assert not _locked(rng, uscc).is_active_legal_person_key_of(uscc, T0)


# -- events --------------------------------------------------------------------------------------


def _all_event_classes() -> list[type[DomainEvent]]:
    modules = (domain.enterprise.events, domain.card_holder.events, domain.ukey.events)
    return [
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, DomainEvent) and value is not DomainEvent
    ]


def _lifecycle(seed: int) -> list[DomainEvent]:
    rng = random.Random(seed)
    uscc = make_uscc(rng)
    lp_card, op_card = "8000000000000001", "0800000000000002"
    events = ukeys.issue(
        window_ctx(), lp_card, KeyKind.LEGAL_PERSON, Media.IKEY, uscc, key_id("h"), "王伟"
    )
    key: UKey = build(events)
    steps: list[Callable[[UKey], list[DomainEvent]]] = [
        lambda k: ukeys.mail(k, window_ctx(), mailing_details(rng, lp_card, op_card)),
        lambda k: ukeys.deliver(k, window_ctx()),
        lambda k: ukeys.record_pin_attempt(k, enterprise_ctx(uscc), ok=True),
        lambda k: ukeys.change_pin(k, enterprise_ctx(uscc)),
        lambda k: ukeys.freeze(k, window_ctx(), "冒用嫌疑"),
        lambda k: ukeys.unfreeze(k, window_ctx(), "核实无误"),
        *[lambda k: ukeys.record_pin_attempt(k, enterprise_ctx(uscc), ok=False)] * 5,
        lambda k: ukeys.unlock(k, window_ctx()),
        lambda k: ukeys.request_renewal(k, enterprise_ctx(uscc), "APP-1"),
        lambda k: ukeys.pre_approve_renewal(k, window_ctx(), "APP-1"),
        lambda k: ukeys.renew(k, window_ctx(), "APP-1", all_documents()),
        lambda k: ukeys.report_lost(k, enterprise_ctx(uscc), "遗失"),
        lambda k: ukeys.replace(k, enterprise_ctx(uscc), "8000000000000003", "补办"),
        lambda k: ukeys.void(k, window_ctx(), "作废", erase_personal_data=True),
    ]
    for step in steps:
        new = step(key)
        events += new
        key = then(key, new)
    return events


def test_no_event_has_a_pin_field() -> None:
    classes = _all_event_classes()
    assert len(classes) == 6 + 3 + 16
    for event_class in classes:
        assert not [name for name in event_class.model_fields if "pin" in name.lower()]
    stored = "".join(event.model_dump_json() for event in _lifecycle(1))
    assert "88888888" not in stored
    assert '"pin' not in stored.lower()


def test_the_whole_lifecycle_covers_every_key_event() -> None:
    names = {type(event).__name__ for event in _lifecycle(1)}
    ukey_events = {c.__name__ for c in _all_event_classes() if c.__module__ == "domain.ukey.events"}
    assert ukey_events - names == set()


def test_same_context_gives_identical_event_bytes() -> None:
    first = [event.model_dump_json() for event in _lifecycle(5)]
    assert first == [event.model_dump_json() for event in _lifecycle(5)]


def test_key_events_round_trip_through_json_and_rebuild_the_same_key() -> None:
    events = _lifecycle(2)
    copies = [type(e).model_validate_json(e.model_dump_json()) for e in events]
    assert copies == events
    assert build(copies) == build(events)
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
