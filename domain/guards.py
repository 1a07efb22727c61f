"""The checks a decision makes before it decides: the actor's role, a required text, a person's
data still at hand (not erased), an identifier's own check. Each refuses with a DomainError that
names the rule and the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from domain.base import CommandContext, DomainError, Role
from domain.personal import Sealed


def require_role(ctx: CommandContext, *roles: Role, action: str) -> None:
    """Refuse with rule `role_not_allowed` unless the actor has one of `roles`."""
    if ctx.actor.role not in roles:
        allowed = ", ".join(role.value for role in roles)
        raise DomainError(
            "role_not_allowed",
            f"{action} is for {allowed}, not {ctx.actor.role.value}",
            field="actor",
        )


def require_text(value: str | None, rule: str, field: str, what: str) -> str:
    """Return `value` stripped, refusing with `rule` when it is missing or blank."""
    text = (value or "").strip()
    if not text:
        raise DomainError(rule, f"{what} is required", field=field)
    return text


TPlain = TypeVar("TPlain")


def plaintext(value: TPlain | Sealed, what: str, field: str | None = None) -> TPlain:
    """A person's data as a decision needs it; refused when only its sealed form is at hand.

    The ledger reveals sealed data before deciding where a rule needs it; what stays sealed
    here was erased (删除权), and a rule that needs it cannot be applied any more.
    """
    if isinstance(value, Sealed):
        raise DomainError("personal_data_erased", f"{what} was erased", field)
    return value


def checked(check: Callable[[str], str], value: str, rule: str, field: str) -> str:
    """Return `check(value)`; its ValueError becomes a DomainError naming `rule` and `field`."""
    try:
        return check(value)
    except ValueError as error:
        raise DomainError(rule, str(error), field=field) from None
