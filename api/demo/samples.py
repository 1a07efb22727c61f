"""Realistic, valid sample data for the demo (and the tests): people, forms, filings, parcels."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

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
    PERMISSION_CATALOGUE,
    Authority,
    CustomsDeclarer,
    ExpressHandoverForm,
    Gender,
    IcCardRegistrationForm,
    IdType,
    LegalPersonHolder,
    MailingDetails,
    Media,
    OperatorHolder,
    Permission,
    RenewalDocuments,
    Signature,
)
from domain.identifier_generators import make_mobile, make_resident_id, make_s10
from domain.identifiers import birth_date_of
from domain.region import RegionConfig

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀兰霞平刚桂英"
TRADES = ("贸易", "物流", "进出口", "国际货运", "供应链", "实业", "科技", "海产")
PLACES = ("海口", "三亚", "洋浦", "儋州", "琼海", "文昌")
STREETS = ("滨海大道", "国贸路", "龙昆南路", "南海大道", "海秀路", "金盘路")
DISTRICTS = ("460105", "460106", "460107", "460108", "460202", "460400")


def person_name(rng: random.Random) -> str:
    """A plausible Chinese name."""
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def company_name(rng: random.Random) -> str:
    """A plausible Hainan company name."""
    return f"海南{rng.choice(PLACES)}{rng.choice(GIVEN)}{rng.choice(TRADES)}有限公司"


def address(rng: random.Random) -> str:
    """A plausible Hainan street address."""
    return f"海南省{rng.choice(PLACES)}市{rng.choice(STREETS)}{rng.randint(1, 300)}号"


def birth(rng: random.Random) -> date:
    """A working-age birth date."""
    return date(1960, 1, 1) + timedelta(days=rng.randrange(40 * 365))


def legal_person(rng: random.Random) -> LegalPersonHolder:
    """法人卡持卡人 with a valid resident ID and mobile."""
    return LegalPersonHolder(
        name=person_name(rng),
        gender=rng.choice(list(Gender)),
        nationality="中国",
        position=rng.choice(("总经理", "董事长", "执行董事")),
        phone=make_mobile(rng),
        id_type=IdType.RESIDENT_ID,
        id_number=make_resident_id(rng, region=rng.choice(DISTRICTS), birth=birth(rng)),
    )


def operator_holder(rng: random.Random, media: Media | None = None) -> OperatorHolder:
    """操作员卡持卡人 whose birth date agrees with the resident ID."""
    id_number = make_resident_id(rng, region=rng.choice(DISTRICTS), birth=birth(rng))
    return OperatorHolder(
        media=media or rng.choice(list(Media)),
        name=person_name(rng),
        gender=rng.choice(list(Gender)),
        education=rng.choice(("大专", "本科", "硕士")),
        id_type=IdType.RESIDENT_ID,
        id_number=id_number,
        birth_date=birth_date_of(id_number),
        nationality="中国",
        position=rng.choice(("报关专员", "关务主管", "单证员")),
        household_address=address(rng),
        user_address=address(rng),
        postcode=f"57{rng.randrange(10_000):04d}",
        email=f"op{rng.randrange(10**6)}@example.cn",
        phone=make_mobile(rng),
        fax=None,
    )


def permissions_of(
    authority: Authority, rng: random.Random, at_least: int = 1
) -> frozenset[Permission]:
    """A random non-empty subset of the permissions asked of one authority."""
    pool = [p for p, info in PERMISSION_CATALOGUE.items() if info.authority is authority]
    return frozenset(rng.sample(pool, rng.randint(at_least, len(pool))))


def ic_card_form(rng: random.Random, sealed: date) -> IcCardRegistrationForm:
    """A complete 中国电子口岸企业IC卡登记表."""
    declarer = None
    if rng.random() < 0.6:
        declarer = CustomsDeclarer(
            certificate_number=f"BG{rng.randrange(10**8):08d}",
            exam_score=rng.randint(60, 98),
            declaration_category="进出口货物",
            issue_date=sealed - timedelta(days=rng.randrange(365, 3000)),
            registration_valid_until=sealed + timedelta(days=rng.randrange(365, 2000)),
        )
    return IcCardRegistrationForm(
        legal_person=legal_person(rng),
        operator=operator_holder(rng),
        customs_declarer=declarer,
        customs_permissions=permissions_of(Authority.CUSTOMS, rng),
        verification_officer=None,
        forex_permissions=permissions_of(Authority.FOREX, rng),
        seal_date=sealed,
    )


def express_form(rng: random.Random, company: str) -> ExpressHandoverForm:
    """The applicant's part of the EMS handover form (快递交接单)."""
    return ExpressHandoverForm(
        company_name=company,
        recipient_address=address(rng),
        postcode=f"57{rng.randrange(10_000):04d}",
        recipient_name=person_name(rng),
        recipient_phone=make_mobile(rng),
    )


def filings(
    rng: random.Random,
    region: RegionConfig,
    company: str,
    customs_code: str,
    receipt_number: str,
    sealed: date,
) -> dict[FilingKind, Filing]:
    """The four filings with the region's department codes."""
    form = ic_card_form(rng, sealed)
    representative = form.legal_person
    assert isinstance(representative, LegalPersonHolder)  # built here, in plaintext
    return {
        FilingKind.THREE_IN_ONE: ThreeInOneFiling(
            company_name=company,
            legal_representative=representative.name,
            business_address=address(rng),
            business_registration_dept_code=region.business_registration_dept_code,
            commerce_authority_code=region.commerce_authority_code,
            materials=ThreeInOneMaterials(
                ic_card_registration_form=form, express_handover_form=express_form(rng, company)
            ),
        ),
        FilingKind.CUSTOMS: CustomsFiling(
            customs_code=customs_code, company_name=company, receipt_number=receipt_number
        ),
        FilingKind.FOREX: ForexFiling(
            forex_bureau_code=region.forex_bureau_code, company_name=company
        ),
        FilingKind.OPERATOR_PREENTRY: OperatorPreentryFiling(operators=(form.operator,)),
    }


def mailing(
    rng: random.Random,
    express: ExpressHandoverForm,
    legal_person_card_no: str,
    operator_card_no: str,
    at: datetime,
) -> MailingDetails:
    """The completed EMS handover form for the free pair, signed three times."""
    day = at.date()
    return MailingDetails(
        case_number=f"HN{rng.randrange(10**10):010d}",
        order_number=f"DD{rng.randrange(10**8):08d}",
        ems_tracking_number=make_s10(rng),
        legal_person_card_no=legal_person_card_no,
        operator_card_no=operator_card_no,
        company_name=express.company_name,
        recipient_address=express.recipient_address,
        postcode=express.postcode,
        recipient_name=express.recipient_name,
        recipient_phone=express.recipient_phone,
        approver=Signature(name=person_name(rng), date=day),
        express_window_clerk=Signature(name=person_name(rng), date=day),
        postal_clerk=Signature(name=person_name(rng), date=day),
    )


ALL_DOCUMENTS = RenewalDocuments(
    business_licence_original=True, clerk_id_card=True, introduction_letter=True, key_presented=True
)
