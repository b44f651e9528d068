"""/api/v1: every domain's endpoints, mounted in one place."""

from __future__ import annotations

from fastapi import APIRouter

from atrium.identity.endpoints import router as auth_router

api = APIRouter(prefix="/api/v1")


@api.get("/health", tags=["meta"])
def health() -> dict[str, str]:
    """Liveness: the process answers. Public."""
    return {"status": "ok"}


api.include_router(auth_router)
