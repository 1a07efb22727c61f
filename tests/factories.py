"""Builders of valid contexts, forms, filings and aggregates for tests at every level."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pytest

from domain.base import (
    Actor,
    Aggregate,
    CommandContext,
    DomainError,
    DomainEvent,
    Role,
    project,
)
from domain.card_holder import decisions as card_holders
from domain.card_holder.decisions import holders_from_form
from domain.enterprise import decisions as enterprises
from domain.enterprise.state import Enterprise
from domain.filings import (
    CustomsFiling,
    Filing,
    FilingKind,
    ForexFiling,
    OperatorPreentryFiling,
    ThreeInOneFiling,
    ThreeInOneMaterials,
)
from domain.forms import (
    CustomsDeclarer,
    ExpressHandoverForm,
    Gender,
    IcCardRegistrationForm,
    IdType,
    KeyKind,
    LegalPersonHolder,
    MailingDetails,
    Media,
    OperatorHolder,
    Permission,
    RenewalDocuments,
    Signature,
    Supplier,
    VerificationOfficer,
)
from domain.identifier_generators import (
    make_card_number,
    make_customs_code,
    make_mobile,
    make_resident_id,
    make_s10,
    make_uscc,
)
from domain.identifiers import birth_date_of
from domain.region import HAINAN, RegionConfig
from domain.ukey import decisions as ukeys
from domain.ukey.events import DeliveryChannel
from domain.ukey.state import UKey

T0 = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
"""A fixed command time: tests never read the clock."""

A = TypeVar("A", bound=Aggregate)

_SURNAMES = "王李张刘陈杨黄赵吴周"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明"


def build(events: Iterable[DomainEvent]) -> Any:
    """The aggregate the events create (the first event must be a creation event)."""
    return project(None, events)


def then(aggregate: A, events: Iterable[DomainEvent]) -> A:
    """The aggregate after the events a command returned."""
    return aggregate.evolve(events)


@contextmanager
def refused(rule: str, field: str | None = None) -> Iterator[pytest.ExceptionInfo[DomainError]]:
    """Expect the block to raise a DomainError naming `rule` (and `field`, when given)."""
    with pytest.raises(DomainError) as info:
        yield info
    error = info.value
    assert error.rule == rule, f"refused by {error.rule!r}, expected {rule!r}: {error}"
    if field is not None:
        assert error.field == field, f"refusal names {error.field!r}, expected {field!r}: {error}"


def window_ctx(at: datetime = T0, request_id: str | None = None) -> CommandContext:
    """A command from window staff at `at`."""
    actor = Actor(principal_id="window-clerk-01", role=Role.WINDOW)
    return CommandContext(actor=actor, at=at, request_id=request_id)


def enterprise_ctx(uscc: str, at: datetime = T0, request_id: str | None = None) -> CommandContext:
    """A command from the enterprise `uscc` (its legal-person key holder) at `at`."""
    actor = Actor(principal_id=f"enterprise:{uscc}", role=Role.ENTERPRISE)
    return CommandContext(actor=actor, at=at, request_id=request_id)


def person_name(rng: random.Random) -> str:
    """A plausible Chinese name."""
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.randint(1, 2)))


def valid_legal_person(rng: random.Random) -> LegalPersonHolder:
    """法人卡持卡人 with a valid resident ID and mobile."""
    return LegalPersonHolder(
        name=person_name(rng),
        gender=rng.choice(list(Gender)),
        nationality="中国",
        position="总经理",
        phone=make_mobile(rng),
        id_type=IdType.RESIDENT_ID,
        id_number=make_resident_id(rng),
    )


def valid_operator_holder(rng: random.Random, media: Media = Media.IKEY) -> OperatorHolder:
    """操作员卡持卡人 whose birth date agrees with the resident ID."""
    id_number = make_resident_id(rng)
    return OperatorHolder(
        media=media,
        name=person_name(rng),
        gender=rng.choice(list(Gender)),
        education="本科",
        id_type=IdType.RESIDENT_ID,
        id_number=id_number,
        birth_date=birth_date_of(id_number),
        nationality="中国",
        position="报关专员",
        household_address="海南省海口市秀英区长滨路1号",
        user_address="海南省海口市龙华区滨海大道88号",
        postcode="570311",
        email=f"op{rng.randrange(10_000)}@example.cn",
        phone=make_mobile(rng),
        fax="0898-68516652",
    )


def valid_ic_card_form(rng: random.Random, **overrides: Any) -> IcCardRegistrationForm:
    """A complete 中国电子口岸企业IC卡登记表 asking for a few customs and forex permissions."""
    fields: dict[str, Any] = {
        "legal_person": valid_legal_person(rng),
        "operator": valid_operator_holder(rng),
        "customs_declarer": CustomsDeclarer(
            certificate_number=f"BG{rng.randrange(10**8):08d}",
            exam_score=82,
            declaration_category="进出口货物",
            issue_date=date(2020, 5, 1),
            registration_valid_until=date(2026, 5, 1),
        ),
        "customs_permissions": frozenset(
            {Permission.DECLARATION_UPLOAD, Permission.DECLARATION_REVIEW_AND_DECLARE}
        ),
        "verification_officer": VerificationOfficer(certificate_number=f"HX{rng.randrange(10**6)}"),
        "forex_permissions": frozenset({Permission.FOREX_RECEIPT_ENTRY}),
        "seal_date": date(2024, 2, 20),
    }
    return IcCardRegistrationForm(**(fields | overrides))


def valid_express_form(
    rng: random.Random, company_name: str = "海南示例贸易有限公司"
) -> ExpressHandoverForm:
    """The applicant's part of the EMS handover form."""
    return ExpressHandoverForm(
        company_name=company_name,
        recipient_address="海南省海口市龙华区滨海大道88号",
        postcode="570105",
        recipient_name=person_name(rng),
        recipient_phone=make_mobile(rng),
    )


def valid_filings(
    uscc: str,
    customs_code: str,
    rng: random.Random,
    region: RegionConfig = HAINAN,
    form: IcCardRegistrationForm | None = None,
    company_name: str = "海南示例贸易有限公司",
) -> dict[FilingKind, Filing]:
    """The four filings, with the region's codes and the enterprise's customs code."""
    form = form or valid_ic_card_form(rng)
    materials = ThreeInOneMaterials(
        ic_card_registration_form=form, express_handover_form=valid_express_form(rng, company_name)
    )
    return {
        FilingKind.THREE_IN_ONE: ThreeInOneFiling(
            company_name=company_name,
            legal_representative=form.legal_person.name,
            business_address="海南省海口市龙华区滨海大道88号",
            business_registration_dept_code=region.business_registration_dept_code,
            commerce_authority_code=region.commerce_authority_code,
            materials=materials,
        ),
        FilingKind.CUSTOMS: CustomsFiling(
            customs_code=customs_code,
            company_name=company_name,
            receipt_number=f"HZ{uscc[-6:]}",
            receipt_date=date(2024, 1, 15),
        ),
        FilingKind.FOREX: ForexFiling(
            forex_bureau_code=region.forex_bureau_code, company_name=company_name
        ),
        FilingKind.OPERATOR_PREENTRY: OperatorPreentryFiling(operators=(form.operator,)),
    }


def registered_enterprise(
    rng: random.Random, at: datetime = T0, region: RegionConfig = HAINAN
) -> Enterprise:
    """A freshly registered enterprise of the region (draft, no filings)."""
    uscc = make_uscc(rng, region_prefix=region.province_prefix + "01")
    customs_code = make_customs_code(rng, province=region.province_prefix)
    ctx = enterprise_ctx(uscc, at)
    events = enterprises.register(
        ctx, uscc, "海南示例贸易有限公司", customs_code, f"HZ{uscc[-6:]}", region
    )
    enterprise: Enterprise = build(events)
    return enterprise


def filed_enterprise(
    rng: random.Random, at: datetime = T0, region: RegionConfig = HAINAN
) -> Enterprise:
    """An enterprise with all four filings in, awaiting review."""
    enterprise = registered_enterprise(rng, at, region)
    for filing in valid_filings(enterprise.uscc, enterprise.customs_code, rng, region).values():
        ctx = enterprise_ctx(enterprise.uscc, at)
        enterprise = then(enterprise, enterprises.submit_filing(enterprise, ctx, filing, region))
    return enterprise


def approved_enterprise(
    rng: random.Random, at: datetime = T0, region: RegionConfig = HAINAN
) -> Enterprise:
    """An enterprise the window approved."""
    enterprise = filed_enterprise(rng, at, region)
    return then(enterprise, enterprises.approve(enterprise, window_ctx(at), region.window_name))


def ic_card_form_of(enterprise: Enterprise) -> IcCardRegistrationForm:
    """The IC-card registration form uploaded with an enterprise's three-in-one filing."""
    filing = enterprise.filings[FilingKind.THREE_IN_ONE]
    assert isinstance(filing, ThreeInOneFiling)
    return filing.materials.ic_card_registration_form


def issued_key(
    rng: random.Random,
    uscc: str,
    kind: KeyKind = KeyKind.LEGAL_PERSON,
    at: datetime = T0,
    supplier: Supplier | None = None,
    card_no: str | None = None,
) -> UKey:
    """A key just issued (free by the window unless a supplier is named)."""
    card_no = card_no or make_card_number(rng)
    holder = test_holder_id(uscc, kind, make_resident_id(rng))
    ctx = window_ctx(at) if supplier is None else enterprise_ctx(uscc, at)
    key: UKey = build(
        ukeys.issue(ctx, card_no, kind, Media.IKEY, uscc, holder, person_name(rng), supplier)
    )
    return key


def delivered_key(
    rng: random.Random, uscc: str, kind: KeyKind = KeyKind.LEGAL_PERSON, at: datetime = T0
) -> UKey:
    """A free key in its holder's hands: issued, then handed over at the window."""
    key = issued_key(rng, uscc, kind, at)
    return then(key, ukeys.deliver(key, window_ctx(at), DeliveryChannel.WINDOW))


def active_key(
    rng: random.Random, uscc: str, kind: KeyKind = KeyKind.LEGAL_PERSON, at: datetime = T0
) -> UKey:
    """A key in use: issued, handed over, and opened once with the right PIN."""
    key = delivered_key(rng, uscc, kind, at)
    return then(key, ukeys.record_pin_attempt(key, enterprise_ctx(uscc, at), ok=True))


def mailing_details(
    rng: random.Random, lp_card_no: str, op_card_no: str, at: datetime = T0
) -> MailingDetails:
    """The completed EMS handover form for the free pair."""
    day = at.date()
    return MailingDetails(
        case_number=f"HN{rng.randrange(10**10):010d}",
        order_number=f"DD{rng.randrange(10**8):08d}",
        ems_tracking_number=make_s10(rng),
        legal_person_card_no=lp_card_no,
        operator_card_no=op_card_no,
        company_name="海南示例贸易有限公司",
        recipient_address="海南省海口市龙华区滨海大道88号",
        postcode="570105",
        recipient_name=person_name(rng),
        recipient_phone=make_mobile(rng),
        approver=Signature(name=person_name(rng), date=day),
        express_window_clerk=Signature(name=person_name(rng), date=day),
        postal_clerk=Signature(name=person_name(rng), date=day + timedelta(days=1)),
    )


def all_documents(**missing: bool) -> RenewalDocuments:
    """The four renewal documents, all presented unless overridden: introduction_letter=False."""
    fields = {
        "business_licence_original": True,
        "clerk_id_card": True,
        "introduction_letter": True,
        "key_presented": True,
    }
    return RenewalDocuments(**(fields | missing))


def execute(
    ledger: Any,
    decider: Any,
    *args: Any,
    idempotency: Any = None,
    expected_version: int | None = None,
    **kwargs: Any,
) -> Any:
    """`ledger.run(decider, *args, **kwargs)` with If-Match and an idempotency claim."""
    return ledger.execute(
        lambda reader: decider(reader, *args, **kwargs),
        idempotency=idempotency,
        expected_version=expected_version,
    )


TEST_HOLDER_IDS = uuid.UUID("0e5b6d1c-7f3a-4b2e-9d8c-5a4f3e2d1c0b")


def test_holder_id(uscc: str, kind: KeyKind, id_number: str) -> uuid.UUID:
    """A card-holder id for domain tests (the ledger keys its ids with a secret instead)."""
    return uuid.uuid5(TEST_HOLDER_IDS, f"{kind.value}:{uscc}:{id_number}")


def register_holder(
    ctx: CommandContext,
    enterprise: Enterprise,
    kind: KeyKind,
    holder: LegalPersonHolder | OperatorHolder,
    **options: Any,
) -> list[DomainEvent]:
    """`card_holder.decisions.register` with a test id for the holder."""
    holder_id = test_holder_id(enterprise.uscc, kind, holder.id_number)
    return card_holders.register(ctx, enterprise, kind, holder, holder_id, **options)


def form_holder_ids(uscc: str, form: IcCardRegistrationForm) -> dict[KeyKind, uuid.UUID]:
    """Test ids of the two holders of a (plaintext) IC-card form."""
    legal_person, operator = form.legal_person, form.operator
    assert isinstance(legal_person, LegalPersonHolder)
    assert isinstance(operator, OperatorHolder)
    return {
        KeyKind.LEGAL_PERSON: test_holder_id(uscc, KeyKind.LEGAL_PERSON, legal_person.id_number),
        KeyKind.OPERATOR: test_holder_id(uscc, KeyKind.OPERATOR, operator.id_number),
    }


def register_form_holders(
    ctx: CommandContext, enterprise: Enterprise, form: IcCardRegistrationForm
) -> list[DomainEvent]:
    """`card_holder.decisions.holders_from_form` with test ids for the two holders."""
    return holders_from_form(ctx, enterprise, form, form_holder_ids(enterprise.uscc, form))
