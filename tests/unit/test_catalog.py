"""The catalog: every stored event type, each with the function that evolves its aggregate."""

from __future__ import annotations

from types import ModuleType
from uuid import UUID

import pytest

from domain import catalog
from domain.base import Actor, DomainEvent, Role, project
from domain.card_holder import events as card_holder_events
from domain.enterprise import events as enterprise_events
from domain.ukey import events as ukey_events
from tests.factories import T0

EVENT_MODULES = (enterprise_events, card_holder_events, ukey_events)
STORED_NAMES = {
    "EnterpriseRegistered", "FilingSubmitted", "WindowApproved", "WindowRejected",
    "EnterpriseInfoChanged", "FreeKeyPairIssued",
    "OperatorRegistered", "PermissionsGranted", "PermissionsRevoked",
    "KeyIssued", "KeyMailed", "KeyDelivered", "PinAttemptFailed", "PinAttemptSucceeded",
    "PinLocked", "PinUnlocked", "PinChanged", "CertificateRenewalRequested",
    "CertificateRenewalPreApproved", "CertificateRenewed", "KeyReportedLost", "KeyFrozen",
    "KeyUnfrozen", "KeyVoided", "KeyReplaced",
}  # fmt: skip


def _event_classes(module: ModuleType) -> list[type[DomainEvent]]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, DomainEvent) and value is not DomainEvent
    ]


def test_the_catalog_knows_every_event_by_its_stored_name() -> None:
    classes = [cls for module in EVENT_MODULES for cls in _event_classes(module)]
    assert {cls.type_name for cls in classes} == STORED_NAMES
    for cls in classes:
        assert catalog.event_class(cls.type_name) is cls
        assert cls.type_name == cls.__name__  # today; the stored name is what must not change


@pytest.mark.parametrize("module", EVENT_MODULES, ids=lambda m: m.__name__)
def test_every_event_has_one_evolve_function_and_no_behaviour(module: ModuleType) -> None:
    for cls in _event_classes(module):
        assert cls in catalog.EVOLVERS, cls.__name__
        assert not hasattr(cls, "apply")
        assert not hasattr(cls, "mutate")


def test_an_event_without_an_evolve_function_is_named_when_projected() -> None:
    class Unheard(DomainEvent):
        """An event no state module evolves."""

    event = Unheard(
        originator_id=UUID(int=1),
        originator_version=1,
        timestamp=T0,
        actor=Actor(principal_id="tester", role=Role.SYSTEM),
    )
    with pytest.raises(LookupError, match="Unheard"):
        project(None, [event])
