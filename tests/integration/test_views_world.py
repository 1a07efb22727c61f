"""A small world driven through the real command layer, shared by the view and runner tests.

(No tests here: the helpers live in a `test_views*` module so they sit beside their users.)
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from domain.base import DomainError
from domain.forms import KeyKind, RenewalDocuments, Supplier, SupplierProduct
from domain.identifier_generators import make_card_number, make_customs_code, make_uscc
from ledger_store.application import deciders
from ledger_store.application.ledger import Ledger
from ledger_store.application.results import CommandResult
from ledger_store.eventstore.settings import Settings
from projections.engine.rebuild import dump_views
from projections.engine.runner import Runner
from projections.registry import TRACKED
from tests.factories import (
    T0,
    enterprise_ctx,
    mailing_details,
    valid_filings,
    valid_ic_card_form,
    window_ctx,
)


@contextmanager
def open_ledger(settings: Settings) -> Iterator[Ledger]:
    """The command layer on the test's database, closed afterwards."""
    ledger = Ledger(settings)
    try:
        yield ledger
    finally:
        ledger.close()


@dataclass
class Enrolled:
    """What the world knows of one enterprise it drove."""

    uscc: str
    company: str
    form: Any
    lp_card: str | None = None
    op_card: str | None = None
    cards: list[str] = field(default_factory=list)
    mailing: Any = None
    """The handover form as the window filled it in (the ledger keeps its people sealed)."""


class World:
    """Drives enterprises through the process on a clock that only moves forward."""

    def __init__(self, ledger: Ledger, seed: int = 1) -> None:
        self.ledger = ledger
        self.rng = random.Random(seed)
        self.now = T0
        self.enterprises: list[Enrolled] = []
        self.refused = 0

    def tick(self, minutes: int = 7) -> datetime:
        """Move the clock on and answer the new time."""
        self.now += timedelta(minutes=minutes)
        return self.now

    def register(self, company: str = "海南示例贸易有限公司") -> Enrolled:
        """A registered enterprise with its four filings in (awaiting review)."""
        region = self.ledger.region
        uscc = make_uscc(self.rng, region_prefix=region.province_prefix + "01")
        customs = make_customs_code(self.rng, province=region.province_prefix)
        ctx = enterprise_ctx(uscc, self.tick())
        self.ledger.run(
            deciders.register_enterprise,
            ctx,
            uscc=uscc,
            name=company,
            customs_code=customs,
            receipt_number=f"HZ{uscc[-6:]}",
        )
        form = valid_ic_card_form(self.rng)
        filings = valid_filings(uscc, customs, self.rng, region, form, company)
        for filing in filings.values():
            self.ledger.run(deciders.submit_filing, enterprise_ctx(uscc, self.tick()), uscc, filing)
        enrolled = Enrolled(uscc, company, form)
        self.enterprises.append(enrolled)
        return enrolled

    def approve(self, e: Enrolled) -> CommandResult:
        """The window approves (registering the form's two holders)."""
        window = self.ledger.region.window_name
        return self.ledger.run(
            deciders.review, window_ctx(self.tick()), e.uscc, approve=True, window=window
        )

    def reject(self, e: Enrolled, reason: str = "附件3 收件人联系电话无法接通") -> CommandResult:
        """The window rejects with a reason."""
        window = self.ledger.region.window_name
        return self.ledger.run(
            deciders.review,
            window_ctx(self.tick()),
            e.uscc,
            approve=False,
            window=window,
            reason=reason,
        )

    def issue_pair(self, e: Enrolled) -> CommandResult:
        """The free pair, to the form's holders."""
        e.lp_card, e.op_card = make_card_number(self.rng), make_card_number(self.rng)
        e.cards += [e.lp_card, e.op_card]
        return self.ledger.run(
            deciders.issue_free_pair,
            window_ctx(self.tick()),
            e.uscc,
            legal_person_card_no=e.lp_card,
            operator_card_no=e.op_card,
        )

    def mail(self, e: Enrolled) -> list[CommandResult]:
        """Both free keys handed to EMS with one handover form."""
        if e.lp_card is None or e.op_card is None:
            return []
        details = mailing_details(self.rng, e.lp_card, e.op_card, self.tick())
        e.mailing = details
        return [self.ledger.run(deciders.mail_free_pair, window_ctx(self.now), e.uscc, details)]

    def enrolled(self, company: str = "海南示例贸易有限公司") -> Enrolled:
        """An approved enterprise whose free pair was issued, mailed, delivered and opened."""
        e = self.register(company)
        self.approve(e)
        self.issue_pair(e)
        self.mail(e)
        for card in (e.lp_card, e.op_card):
            assert card is not None
            self.ledger.run(deciders.deliver_key, enterprise_ctx(e.uscc, self.tick()), card)
            self.ledger.run(
                deciders.record_pin_attempt, enterprise_ctx(e.uscc, self.tick()), card, ok=True
            )
        return e

    def pin(self, e: Enrolled, card: str, ok: bool) -> CommandResult:
        """A PIN attempt on one key."""
        return self.ledger.run(
            deciders.record_pin_attempt, enterprise_ctx(e.uscc, self.tick()), card, ok=ok
        )

    def buy_key(self, e: Enrolled) -> CommandResult:
        """A key bought from a supplier for the operator of the form."""
        card = make_card_number(self.rng)
        holder = self.ledger.card_holder_id(e.uscc, KeyKind.OPERATOR, e.form.operator)
        result = self.ledger.run(
            deciders.issue_bought_key,
            enterprise_ctx(e.uscc, self.tick()),
            e.uscc,
            card_no=card,
            holder_id=holder,
            supplier=Supplier.AISINO,
            product=SupplierProduct.SMART_KEY,
        )
        e.cards.append(card)
        return result

    def renew(self, e: Enrolled, card: str, steps: int = 3) -> CommandResult:
        """Apply online, be pre-approved, visit with the documents (the first `steps` of them)."""
        ctx = enterprise_ctx(e.uscc, self.tick())
        result = self.ledger.run(deciders.request_renewal, ctx, card)
        application = dict(result.extra)["application_id"]
        if steps >= 2:
            result = self.ledger.run(
                deciders.pre_approve_renewal, window_ctx(self.tick()), card, application
            )
        if steps >= 3:
            documents = RenewalDocuments(
                business_licence_original=True,
                clerk_id_card=True,
                introduction_letter=True,
                key_presented=True,
            )
            result = self.ledger.run(
                deciders.renew_key,
                window_ctx(self.tick()),
                card,
                application_id=application,
                documents=documents,
            )
        return result

    def replace(self, e: Enrolled, card: str) -> CommandResult:
        """Report the key lost, then replace it with a bought one."""
        self.ledger.run(
            deciders.report_key_lost, enterprise_ctx(e.uscc, self.tick()), card, reason="钥匙遗失"
        )
        new_card = make_card_number(self.rng)
        result = self.ledger.run(
            deciders.replace_key,
            enterprise_ctx(e.uscc, self.tick()),
            card,
            new_card_no=new_card,
            reason="遗失补办",
            supplier=Supplier.BEIJING_TONGFANG,
            product=SupplierProduct.IC_CARD,
        )
        e.cards[e.cards.index(card)] = new_card
        if e.lp_card == card:
            e.lp_card = new_card
        return result

    def attempt(self, command: Any, *args: Any, **kwargs: Any) -> CommandResult | None:
        """Run a command that the domain may refuse; a refusal records nothing."""
        try:
            result: CommandResult = command(*args, **kwargs)
        except DomainError:
            self.refused += 1
            return None
        return result


def catch_up(ledger: Ledger, batch_size: int = 50) -> Runner:
    """A runner of every view, set up and caught up with the whole ledger."""
    runner = Runner(ledger.database, batch_size=batch_size)
    runner.setup()
    runner.catch_up()
    return runner


def dump(ledger: Ledger, names: Any = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view table, sorted."""
    return dump_views(ledger.database, TRACKED, names)
