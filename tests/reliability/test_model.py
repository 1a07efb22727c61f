"""Model-based: a Hypothesis state machine drives the Ledger with random commands and compares
every answer (accepted, or refused by which rule), every key's state and its hotline view with a
small in-memory model of the rules (docs/domain.md) written here, independently of `domain/`."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count as counter
from typing import Any

from hypothesis import HealthCheck, settings as hypothesis_settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from api.demo.samples import ALL_DOCUMENTS
from domain.base import Actor, DomainError
from domain.forms import (
    KeyKind,
    LegalPersonHolder,
    OperatorHolder,
    Permission,
    RenewalDocuments,
    Supplier,
    SupplierProduct,
)
from domain.ukey.events import DeliveryChannel
from domain.ukey.status import KeyStatus
from ledger_store.application import deciders
from ledger_store.application.ledger import Ledger
from ledger_store.application.results import CommandResult
from projections.engine.query import ViewSource
from projections.engine.runner import Runner
from projections.key_status.queries import get_key
from tests.reliability.support import T0, WINDOW, count, ctx, enroll

LOCK_AFTER = 5  # 累计输错5次密码会自动锁定
VALIDITY = 10  # years from issue or from the last renewal
UNUSABLE = {"expired", "lost", "frozen", "void", "replaced"}
EXAMPLES = {"sqlite": 40, "postgres": 8}
STEPS = 30


def ten_years_after(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year + VALIDITY)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + VALIDITY, day=28)


@dataclass
class KeyModel:
    """What the rules say a key is."""

    card: str
    kind: KeyKind
    free: bool
    valid_until: datetime
    in_chain: bool = True
    """The free legal-person key and its replacements: the keys the extra-key rule sees."""
    failures: int = 0
    locked: bool = False
    initial_pin: bool = True
    used: bool = False
    mailed: bool = False
    delivered: bool = False
    lost: bool = False
    frozen: bool = False
    void: bool = False
    replaced_by: str | None = None
    renewals: dict[str, str] = field(default_factory=dict)

    def status(self, now: datetime) -> str:
        """void > replaced > lost > frozen > expired > locked > active > delivered > mailed."""
        for flag, name in (
            (self.void, "void"),
            (self.replaced_by is not None, "replaced"),
            (self.lost, "lost"),
            (self.frozen, "frozen"),
            (now > self.valid_until, "expired"),
            (self.locked, "locked"),
            (self.used, "active"),
            (self.delivered, "delivered"),
            (self.mailed, "mailed"),
        ):
            if flag:
                return name
        return "issued"


class RefusedError(Exception):
    """The model refuses, naming the rule."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


def refuse_if(condition: bool, rule_name: str) -> None:
    if condition:
        raise RefusedError(rule_name)


class Rules:
    """The rules of docs/domain.md over the keys: each command mutates or raises RefusedError."""

    def __init__(self, keys: dict[str, KeyModel], permissions: set[Permission]) -> None:
        self.keys = keys
        self.permissions = permissions
        self.erased: set[KeyKind] = set()
        """The holders whose personal data a void erased (every key of a kind is one holder's)."""

    def usable(self, key: KeyModel, now: datetime, allow: frozenset[str] = frozenset()) -> str:
        status = key.status(now)
        refuse_if(status in UNUSABLE - allow, "key_not_usable")
        return status

    def in_use(self, key: KeyModel, now: datetime) -> None:
        """Usable, unlocked, and in the holder's hands (bought, delivered, or in use)."""
        refuse_if(self.usable(key, now) == "locked", "key_locked")
        refuse_if(key.free and not (key.delivered or key.used), "key_not_delivered")

    def pin_attempt(self, key: KeyModel, now: datetime, ok: bool) -> None:
        self.in_use(key, now)
        if ok:
            key.failures, key.used = 0, True
            return
        key.failures += 1
        key.locked = key.failures >= LOCK_AFTER

    def change_pin(self, key: KeyModel, now: datetime) -> None:
        self.in_use(key, now)
        key.initial_pin, key.failures, key.used = False, 0, True

    def unlock(self, key: KeyModel, now: datetime, window: bool) -> None:
        refuse_if(not window, "role_not_allowed")
        refuse_if(self.usable(key, now) != "locked", "not_locked")
        key.locked, key.failures, key.initial_pin = False, 0, True

    def report_lost(self, key: KeyModel, now: datetime) -> None:
        self.usable(key, now)
        key.lost = True

    def freeze(self, key: KeyModel, now: datetime, window: bool) -> None:
        refuse_if(not window, "role_not_allowed")
        self.usable(key, now)
        key.frozen = True

    def unfreeze(self, key: KeyModel, window: bool) -> None:
        refuse_if(not window, "role_not_allowed")
        refuse_if(key.void or key.replaced_by is not None, "key_not_usable")
        refuse_if(not key.frozen, "not_frozen")
        key.frozen = False

    def buy_legal_person_key(self, card: str, now: datetime) -> KeyModel:
        """Extra keys are for new operators or replacements: not a second one for the holder."""
        alive = [
            k for k in self.keys.values()
            if k.kind is KeyKind.LEGAL_PERSON and k.in_chain and not k.void
            and k.replaced_by is None
        ]  # fmt: skip
        refuse_if(bool(alive), "legal_person_key_exists")
        refuse_if(KeyKind.LEGAL_PERSON in self.erased, "personal_data_erased")  # no name to issue
        return KeyModel(
            card, KeyKind.LEGAL_PERSON, free=False, valid_until=ten_years_after(now),
            in_chain=False,
        )  # fmt: skip

    def void(self, key: KeyModel, erase: bool) -> None:
        refuse_if(key.void, "key_not_usable")
        key.void = True
        if erase:
            self.erased.add(key.kind)

    def replace(self, key: KeyModel, now: datetime, new_card: str) -> KeyModel:
        self.usable(key, now, allow=frozenset({"lost", "frozen"}))
        refuse_if(key.kind in self.erased, "personal_data_erased")  # no name for the new key
        key.replaced_by = new_card
        return KeyModel(
            new_card, key.kind, free=False, valid_until=ten_years_after(now),
            in_chain=key.in_chain,
        )  # fmt: skip

    def request_renewal(self, key: KeyModel, now: datetime) -> None:
        self.usable(key, now, allow=frozenset({"expired"}))
        refuse_if(
            any(state != "completed" for state in key.renewals.values()), "renewal_already_pending"
        )

    def pre_approve(self, key: KeyModel, now: datetime, application: str, window: bool) -> None:
        refuse_if(not window, "role_not_allowed")
        self.usable(key, now, allow=frozenset({"expired"}))
        refuse_if(application not in key.renewals, "unknown_renewal_application")
        refuse_if(key.renewals[application] != "requested", "renewal_not_requested")
        key.renewals[application] = "pre_approved"

    def renew(
        self, key: KeyModel, now: datetime, application: str, complete: bool, window: bool
    ) -> None:
        refuse_if(not window, "role_not_allowed")
        self.usable(key, now, allow=frozenset({"expired"}))
        refuse_if(application not in key.renewals, "unknown_renewal_application")
        refuse_if(key.renewals[application] != "pre_approved", "renewal_not_pre_approved")
        refuse_if(not complete, "renewal_document_missing")
        key.renewals[application] = "completed"
        key.valid_until = ten_years_after(now)
        key.initial_pin, key.failures, key.locked = True, 0, False

    def mailable(self, key: KeyModel, now: datetime, window: bool) -> None:
        refuse_if(not window, "role_not_allowed")
        self.usable(key, now)
        refuse_if(not key.free, "not_free_issue")
        refuse_if(key.delivered or key.used, "already_delivered")
        refuse_if(key.mailed, "already_mailed")

    def mail_pair(self, pair: tuple[KeyModel, KeyModel], now: datetime, window: bool) -> None:
        """One parcel, one form: both keys of the free pair, or neither."""
        refuse_if(not window, "role_not_allowed")
        for key in pair:
            self.mailable(key, now, window)
        for key in pair:
            key.mailed = True

    def mail_one(
        self, key: KeyModel, pair: tuple[KeyModel, KeyModel], now: datetime, window: bool
    ) -> None:
        """The deprecated one-key route: this key's rules, then the whole parcel's."""
        self.mailable(key, now, window)
        refuse_if(key not in pair, "card_number_mismatch")  # the form lists the free pair
        self.mail_pair(pair, now, window)

    def deliver(self, key: KeyModel, now: datetime, at_window: bool, window: bool) -> None:
        refuse_if(at_window and not window, "role_not_allowed")
        self.usable(key, now)
        refuse_if(not key.free, "not_free_issue")
        refuse_if(key.delivered or key.used, "already_delivered")
        refuse_if(not at_window and not key.mailed, "not_mailed")
        refuse_if(at_window and key.mailed, "already_mailed")
        key.delivered = True

    def set_permissions(
        self, wanted: set[Permission], authority: KeyModel | None, window: bool, now: datetime
    ) -> None:
        if authority is None:
            refuse_if(not window, "legal_person_key_required")
        else:
            usable = authority.status(now) not in UNUSABLE | {"locked"}
            refuse_if(
                authority.kind is not KeyKind.LEGAL_PERSON or not usable,
                "legal_person_key_required",
            )
        self.permissions.clear()
        self.permissions.update(wanted)


class LedgerMachine(RuleBasedStateMachine):
    """One fresh enterprise per example on a shared ledger; every step checked against Rules."""

    ledger: Ledger
    runner: Runner
    serial: Iterator[int]
    tally: Counter[str]

    def __init__(self) -> None:
        super().__init__()
        n = next(self.serial)
        self.firm = enroll(self.ledger, f"model-{os.getpid()}-{n}-{id(self)}", T0, deliver=False)
        self.prefix = f"M{n:05d}{id(self) % 1000:03d}"
        self.now = T0 + timedelta(minutes=1)
        self.keys = {
            card: KeyModel(card, kind, free=True, valid_until=ten_years_after(T0))
            for card, kind in zip(
                self.firm.cards, (KeyKind.LEGAL_PERSON, KeyKind.OPERATOR), strict=True
            )
        }
        self.pair = (self.keys[self.firm.lp], self.keys[self.firm.op])
        self.operator = self._operator_id()
        legal_person = self.firm.form.legal_person
        assert isinstance(legal_person, LegalPersonHolder)
        self.legal_person = self.ledger.card_holder_id(
            self.firm.uscc, KeyKind.LEGAL_PERSON, legal_person
        )
        self.permissions = set(self.ledger.card_holder(self.operator).permissions)
        self.rules = Rules(self.keys, self.permissions)
        self.replacements = 0

    def _operator_id(self) -> Any:
        operator = self.firm.form.operator
        assert isinstance(operator, OperatorHolder)
        return self.ledger.card_holder_id(self.firm.uscc, KeyKind.OPERATOR, operator)

    # -- running one command on both sides ----------------------------------------------------

    def both(
        self,
        name: str,
        model: Callable[[], Any],
        real: Callable[[], CommandResult],
    ) -> CommandResult | None:
        """Run the model and the ledger; they must agree on accepted vs refused-by-which-rule."""
        self.now += timedelta(minutes=1)
        try:
            expected: str | None = None
            model()
        except RefusedError as refusal:
            expected = refusal.rule
        try:
            result = real()
            got: str | None = None
        except DomainError as error:
            result, got = None, error.rule
        self.tally[f"{name}:{got or 'accepted'}"] += 1
        assert got == expected, (
            f"{name}: the ledger said {got or 'accepted'}, the rules {expected or 'accepted'}"
        )
        return result

    def actor(self, window: bool) -> Actor:
        return WINDOW if window else self.firm.me

    def card(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(list(self.keys)), label="card")  # in issue order

    # -- the commands -----------------------------------------------------------------------------

    @rule(data=st.data(), ok=st.booleans(), failures=st.integers(1, 5))
    def pin_attempts(self, data: st.DataObject, ok: bool, failures: int) -> None:
        card = self.card(data)
        for attempt_ok in [False] * (0 if ok else failures) + [ok]:
            self.both(
                "pin_ok" if attempt_ok else "pin_fail",
                lambda o=attempt_ok: self.rules.pin_attempt(self.keys[card], self.now, o),
                lambda o=attempt_ok: self.ledger.run(
                    deciders.record_pin_attempt, ctx(self.firm.me, self.now), card, ok=o
                ),
            )

    @rule(data=st.data())
    def change_pin(self, data: st.DataObject) -> None:
        card = self.card(data)
        self.both(
            "pin_change",
            lambda: self.rules.change_pin(self.keys[card], self.now),
            lambda: self.ledger.run(deciders.change_pin, ctx(self.firm.me, self.now), card),
        )

    @rule(data=st.data(), window=st.sampled_from([True, True, True, False]))
    def unlock(self, data: st.DataObject, window: bool) -> None:
        card = self.card(data)
        self.both(
            "unlock",
            lambda: self.rules.unlock(self.keys[card], self.now, window),
            lambda: self.ledger.run(deciders.unlock_key, self.ctx_at(window), card),
        )

    @rule(
        data=st.data(),
        what=st.sampled_from(["loss", "freeze", "unfreeze", "void", "replace", "replace"]),
        window=st.sampled_from([True, True, False]),
    )
    def incident(self, data: st.DataObject, what: str, window: bool) -> None:
        """Loss (挂失), freeze (冻结), void (作废) or replacement (补办): one rule, so the keys
        do not all end unusable in a few steps."""
        card = self.card(data)
        key, at = self.keys[card], self.ctx_at
        if what == "loss":
            self.both(
                "loss_report",
                lambda: self.rules.report_lost(key, self.now),
                lambda: self.ledger.run(deciders.report_key_lost, at(False), card, reason="遗失"),
            )
        elif what == "freeze":
            self.both(
                "freeze",
                lambda: self.rules.freeze(key, self.now, window),
                lambda: self.ledger.run(deciders.freeze_key, at(window), card, reason="冒用"),
            )
        elif what == "unfreeze":
            self.both(
                "unfreeze",
                lambda: self.rules.unfreeze(key, window),
                lambda: self.ledger.run(deciders.unfreeze_key, at(window), card, reason="核实"),
            )
        elif what == "void":
            erase = data.draw(st.booleans(), label="erase")
            self.both(
                "void",
                lambda: self.rules.void(key, erase),
                lambda: self.ledger.run(
                    deciders.void_key, at(False), card, reason="撤回同意", erase_personal_data=erase
                ),
            )
        else:
            self.replace(data, card)

    def replace(self, data: st.DataObject, card: str) -> None:
        supplier = data.draw(st.sampled_from(Supplier), label="supplier")
        product = data.draw(st.sampled_from(SupplierProduct), label="product")
        self.replacements += 1
        new_card = f"{self.prefix}R{self.replacements}"
        created: list[KeyModel] = []
        self.both(
            "replacement",
            lambda: created.append(self.rules.replace(self.keys[card], self.now, new_card)),
            lambda: self.ledger.run(
                deciders.replace_key, self.ctx_at(False), card,
                new_card_no=new_card, reason="补办", supplier=supplier, product=product,
            ),
        )  # fmt: skip
        for key in created:
            self.keys[key.card] = key

    def ctx_at(self, window: bool) -> Any:
        return ctx(self.actor(window), self.now)

    @rule(data=st.data())
    def request_renewal(self, data: st.DataObject) -> None:
        card = self.card(data)
        result = self.both(
            "renewal_request",
            lambda: self.rules.request_renewal(self.keys[card], self.now),
            lambda: self.ledger.run(deciders.request_renewal, ctx(self.firm.me, self.now), card),
        )
        if result is not None:
            application = dict(result.extra)["application_id"]
            assert application not in self.keys[card].renewals, "an application id was reused"
            self.keys[card].renewals[application] = "requested"

    def application(self, card: str, data: st.DataObject) -> str:
        known = list(self.keys[card].renewals)
        open_ = [a for a, state in self.keys[card].renewals.items() if state != "completed"]
        choices = [*open_ * 4, *known, f"{card}-R99"]
        return data.draw(st.sampled_from(choices), label="application")

    @rule(data=st.data(), window=st.sampled_from([True, True, True, False]))
    def pre_approve(self, data: st.DataObject, window: bool) -> None:
        card = self.card(data)
        application = self.application(card, data)
        self.both(
            "pre_approval",
            lambda: self.rules.pre_approve(self.keys[card], self.now, application, window),
            lambda: self.ledger.run(
                deciders.pre_approve_renewal, ctx(self.actor(window), self.now), card, application
            ),
        )

    @rule(
        data=st.data(),
        window=st.sampled_from([True, True, True, False]),
        complete=st.sampled_from([True, True, True, False]),
    )
    def renew(self, data: st.DataObject, window: bool, complete: bool) -> None:
        card = self.card(data)
        application = self.application(card, data)
        documents = ALL_DOCUMENTS if complete else RenewalDocuments(
            business_licence_original=True, clerk_id_card=True, introduction_letter=False,
            key_presented=True,
        )  # fmt: skip
        self.both(
            "renewal",
            lambda: self.rules.renew(self.keys[card], self.now, application, complete, window),
            lambda: self.ledger.run(
                deciders.renew_key, ctx(self.actor(window), self.now), card,
                application_id=application, documents=documents,
            ),
        )  # fmt: skip

    @rule(window=st.sampled_from([True, True, True, False]))
    def mail_pair(self, window: bool) -> None:
        self.both(
            "mailing",
            lambda: self.rules.mail_pair(self.pair, self.now, window),
            lambda: self.ledger.run(
                deciders.mail_free_pair, self.ctx_at(window), self.firm.uscc, self.firm.mailing
            ),
        )

    @rule(data=st.data(), window=st.sampled_from([True, True, True, False]))
    def mail_one(self, data: st.DataObject, window: bool) -> None:
        """The deprecated one-key mailing."""
        card = self.card(data)
        self.both(
            "mailing_one",
            lambda: self.rules.mail_one(self.keys[card], self.pair, self.now, window),
            lambda: self.ledger.run(
                deciders.mail_key, self.ctx_at(window), card, self.firm.mailing
            ),
        )

    @rule(
        data=st.data(),
        channel=st.sampled_from(DeliveryChannel),
        window=st.sampled_from([True, False]),
    )
    def deliver(self, data: st.DataObject, channel: DeliveryChannel, window: bool) -> None:
        card = self.card(data)
        at_window = channel is DeliveryChannel.WINDOW
        self.both(
            "delivery",
            lambda: self.rules.deliver(self.keys[card], self.now, at_window, window),
            lambda: self.ledger.run(deciders.deliver_key, self.ctx_at(window), card, channel),
        )

    @rule(
        supplier=st.sampled_from(Supplier),
        product=st.sampled_from(SupplierProduct),
        window=st.booleans(),
    )
    def buy_legal_person_key(
        self, supplier: Supplier, product: SupplierProduct, window: bool
    ) -> None:
        """An extra legal-person key for the legal person: refused while theirs is not void."""
        self.replacements += 1
        card = f"{self.prefix}B{self.replacements}"
        created: list[KeyModel] = []
        self.both(
            "buy_legal_person_key",
            lambda: created.append(self.rules.buy_legal_person_key(card, self.now)),
            lambda: self.ledger.run(
                deciders.issue_bought_key, self.ctx_at(window), self.firm.uscc, card_no=card,
                holder_id=self.legal_person, supplier=supplier, product=product,
            ),
        )  # fmt: skip
        for key in created:
            self.keys[key.card] = key

    @rule(
        data=st.data(),
        wanted=st.sets(st.sampled_from(Permission), max_size=4),
        how=st.sampled_from(["legal_person_key", "operator_key", "window", "no_key"]),
    )
    def set_permissions(self, data: st.DataObject, wanted: set[Permission], how: str) -> None:
        authority: KeyModel | None = None
        if how in ("legal_person_key", "operator_key"):
            kind = KeyKind.LEGAL_PERSON if how == "legal_person_key" else KeyKind.OPERATOR
            candidates = [c for c, k in self.keys.items() if k.kind is kind]
            authority = self.keys[data.draw(st.sampled_from(candidates), label="authority")]
        window = how == "window"
        self.both(
            "permissions",
            lambda: self.rules.set_permissions(wanted, authority, window, self.now),
            lambda: self.ledger.run(
                deciders.set_permissions, ctx(self.actor(window), self.now), self.firm.uscc,
                self.operator, wanted,
                authorising_card_no=None if authority is None else authority.card,
            ),
        )  # fmt: skip

    @rule(days=st.sampled_from([1, 1, 1, 30, 30, 90, 400, 400, 3700]))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)

    # -- the state and the views agree with the model -------------------------------------------

    @invariant()
    def keys_and_views_agree_with_the_model(self) -> None:
        self.runner.catch_up()
        for card, model in self.keys.items():
            key = self.ledger.key(card)
            status = model.status(self.now)
            assert key.status(self.now) is KeyStatus(status), card
            assert (key.consecutive_failures, key.locked, key.pin_is_initial) == (
                model.failures, model.locked, model.initial_pin
            ), card  # fmt: skip
            assert key.valid_until == model.valid_until, card
            assert {a: s.value for a, s in key.renewals.items()} == model.renewals, card
            assert key.replaced_by == model.replaced_by, card
            view = get_key(
                ViewSource(self.ledger.database, self.ledger.vault, mask=False), card, now=self.now
            )
            assert view is not None, card
            assert (view.status, view.failed_attempts, view.initial_pin) == (
                status, model.failures, model.initial_pin
            ), card  # fmt: skip
            assert view.attempts_left == (0 if model.locked else LOCK_AFTER - model.failures)
            assert view.valid_until == model.valid_until, card
            assert {r.application_id: r.state for r in view.renewals} == model.renewals, card
            assert view.replaced_by == model.replaced_by, card
        assert set(self.ledger.card_holder(self.operator).permissions) == self.permissions


def test_random_commands_agree_with_a_model_of_the_rules(backend: str, ledger: Ledger) -> None:
    tally: Counter[str] = Counter()
    runner = Runner(ledger.database)
    runner.setup()
    machine = type(
        "Machine",
        (LedgerMachine,),
        {"ledger": ledger, "runner": runner, "serial": counter(), "tally": tally},
    )
    run_state_machine_as_test(
        machine,
        settings=hypothesis_settings(
            max_examples=EXAMPLES[backend],
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            print_blob=True,
        ),
    )
    count(f"model.{backend}.examples", EXAMPLES[backend])
    count(f"model.{backend}.commands", sum(tally.values()))
    count(
        f"model.{backend}.refusals_compared",
        sum(v for k, v in tally.items() if not k.endswith(":accepted")),
    )
    assert sum(tally.values()) > EXAMPLES[backend] * 5
