"""The demo: enterprises living through the whole process, interleaved on one simulated clock."""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from api.demo import samples
from domain.base import Actor, CommandContext, Role
from domain.enterprise.events import EnterpriseChange
from domain.filings import Filing, FilingKind, ThreeInOneFiling
from domain.forms import (
    Authority,
    ExpressHandoverForm,
    KeyKind,
    OperatorHolder,
    Supplier,
    SupplierProduct,
)
from domain.identifier_generators import (
    make_card_number,
    make_certificate_number,
    make_customs_code,
    make_uscc,
)
from domain.ukey.events import DeliveryChannel
from ledger_store.application import deciders
from ledger_store.application.ledger import Ledger
from ledger_store.application.results import CommandResult

DEMO_START = datetime(2016, 1, 4, 1, 0, tzinfo=UTC)
DEMO_END = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
WINDOWS = ("window-clerk-01", "window-clerk-02", "window-clerk-03")
REJECTION_REASONS = (
    "附件2 法人证件号码与营业执照不一致，请更正后重新申报",
    "附件3 收件人联系电话无法接通，请核实",
    "三证合一信息与工商登记不符，请更正",
)
Story = Generator[datetime, None, None]


@dataclass
class DemoStats:
    """What the demo did."""

    enterprises: int = 0
    commands: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """Commands run."""
        return sum(self.commands.values())


def at(actor: Actor, moment: datetime) -> CommandContext:
    """A command by `actor` at a simulated moment."""
    return CommandContext(actor=actor, at=moment)


class Demo:
    """Drives N enterprises through the real command path; the same seed gives the same ledger."""

    def __init__(self, ledger: Ledger, seed: int, enterprises: int) -> None:
        self.three_in_one: dict[str, ThreeInOneFiling] = {}
        """The three-in-one filing each enterprise last submitted (the demo's own copy: the
        ledger keeps its personal data sealed)."""
        self.ledger = ledger
        self.seed = seed
        self.count = enterprises
        self.stats = DemoStats()
        span = (DEMO_END - timedelta(days=60) - DEMO_START).total_seconds()
        self.starts = sorted(
            DEMO_START + timedelta(seconds=random.Random(f"{seed}:start:{i}").uniform(0, span))
            for i in range(enterprises)
        )

    def run(self, progress: Callable[[int], None] = lambda done: None) -> DemoStats:
        """Run every story to its end, always advancing the story whose next step is earliest."""
        queue: list[tuple[datetime, int, Story]] = []
        for number in range(self.count):
            story = self._story(number)
            queue.append((next(story), number, story))
        heapq.heapify(queue)
        while queue:
            _, number, story = heapq.heappop(queue)
            try:
                heapq.heappush(queue, (next(story), number, story))
            except StopIteration:
                self.stats.enterprises += 1
                progress(self.stats.enterprises)
        return self.stats

    def _run(self, name: str, result: CommandResult) -> CommandResult:
        self.stats.commands[name] += 1
        return result

    def _story(self, number: int) -> Story:
        rng = random.Random(f"{self.seed}:{number}")
        # Choices added later draw from a stream of their own: a seed's stories keep the rest.
        side = random.Random(f"{self.seed}:{number}:side")
        ledger, region = self.ledger, self.ledger.region
        uscc = make_uscc(rng, region_prefix=region.province_prefix + "01")
        customs_code = make_customs_code(rng, province=region.province_prefix)
        company = samples.company_name(rng)
        me = Actor(principal_id=f"enterprise:{uscc}", role=Role.ENTERPRISE)
        clerk = Actor(principal_id=rng.choice(WINDOWS), role=Role.WINDOW)
        t = self.starts[number]

        def by(actor: Actor) -> CommandContext:
            return at(actor, t)

        yield t
        receipt = f"HZ{rng.randrange(10**8):08d}"
        self._run(
            "register",
            ledger.run(
                deciders.register_enterprise,
                by(me),
                uscc=uscc,
                name=company,
                customs_code=customs_code,
                receipt_number=receipt,
            ),
        )
        filings = samples.filings(rng, region, company, customs_code, receipt, t.date())
        self._remember(uscc, filings[FilingKind.THREE_IN_ONE])
        for filing in filings.values():
            t += timedelta(minutes=rng.randint(5, 90))
            yield t
            self._run("filing", ledger.run(deciders.submit_filing, by(me), uscc, filing))
        if rng.random() < 0.2:
            t += timedelta(days=rng.randint(1, 3))
            yield t
            reason = rng.choice(REJECTION_REASONS)
            self._run(
                "reject",
                ledger.run(
                    deciders.review,
                    by(clerk),
                    uscc,
                    approve=False,
                    window=region.window_name,
                    reason=reason,
                ),
            )
            t += timedelta(days=rng.randint(1, 4))
            yield t
            three_in_one = samples.filings(rng, region, company, customs_code, receipt, t.date())
            self._remember(uscc, three_in_one[FilingKind.THREE_IN_ONE])
            self._run(
                "resubmit",
                ledger.run(
                    deciders.submit_filing, by(me), uscc, three_in_one[FilingKind.THREE_IN_ONE]
                ),
            )
        t += timedelta(days=rng.randint(1, 3))
        yield t
        self._run(
            "approve",
            ledger.run(deciders.review, by(clerk), uscc, approve=True, window=region.window_name),
        )

        t += timedelta(days=1, hours=rng.randint(0, 6))
        yield t
        lp_card, op_card = make_card_number(rng), make_card_number(rng)
        self._run(
            "issue_free_pair",
            ledger.run(
                deciders.issue_free_pair,
                by(clerk),
                uscc,
                legal_person_card_no=lp_card,
                operator_card_no=op_card,
                legal_person_certificate_number=make_certificate_number(rng),
                operator_certificate_number=make_certificate_number(rng),
            ),
        )
        express = self._submitted(uscc).materials.express_handover_form
        assert isinstance(express, ExpressHandoverForm)
        details = samples.mailing(rng, express, lp_card, op_card, t)
        t += timedelta(hours=rng.randint(2, 30))
        yield t
        delay = timedelta(days=rng.randint(1, 4))
        if side.random() < 0.1:  # collected at the window instead of mailed
            for card in (lp_card, op_card):
                self._run(
                    "hand_over",
                    ledger.run(deciders.deliver_key, by(clerk), card, DeliveryChannel.WINDOW),
                )
        else:
            self._run("mail", ledger.run(deciders.mail_free_pair, by(clerk), uscc, details))
            t += delay
            yield t
            for card in (lp_card, op_card):
                self._run("deliver", ledger.run(deciders.deliver_key, by(me), card))

        keys = [lp_card, op_card]
        t += timedelta(hours=rng.randint(1, 48))
        yield t
        for card in keys:
            self._run("pin_ok", ledger.run(deciders.record_pin_attempt, by(me), card, ok=True))
            if rng.random() < 0.8:
                self._run("pin_change", ledger.run(deciders.change_pin, by(me), card))

        # Years of use, until the end of the demo clock.
        while True:
            t += timedelta(days=rng.randint(20, 400))
            if t >= DEMO_END:
                return
            yield t
            card = rng.choice(keys)
            key = ledger.key(card)
            if not key.is_usable(t) and key.status(t).value != "expired":
                keys.remove(card)
                if not keys:
                    return
                continue
            roll = rng.random()
            if key.status(t).value == "expired" or key.days_left(t) < 200:
                t = yield from self._renew(rng, t, me, clerk, card)
            elif roll < 0.35:
                for _ in range(rng.randint(1, 3)):
                    self._run(
                        "pin_fail", ledger.run(deciders.record_pin_attempt, by(me), card, ok=False)
                    )
                self._run("pin_ok", ledger.run(deciders.record_pin_attempt, by(me), card, ok=True))
            elif roll < 0.45:
                for _ in range(5):
                    self._run(
                        "pin_fail", ledger.run(deciders.record_pin_attempt, by(me), card, ok=False)
                    )
                t += timedelta(days=rng.randint(1, 10))
                yield t
                self._run("unlock", ledger.run(deciders.unlock_key, by(clerk), card))
            elif roll < 0.55 and card == lp_card:
                keys.append(self._new_operator(rng, by(me), uscc, lp_card))
            elif roll < 0.62 and card == lp_card:
                self._change_permissions(rng, by(me), uscc, lp_card)
            elif roll < 0.68:
                self._run(
                    "report_lost",
                    ledger.run(deciders.report_key_lost, by(me), card, reason="钥匙遗失"),
                )
                t += timedelta(days=rng.randint(2, 20))
                yield t
                new_card = make_card_number(rng)
                self._run(
                    "replace",
                    ledger.run(
                        deciders.replace_key,
                        by(me),
                        card,
                        new_card_no=new_card,
                        reason="遗失补办",
                        supplier=rng.choice(list(Supplier)),
                        product=rng.choice(list(SupplierProduct)),
                    ),
                )
                keys[keys.index(card)] = new_card
                if card == lp_card:
                    lp_card = new_card
            elif roll < 0.71 and card == lp_card:
                change = EnterpriseChange(business_address=samples.address(rng))
                self._run(
                    "change_info",
                    ledger.run(
                        deciders.change_enterprise_info,
                        by(me),
                        uscc,
                        change,
                        authorising_card_no=lp_card,
                    ),
                )
            elif roll < 0.72:
                self._run(
                    "freeze",
                    ledger.run(
                        deciders.freeze_key, by(clerk), card, reason="冒用嫌疑，数据分中心冻结"
                    ),
                )
                if side.random() < 0.5:
                    t += timedelta(days=side.randint(1, 15))
                    yield t
                    self._run(
                        "unfreeze",
                        ledger.run(
                            deciders.unfreeze_key,
                            by(clerk),
                            card,
                            reason="经核实信息真实，解除冻结",
                        ),
                    )
            else:
                self._run("pin_ok", ledger.run(deciders.record_pin_attempt, by(me), card, ok=True))

    def _renew(
        self, rng: random.Random, t: datetime, me: Actor, clerk: Actor, card: str
    ) -> Generator[datetime, None, datetime]:
        """Online application, the window's pre-review, then the visit with the four documents."""
        applied = self._run(
            "renewal_request", self.ledger.run(deciders.request_renewal, at(me, t), card)
        )
        application_id = dict(applied.extra)["application_id"]
        t += timedelta(days=rng.randint(1, 5))
        yield t
        self._run(
            "renewal_pre_approve",
            self.ledger.run(deciders.pre_approve_renewal, at(clerk, t), card, application_id),
        )
        t += timedelta(days=rng.randint(1, 10))
        yield t
        self._run(
            "renew",
            self.ledger.run(
                deciders.renew_key,
                at(clerk, t),
                card,
                application_id=application_id,
                documents=samples.ALL_DOCUMENTS,
                certificate_number=make_certificate_number(rng),
            ),
        )
        return t

    def _new_operator(
        self, rng: random.Random, ctx: CommandContext, uscc: str, lp_card: str
    ) -> str:
        """An extra operator, authorised by the legal-person key, with a bought key."""
        holder = samples.operator_holder(rng)
        registered = self._run(
            "register_operator",
            self.ledger.run(
                deciders.register_card_holder, ctx, uscc, holder=holder, authorising_card_no=lp_card
            ),
        )
        permissions = samples.permissions_of(Authority.CUSTOMS, rng)
        self._run(
            "set_permissions",
            self.ledger.run(
                deciders.set_permissions,
                ctx,
                uscc,
                registered.id,
                permissions,
                authorising_card_no=lp_card,
            ),
        )
        card = make_card_number(rng)
        self._run(
            "buy_key",
            self.ledger.run(
                deciders.issue_bought_key,
                ctx,
                uscc,
                card_no=card,
                holder_id=registered.id,
                supplier=rng.choice(list(Supplier)),
                product=rng.choice(list(SupplierProduct)),
            ),
        )
        return card

    def _remember(self, uscc: str, filing: Filing) -> None:
        assert isinstance(filing, ThreeInOneFiling)
        self.three_in_one[uscc] = filing

    def _submitted(self, uscc: str) -> ThreeInOneFiling:
        """The three-in-one filing an enterprise last submitted (as sent, in plaintext)."""
        return self.three_in_one[uscc]

    def _change_permissions(
        self, rng: random.Random, ctx: CommandContext, uscc: str, lp_card: str
    ) -> None:
        """The legal-person key re-grants the first operator's permissions."""
        operator = self._submitted(uscc).materials.ic_card_registration_form.operator
        assert isinstance(operator, OperatorHolder)
        holder = self.ledger.card_holder_id(uscc, KeyKind.OPERATOR, operator)
        wanted = samples.permissions_of(Authority.CUSTOMS, rng) | samples.permissions_of(
            Authority.FOREX, rng
        )
        self._run(
            "set_permissions",
            self.ledger.run(
                deciders.set_permissions, ctx, uscc, holder, wanted, authorising_card_no=lp_card
            ),
        )
