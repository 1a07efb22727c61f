"""Erasure commands: a person's data erased (删除权), with a reason."""

from __future__ import annotations

from uuid import UUID

from domain.aggregate_ids import erasure_id
from domain.base import CommandContext, DomainEvent, Role
from domain.erasure import events
from domain.guards import require_role, require_text


def erase(ctx: CommandContext, subject: UUID, key: UUID, reason: str) -> list[DomainEvent]:
    """Erase a data subject's personal data: their current data key is destroyed.

    The window or an administrator erases anyone on request; an enterprise erases its own card
    holder when it voids the holder's key because they withdrew their consent (作废).
    """
    require_role(ctx, Role.WINDOW, Role.ADMIN, Role.ENTERPRISE, action="erasing personal data")
    reason = require_text(reason, "reason_required", "reason", "a reason")
    return [
        events.PersonalDataErased(
            **ctx.first_event_fields(erasure_id(key)),
            subject=subject,
            key=key,
            reason=reason,
        )
    ]
