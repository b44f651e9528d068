"""Any other path under /staff: the console's "page not found" for a signed-in staff member (a visitor
is sent to sign in first, as on every console page). Included last, after every real page."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from atrium.kit.errors import NotFound
from atrium.web.staff.routing import SignedInStaff, StaffPageRoute

router = APIRouter(route_class=StaffPageRoute)


@router.get("/staff/{rest:path}")
def not_found(rest: str, user: SignedInStaff) -> Response:
    raise NotFound("no such console page")
