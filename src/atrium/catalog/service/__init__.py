"""The catalogue's use cases (flush, never commit). One import path, `atrium.catalog.service`, split by use
case: `viewing` (what a viewer sees), `proposals` (maker-checker), `sync` (definitions from files),
`preview` (who a rule would select), `catalogue` (the per-revision cache)."""

from atrium.catalog.service.preview import audience_preview, check_viewer
from atrium.catalog.service.proposals import (
    STATUSES,
    approve,
    get_managed,
    get_proposal,
    history,
    list_managed,
    list_proposals,
    list_tab_layouts,
    pending_count,
    propose,
    recent_history,
    reject,
    service_status,
    withdraw,
)
from atrium.catalog.service.sync import definition_dirs, load_definitions, sync_definitions
from atrium.catalog.service.viewing import (
    find_visible,
    frequently_used,
    home_quick,
    record_use,
    search,
    tabs_for,
    viewer_for,
    visible_services,
)

__all__ = [
    "STATUSES", "approve", "audience_preview", "check_viewer", "definition_dirs", "find_visible",
    "frequently_used", "get_managed", "get_proposal", "history", "home_quick", "list_managed",
    "list_proposals", "list_tab_layouts", "load_definitions", "pending_count", "propose", "recent_history",
    "record_use", "reject", "search", "service_status", "sync_definitions", "tabs_for", "viewer_for",
    "visible_services", "withdraw",
]
