"""Answers of the auditors' routes: stream history, checkpoints, keys, proofs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from api.http.schemas.common import with_examples
from replay.history import HistoryEvent

_HEX64 = r"^[0-9a-f]{64}$"


class Checkpoint(BaseModel):
    """A signed statement: the ledger had ``size`` entries with this Merkle root and chain head."""

    # The wire form of ledger_store.proofs.checkpoint.Checkpoint (its to_json()), described for
    # OpenAPI; the routes hand it to_json() and the dataclass does the real checking.
    model_config = ConfigDict(extra="forbid", frozen=True)

    size: Annotated[int, Field(ge=0, strict=True)]
    root_hash: Annotated[str, Field(pattern=_HEX64)]
    chain_head: Annotated[str, Field(pattern=_HEX64)]
    timestamp: datetime
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
    signature: str


class StreamHistory(BaseModel):
    """A stream's events up to `as_of`, a page at a time (`after=next_cursor`), and the earliest
    signed checkpoint covering the stream's last event."""

    stream: str
    aggregate_id: str
    as_of: datetime | int | None
    events: list[HistoryEvent]
    checkpoint: Checkpoint | None
    next_cursor: str | None = Field(
        description="pass it as `after` for the next page; null on the last page"
    )
    truncated: bool = Field(description="whether more events follow this page")


class SigningKey(BaseModel):
    """A key that signed (or will sign) this ledger's checkpoints."""

    key_id: str
    public_key_pem: str
    first_used: datetime | None = None


class PublicKeys(BaseModel):
    """The current signing key and every key that ever signed a checkpoint here."""

    model_config = with_examples(
        {
            "key_id": "8f0e3c1a2b4d6e7f",
            "public_key_pem": "-----BEGIN PUBLIC KEY-----\n…\n-----END PUBLIC KEY-----\n",
            "keys": [],
        }
    )

    key_id: str | None = Field(description="the key this service signs with now")
    public_key_pem: str | None
    keys: list[SigningKey]


class InclusionBundle(BaseModel):
    """Proof that a ledger entry is in the tree of `size` entries (RFC 9162), self-contained."""

    index: int = Field(description="1-based ledger index")
    leaf_index: int = Field(description="RFC 9162 leaf number: index - 1")
    size: int
    path: list[str]
    entry: dict[str, Any]
    checkpoint: Checkpoint | None
    public_keys: dict[str, str]


class ConsistencyBundle(BaseModel):
    """Proof that the tree of `to` entries extends the one of `from` entries (RFC 9162)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: int = Field(alias="from")
    to: int
    path: list[str]
    old_checkpoint: Checkpoint | None
    new_checkpoint: Checkpoint | None
    public_keys: dict[str, str]
