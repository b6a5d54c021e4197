"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from gateway.api.context import services
from gateway.errors import GatewayError
from gateway.store.migrate import pending_revision


def get_health() -> dict[str, Any]:
    return {"status": "ok"}


def get_readiness() -> tuple[dict[str, Any], int]:
    """Ready when the database answers at the newest migration and keys and registry are loaded."""
    gateway = services()
    checks: dict[str, str] = {
        "keys": f"signing with {gateway.keyring.active.kid}",
        "registry": f"{len(gateway.registry.partners)} administrations",
    }
    try:
        gateway.database.ping()
        pending = pending_revision(gateway.database.engine)
        checks["database"] = "ok" if pending is None else f"migration to {pending} pending"
    except GatewayError as error:
        checks["database"] = error.detail
    ready = checks["database"] == "ok"
    return {"status": "ready" if ready else "not-ready", "checks": checks}, 200 if ready else 503
