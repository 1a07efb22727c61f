"""The CardHolder aggregate: card holders of an enterprise and their business permissions."""

from __future__ import annotations

import random

import pytest

from domain.card_holder import decisions as card_holders
from domain.card_holder.events import OperatorRegistered, PermissionsGranted, PermissionsRevoked
from domain.card_holder.state import CardHolder
from domain.enterprise.state import Enterprise
from domain.forms import (
    CUSTOMS_PERMISSIONS,
    CustomsDeclarer,
    KeyKind,
    LegalPersonHolder,
    Permission,
)
from domain.identifier_generators import make_uscc
from domain.ukey import decisions as ukeys
from tests.factories import (
    active_key,
    approved_enterprise,
    build,
    enterprise_ctx,
    filed_enterprise,
    form_holder_ids,
    ic_card_form_of,
    refused,
    register_form_holders,
    register_holder,
    then,
    valid_ic_card_form,
    valid_legal_person,
    valid_operator_holder,
    window_ctx,
)

UPLOAD = Permission.DECLARATION_UPLOAD
VIEW = Permission.PAYMENT_VIEW
FOREX_ENTRY = Permission.FOREX_RECEIPT_ENTRY


@pytest.fixture
def rng() -> random.Random:
    return random.Random(68516652)


@pytest.fixture
def enterprise(rng: random.Random) -> Enterprise:
    return approved_enterprise(rng)


def _operator(rng: random.Random, enterprise: Enterprise, *permissions: Permission) -> CardHolder:
    events = register_holder(window_ctx(), enterprise, KeyKind.OPERATOR, valid_operator_holder(rng))
    operator: CardHolder = build(events)
    if permissions:
        operator = then(operator, card_holders.grant(operator, window_ctx(), permissions, None))
    return operator


# -- holders from the IC-card form -----------------------------------------------------------------


def test_approval_registers_both_holders_and_grants_the_permissions_asked(
    enterprise: Enterprise,
) -> None:
    form = ic_card_form_of(enterprise)
    events = register_form_holders(window_ctx(), enterprise, form)
    assert [type(e) for e in events] == [OperatorRegistered, OperatorRegistered, PermissionsGranted]
    legal_person, operator, granted = events
    uscc = enterprise.uscc
    ids = form_holder_ids(uscc, form)
    assert legal_person.originator_id == ids[KeyKind.LEGAL_PERSON]
    assert operator.originator_id == ids[KeyKind.OPERATOR]
    assert granted.originator_id == operator.originator_id
    assert granted.originator_version == 2
    holder: CardHolder = build(events[1:])
    assert holder.permissions == form.customs_permissions | form.forex_permissions
    assert holder.customs_declarer == form.customs_declarer
    assert holder.holder_kind is KeyKind.OPERATOR
    lp: CardHolder = build(events[:1])
    assert lp.holder_kind is KeyKind.LEGAL_PERSON
    assert lp.warnings == ()


def test_a_form_asking_no_permissions_grants_none(rng: random.Random) -> None:
    enterprise = approved_enterprise(rng)
    form = valid_ic_card_form(rng, customs_permissions=frozenset(), forex_permissions=frozenset())
    events = register_form_holders(window_ctx(), enterprise, form)
    assert [type(e) for e in events] == [OperatorRegistered, OperatorRegistered]


def test_the_same_person_as_legal_person_and_operator_is_warned_not_refused(
    rng: random.Random, enterprise: Enterprise
) -> None:
    operator = valid_operator_holder(rng)
    legal_person = LegalPersonHolder(
        **valid_legal_person(rng).model_dump() | {"id_number": operator.id_number}
    )
    form = valid_ic_card_form(rng, legal_person=legal_person, operator=operator)
    registered = [
        e
        for e in register_form_holders(window_ctx(), enterprise, form)
        if isinstance(e, OperatorRegistered)
    ]
    assert len({e.originator_id for e in registered}) == 2
    for event in registered:
        assert event.warnings
        assert "同一人" in event.warnings[0]


def test_holders_are_registered_only_for_an_approved_enterprise(rng: random.Random) -> None:
    enterprise = filed_enterprise(rng)
    with refused("enterprise_not_approved"):
        register_form_holders(window_ctx(), enterprise, ic_card_form_of(enterprise))


# -- registering more holders ----------------------------------------------------------------------


def test_enterprise_registers_an_operator_with_its_legal_person_key(
    rng: random.Random, enterprise: Enterprise
) -> None:
    key = active_key(rng, enterprise.uscc)
    holder = valid_operator_holder(rng)
    declarer = CustomsDeclarer(certificate_number="BG123")
    events = register_holder(
        enterprise_ctx(enterprise.uscc),
        enterprise,
        KeyKind.OPERATOR,
        holder,
        customs_declarer=declarer,
        authorising_key=key,
    )
    (event,) = events
    assert isinstance(event, OperatorRegistered)
    assert event.authorising_card_no == key.card_no
    assert event.warnings == ()
    operator: CardHolder = build(events)
    assert (operator.uscc, operator.holder, operator.customs_declarer) == (
        enterprise.uscc,
        holder,
        declarer,
    )
    assert operator.permissions == frozenset()


def test_registering_an_operator_who_is_the_legal_person_is_warned(
    rng: random.Random, enterprise: Enterprise
) -> None:
    holder = valid_operator_holder(rng)
    (event,) = register_holder(
        window_ctx(),
        enterprise,
        KeyKind.OPERATOR,
        holder,
        other_holders_id_numbers=[holder.id_number],
    )
    assert isinstance(event, OperatorRegistered)
    assert len(event.warnings) == 1


def test_registering_without_a_key_is_for_window_staff_only(
    rng: random.Random, enterprise: Enterprise
) -> None:
    with refused("legal_person_key_required", "authorising_key"):
        register_holder(
            enterprise_ctx(enterprise.uscc),
            enterprise,
            KeyKind.OPERATOR,
            valid_operator_holder(rng),
        )


@pytest.mark.parametrize("which", ["operator_key", "other_enterprise", "lost"])
def test_registering_with_an_unfit_key_is_refused(
    rng: random.Random, enterprise: Enterprise, which: str
) -> None:
    ctx = enterprise_ctx(enterprise.uscc)
    if which == "operator_key":
        key = active_key(rng, enterprise.uscc, KeyKind.OPERATOR)
    elif which == "other_enterprise":
        key = active_key(rng, make_uscc(rng))
    else:
        key = active_key(rng, enterprise.uscc)
        key = then(key, ukeys.report_lost(key, ctx, "遗失"))
    with refused("legal_person_key_required", "authorising_key"):
        register_holder(
            ctx, enterprise, KeyKind.OPERATOR, valid_operator_holder(rng), authorising_key=key
        )


def test_registering_before_approval_is_refused(rng: random.Random) -> None:
    enterprise = filed_enterprise(rng)
    with refused("enterprise_not_approved"):
        register_holder(window_ctx(), enterprise, KeyKind.OPERATOR, valid_operator_holder(rng))


def test_holder_must_fit_the_holder_kind(rng: random.Random, enterprise: Enterprise) -> None:
    with refused("holder_kind_mismatch", "holder"):
        register_holder(window_ctx(), enterprise, KeyKind.OPERATOR, valid_legal_person(rng))
    with refused("holder_kind_mismatch", "holder"):
        register_holder(window_ctx(), enterprise, KeyKind.LEGAL_PERSON, valid_operator_holder(rng))


def test_declarer_filing_is_for_operators_only(rng: random.Random, enterprise: Enterprise) -> None:
    with refused("not_an_operator"):
        register_holder(
            window_ctx(),
            enterprise,
            KeyKind.LEGAL_PERSON,
            valid_legal_person(rng),
            customs_declarer=CustomsDeclarer(certificate_number="BG1"),
        )


# -- permissions ---------------------------------------------------------------------------------


def test_legal_person_key_grants_permissions(rng: random.Random, enterprise: Enterprise) -> None:
    operator = _operator(rng, enterprise)
    key = active_key(rng, enterprise.uscc)
    events = card_holders.grant(
        operator, enterprise_ctx(enterprise.uscc), [UPLOAD, FOREX_ENTRY], key
    )
    (event,) = events
    assert isinstance(event, PermissionsGranted)
    assert event.authorising_card_no == key.card_no
    assert then(operator, events).permissions == {UPLOAD, FOREX_ENTRY}


def test_granting_a_held_permission_is_refused(rng: random.Random, enterprise: Enterprise) -> None:
    operator = _operator(rng, enterprise, UPLOAD)
    with refused("permission_already_granted", "permissions"):
        card_holders.grant(operator, window_ctx(), [UPLOAD, VIEW], None)


def test_revoking_a_permission_not_held_is_refused(
    rng: random.Random, enterprise: Enterprise
) -> None:
    operator = _operator(rng, enterprise, UPLOAD)
    with refused("permission_not_granted", "permissions"):
        card_holders.revoke(operator, window_ctx(), [VIEW], None)


def test_revoking_takes_the_permission_away(rng: random.Random, enterprise: Enterprise) -> None:
    operator = _operator(rng, enterprise, UPLOAD, VIEW)
    events = card_holders.revoke(operator, window_ctx(), [UPLOAD], None)
    assert [type(e) for e in events] == [PermissionsRevoked]
    assert then(operator, events).permissions == {VIEW}


def test_granting_or_revoking_nothing_is_refused(
    rng: random.Random, enterprise: Enterprise
) -> None:
    operator = _operator(rng, enterprise, UPLOAD)
    with refused("no_permissions", "permissions"):
        card_holders.grant(operator, window_ctx(), [], None)
    with refused("no_permissions", "permissions"):
        card_holders.revoke(operator, window_ctx(), [], None)


def test_permissions_go_to_operators_not_the_legal_person(
    rng: random.Random, enterprise: Enterprise
) -> None:
    legal_person: CardHolder = build(
        register_holder(window_ctx(), enterprise, KeyKind.LEGAL_PERSON, valid_legal_person(rng))
    )
    with refused("not_an_operator"):
        card_holders.grant(legal_person, window_ctx(), [UPLOAD], None)


def test_enterprise_changes_permissions_only_with_its_legal_person_key(
    rng: random.Random, enterprise: Enterprise
) -> None:
    operator = _operator(rng, enterprise, UPLOAD)
    ctx = enterprise_ctx(enterprise.uscc)
    operator_key = active_key(rng, enterprise.uscc, KeyKind.OPERATOR)
    for key in (None, operator_key):
        with refused("legal_person_key_required", "authorising_key"):
            card_holders.grant(operator, ctx, [VIEW], key)
        with refused("legal_person_key_required", "authorising_key"):
            card_holders.revoke(operator, ctx, [UPLOAD], key)
        with refused("legal_person_key_required", "authorising_key"):
            card_holders.set_permissions(operator, ctx, [UPLOAD], key)


def test_set_permissions_grants_the_added_and_revokes_the_removed(
    rng: random.Random, enterprise: Enterprise
) -> None:
    operator = _operator(rng, enterprise, UPLOAD, VIEW)
    key = active_key(rng, enterprise.uscc)
    desired = {VIEW, FOREX_ENTRY, Permission.EXPRESS_ENTRY}
    events = card_holders.set_permissions(operator, enterprise_ctx(enterprise.uscc), desired, key)
    assert [type(e) for e in events] == [PermissionsGranted, PermissionsRevoked]
    granted, revoked = events
    assert isinstance(granted, PermissionsGranted)
    assert isinstance(revoked, PermissionsRevoked)
    assert granted.permissions == {FOREX_ENTRY, Permission.EXPRESS_ENTRY}
    assert revoked.permissions == {UPLOAD}
    assert [e.originator_version for e in events] == [operator.version + 1, operator.version + 2]
    assert then(operator, events).permissions == desired


def test_set_permissions_only_revoking(rng: random.Random, enterprise: Enterprise) -> None:
    operator = _operator(rng, enterprise, UPLOAD, VIEW)
    events = card_holders.set_permissions(operator, window_ctx(), [VIEW], None)
    assert [type(e) for e in events] == [PermissionsRevoked]
    assert events[0].originator_version == operator.version + 1


def test_set_permissions_unchanged_gives_no_events(
    rng: random.Random, enterprise: Enterprise
) -> None:
    operator = _operator(rng, enterprise, UPLOAD, VIEW)
    assert card_holders.set_permissions(operator, window_ctx(), [VIEW, UPLOAD], None) == []


def test_granted_permissions_serialise_sorted(rng: random.Random, enterprise: Enterprise) -> None:
    operator = _operator(rng, enterprise)
    (event,) = card_holders.grant(operator, window_ctx(), CUSTOMS_PERMISSIONS, None)
    stored = event.model_dump(mode="json")["permissions"]
    assert stored == sorted(stored)
    assert type(event).model_validate_json(event.model_dump_json()) == event


def test_card_holder_events_round_trip_through_json(enterprise: Enterprise) -> None:
    events = register_form_holders(window_ctx(), enterprise, ic_card_form_of(enterprise))
    copies = [type(e).model_validate_json(e.model_dump_json()) for e in events]
    assert copies == events
    assert build(copies[:1]).holder == events[0].holder  # type: ignore[attr-defined]
