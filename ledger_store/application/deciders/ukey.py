"""Key commands after issue: EMS, PIN, unlock, renewal, loss, freeze, void (issue and replacement:
`key_issue_commands.py`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypedDict
from uuid import UUID

from typing_extensions import Unpack

from domain.base import CommandContext, DomainEvent
from domain.forms import MailingDetails, RenewalDocuments
from domain.ukey import decisions as ukeys
from domain.ukey.state import UKey
from ledger_store.application.deciders.key_issue import KeyIssueCommands
from ledger_store.application.idempotency import IdempotencyClaim
from ledger_store.application.ledger import CommandResult, Decide, check_version
from ledger_store.application.loop_execution import LoopExecution
from ledger_store.eventstore.async_pool import AsyncPool

KeyStep = Callable[[UKey], list[DomainEvent]]


class CommandOptions(TypedDict, total=False):
    """Options every key command takes: If-Match and Idempotency-Key."""

    expected_version: int | None
    idempotency: IdempotencyClaim | None


class KeyCommands(KeyIssueCommands, LoopExecution):
    """Commands of a UKEY's life after its issue."""

    def mail_key(
        self,
        ctx: CommandContext,
        card_no: str,
        details: MailingDetails,
        **options: Unpack[CommandOptions],
    ) -> CommandResult:
        """Hand a free key to EMS with the completed handover form (快递交接单)."""
        return self._step(ctx, card_no, lambda key: ukeys.mail(key, ctx, details), **options)

    def deliver_key(
        self, ctx: CommandContext, card_no: str, **options: Unpack[CommandOptions]
    ) -> CommandResult:
        """Record that EMS delivered the key."""
        return self._step(ctx, card_no, lambda key: ukeys.deliver(key, ctx), **options)

    def record_pin_attempt(
        self, ctx: CommandContext, card_no: str, *, ok: bool, **options: Unpack[CommandOptions]
    ) -> CommandResult:
        """Record a PIN attempt; the fifth consecutive failure locks the key (commutes)."""
        return self._step(
            ctx,
            card_no,
            lambda key: ukeys.record_pin_attempt(key, ctx, ok),
            commutes=True,
            **options,
        )

    async def record_pin_attempt_async(
        self,
        pool: AsyncPool | None,
        ctx: CommandContext,
        card_no: str,
        *,
        ok: bool,
        **options: Unpack[CommandOptions],
    ) -> CommandResult:
        """`record_pin_attempt` on the event loop where it can be (`loop_execution`)."""
        decide = self._key_decision(
            ctx,
            card_no,
            lambda key: ukeys.record_pin_attempt(key, ctx, ok),
            options.get("expected_version"),
        )
        return await self.execute_async(
            pool, decide, commutes=True, idempotency=options.get("idempotency")
        )

    def change_pin(
        self, ctx: CommandContext, card_no: str, **options: Unpack[CommandOptions]
    ) -> CommandResult:
        """Record that the holder changed the initial PIN."""
        return self._step(ctx, card_no, lambda key: ukeys.change_pin(key, ctx), **options)

    def unlock_key(
        self, ctx: CommandContext, card_no: str, **options: Unpack[CommandOptions]
    ) -> CommandResult:
        """Unlock a locked key (解锁); the PIN is the initial one again."""
        return self._step(ctx, card_no, lambda key: ukeys.unlock(key, ctx), **options)

    def request_renewal(
        self, ctx: CommandContext, card_no: str, **options: Unpack[CommandOptions]
    ) -> CommandResult:
        """Apply online for a certificate renewal (证书更新); answers the application id."""
        application: dict[str, str] = {}

        def step(key: UKey) -> list[DomainEvent]:
            application["application_id"] = f"{key.card_no}-R{len(key.renewals) + 1}"
            return ukeys.request_renewal(key, ctx, application["application_id"])

        return self._step(ctx, card_no, step, extra=lambda: dict(application), **options)

    def pre_approve_renewal(
        self,
        ctx: CommandContext,
        card_no: str,
        application_id: str,
        **options: Unpack[CommandOptions],
    ) -> CommandResult:
        """The window pre-approves a renewal application (预审)."""
        return self._step(
            ctx, card_no, lambda key: ukeys.pre_approve_renewal(key, ctx, application_id), **options
        )

    def renew_key(
        self,
        ctx: CommandContext,
        card_no: str,
        *,
        application_id: str,
        documents: RenewalDocuments,
        certificate_number: str | None = None,
        **options: Unpack[CommandOptions],
    ) -> CommandResult:
        """Renew in person at the window with the four documents: ten more years."""
        return self._step(
            ctx,
            card_no,
            lambda key: ukeys.renew(key, ctx, application_id, documents, certificate_number),
            **options,
        )

    def report_key_lost(
        self, ctx: CommandContext, card_no: str, *, reason: str, **options: Unpack[CommandOptions]
    ) -> CommandResult:
        """Report a key lost (挂失)."""
        return self._step(ctx, card_no, lambda key: ukeys.report_lost(key, ctx, reason), **options)

    def freeze_key(
        self, ctx: CommandContext, card_no: str, *, reason: str, **options: Unpack[CommandOptions]
    ) -> CommandResult:
        """Freeze a key for false information or impersonation (冻结)."""
        return self._step(ctx, card_no, lambda key: ukeys.freeze(key, ctx, reason), **options)

    def void_key(
        self,
        ctx: CommandContext,
        card_no: str,
        *,
        reason: str,
        erase_personal_data: bool = False,
        **options: Unpack[CommandOptions],
    ) -> CommandResult:
        """Void a key (作废), optionally erasing its holder's personal data from the views."""
        return self._step(
            ctx, card_no, lambda key: ukeys.void(key, ctx, reason, erase_personal_data), **options
        )

    def _step(
        self,
        ctx: CommandContext,
        card_no: str,
        step: KeyStep,
        *,
        commutes: bool = False,
        expected_version: int | None = None,
        idempotency: IdempotencyClaim | None = None,
        extra: Callable[[], dict[str, str]] | None = None,
    ) -> CommandResult:
        """Load the key, check If-Match, apply one lifecycle step, record."""
        decide = self._key_decision(ctx, card_no, step, expected_version)
        return self.execute(decide, commutes=commutes, idempotency=idempotency, extra=extra)

    def _key_decision(
        self, ctx: CommandContext, card_no: str, step: KeyStep, expected_version: int | None
    ) -> Decide:
        def decide() -> tuple[UUID, Sequence[DomainEvent]]:
            key = self.key(card_no)
            check_version(key, expected_version)
            return key.id, step(key)

        return decide


class Ledger(KeyCommands):
    """The eport ledger: every enterprise, card holder and key, one hash-chained history."""
