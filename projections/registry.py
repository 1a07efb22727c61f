"""Every view by name: the tracked ones (tables + a position each) and the derived ones, which
are queries over the tracked ones' tables (the window queue, the expiry calendar)."""

from __future__ import annotations

from collections.abc import Iterable

from projections.audit_trail.fold import AuditTrailView
from projections.engine.view import View
from projections.enterprise_overview.fold import EnterpriseOverviewView
from projections.key_status.fold import KeyStatusView

KEY_STATUS = KeyStatusView()
ENTERPRISE_OVERVIEW = EnterpriseOverviewView()
AUDIT_TRAIL = AuditTrailView()

TRACKED: tuple[View, ...] = (KEY_STATUS, ENTERPRISE_OVERVIEW, AUDIT_TRAIL)
DERIVED: dict[str, tuple[str, ...]] = {
    "window_queue": (KEY_STATUS.name, ENTERPRISE_OVERVIEW.name),
    "expiry_calendar": (KEY_STATUS.name,),
}
VIEW_NAMES: tuple[str, ...] = tuple(v.name for v in TRACKED) + tuple(DERIVED)


def tracked_views() -> list[View]:
    """The views the runner keeps, in a fixed order."""
    return list(TRACKED)


def resolve_views(names: Iterable[str | View] | None) -> list[View]:
    """The tracked views that serve the named views (all when None), without duplicates."""
    if names is None:
        return tracked_views()
    known = {view.name: view for view in TRACKED}
    chosen: dict[str, View] = {}
    for name in names:
        if isinstance(name, View):
            chosen[name.name] = name
            continue
        for base in DERIVED.get(name, (name,)):
            if base not in known:
                raise ValueError(f"no view named {name!r}; known: {', '.join(VIEW_NAMES)}")
            chosen[base] = known[base]
    return list(chosen.values())
