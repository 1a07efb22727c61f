"""Answers of the operational routes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    """The process is alive."""

    status: Literal["ok"]


class ViewState(BaseModel):
    """How far one view has applied the ledger."""

    position: int
    lag: int = Field(description="ledger entries not applied yet")


class Readiness(BaseModel):
    """Whether the service can answer: the database reachable, the views' lag."""

    status: Literal["ready", "starting", "unavailable"]
    """`starting`: the views kept in this process have not yet reached the ledger as it was
    when the process started (a lookup could miss what exists); 503 until they have."""
    database: Literal["reachable", "unreachable"]
    ledger_size: int | None
    views: dict[str, ViewState]
    views_kept_by: Literal["inprocess", "worker"]
    projector_error: str | None = None
