"""What a decision may read: aggregates, from the cache or the store, and the region's codes.

A reader is made for ONE attempt at deciding a command, and remembers how it got each
aggregate, so the Ledger can tell whether the decision rests on state it has not verified:

- A reader that **trusts the cache** answers from this process's aggregate cache without a
  read. For the aggregates a command *writes* that is safe: their new events carry the next
  versions, and the append refuses a version that is taken, so a stale state can never be
  recorded on — the command is then decided again by a reader that does not trust the cache.
  What a command only *reads*, and any refusal or no-op, is checked by the Ledger.
- A reader that **may not read** (on the event loop, where a read would stall every request)
  raises `NeedsReadError` wherever it would read; the Ledger then decides in a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar
from uuid import UUID

from domain.base import Aggregate, DomainError
from domain.personal import Sealed, Subject
from domain.region import RegionConfig
from ledger_store.eventstore.database import TransactionWrite
from ledger_store.eventstore.store import EventStore, find_with
from ledger_store.privacy.key_store import KeyRow
from ledger_store.privacy.vault import Erased, PersonalDataVault

TAgg = TypeVar("TAgg", bound=Aggregate)
T = TypeVar("T")


class NeedsReadError(Exception):
    """Deciding needed a read, and this reader may not read (it decides on the event loop)."""


class Reader:
    """Loads the aggregates one decision needs; remembers their versions and their source."""

    def __init__(
        self,
        store: EventStore,
        region: RegionConfig,
        vault: PersonalDataVault,
        *,
        trust_cache: bool,
        may_read: bool = True,
    ) -> None:
        self._store = store
        self.region = region
        """The region whose department codes the window checks (configuration)."""
        self._vault = vault
        self._trust_cache = trust_cache
        self._may_read = may_read
        self.versions: dict[UUID, int] = {}
        """Every aggregate this reader gave, at the version it gave."""
        self.unverified: dict[UUID, int] = {}
        """The aggregates it gave from the cache without a read (possibly stale)."""
        self.keys: dict[UUID, KeyRow] = {}
        """The live data keys it revealed with, by subject (sealing reuses them; the append
        checks they are still live)."""
        self.remembered: set[UUID] = set()
        """The ids of those taken from the process's memory (trusting the cache), not read."""

    def load(self, cls: type[TAgg], aggregate_id: UUID, *, what: str = "") -> TAgg:
        """The aggregate (NotFoundError when it does not exist)."""
        state = self._store.cached(aggregate_id) if self._trust_cache else None
        if isinstance(state, cls):
            self.unverified[aggregate_id] = state.version
        else:
            if not self._may_read:
                raise NeedsReadError(aggregate_id)
            state = self._store.load(cls, aggregate_id, what=what)
        self.versions[aggregate_id] = state.version
        return state

    def find(self, cls: type[TAgg], aggregate_id: UUID) -> TAgg | None:
        """The aggregate, or None when it does not exist."""
        return find_with(self.load, cls, aggregate_id)

    # -- personal data ----------------------------------------------------------------------

    def subject_id(self, subject: Subject) -> UUID:
        """A data subject's id (keyed: a card holder's id is one)."""
        return self._vault.subject_id(subject)

    def reveal(self, value: object, cls: Any, what: str, field: str | None = None) -> Any:
        """A person's data in plaintext (as `cls`) for a rule that needs it; refused once erased."""
        if not isinstance(value, Sealed):
            return value
        if not self._may_read:
            raise NeedsReadError(value.subject)
        revealed = self._reveal([value])[0]
        if isinstance(revealed, Erased):
            raise DomainError("personal_data_erased", f"{what} was erased", field)
        return self._vault.as_type(revealed, cls)

    def reveal_many(self, wanted: Mapping[str, tuple[object, Any]], what: str) -> dict[str, Any]:
        """Several values in plaintext (each as its type), reading their keys once; refused
        (naming the field) when one of them was erased."""
        sealed = [value for value, _ in wanted.values() if isinstance(value, Sealed)]
        if sealed and not self._may_read:
            raise NeedsReadError(what)
        revealed = dict(zip(map(id, sealed), self._reveal(sealed), strict=True))
        answer: dict[str, Any] = {}
        for field, (value, cls) in wanted.items():
            if not isinstance(value, Sealed):
                answer[field] = value
                continue
            plain = revealed[id(value)]
            if isinstance(plain, Erased):
                raise DomainError("personal_data_erased", f"{what} {field} was erased", field)
            answer[field] = self._vault.as_type(plain, cls)
        return answer

    def _reveal(self, sealed: list[Sealed]) -> list[Any]:
        """Sealed values revealed (JSON, or ERASED) with one read of their keys, kept."""
        keys, remembered = self._vault.read_keys(sealed, fresh=not self._trust_cache)
        self.remembered |= remembered
        self.keys |= {row.subject: row for row in keys.values()}
        return [self._vault.reveal_json(value, keys) for value in sealed]

    def find_subjects(self, kind: str, value: str) -> set[UUID]:
        """The data subjects an ID number, phone or name belongs to (blind index)."""
        if not self._may_read:
            raise NeedsReadError(kind)
        return self._vault.find(kind, value)

    def erasure_writes(self, key: KeyRow) -> list[TransactionWrite]:
        """What erasing `key` writes beside its event (no I/O until the append)."""
        return self._vault.erasure_writes(key)

    def live_keys(self, subjects: Iterable[UUID]) -> dict[UUID, KeyRow]:
        """The live data keys of these subjects (the erased ones are absent)."""
        if not self._may_read:
            raise NeedsReadError("keys")
        return self._vault.live_keys(subjects)
