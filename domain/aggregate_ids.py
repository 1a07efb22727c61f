"""Aggregate ids derived from natural keys that are not personal data (USCC, card number): lookups
need no index and duplicates are impossible. A card holder's id is keyed with a secret outside
the database instead (`ledger_store/privacy`): anything derived from an ID number in the open
could be turned back into it by enumeration."""

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


def erasure_id(data_key: UUID) -> UUID:
    """The id of the Erasure of one data key (a random id: nothing personal derives it)."""
    return uuid5(LEDGER_NAMESPACE, f"erasure:{data_key}")


def api_token_id(token_id: str) -> UUID:
    """The id of the ApiToken aggregate of a token id (`tok_…`, public: no secret derives it)."""
    return uuid5(LEDGER_NAMESPACE, "api_token:" + token_id)
