"""Aggregate ids derived from natural keys: lookups need no index, duplicates are impossible."""

from __future__ import annotations

from typing import Final
from uuid import UUID, uuid5

LEDGER_NAMESPACE: Final = UUID("6f1c2a4e-8d3b-5e7a-9c10-4b2d6e8f0a13")


def enterprise_id(uscc: str) -> UUID:
    """The id of the Enterprise aggregate of a USCC."""
    return uuid5(LEDGER_NAMESPACE, "enterprise:" + uscc)


def key_id(card_no: str) -> UUID:
    """The id of the UKey aggregate of a card number."""
    return uuid5(LEDGER_NAMESPACE, "key:" + card_no)


def card_holder_id(uscc: str, id_number: str, kind: str = "operator") -> UUID:
    """The id of a card holder (CardHolder aggregate) of one enterprise."""
    # The legal-person card holder is `legal_person:{uscc}:{id_number}`, so one person holding
    # both cards (allowed, with a warning) gets two distinct aggregates.
    return uuid5(LEDGER_NAMESPACE, f"{kind}:{uscc}:{id_number}")
