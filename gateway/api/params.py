"""Query parameters shared by several operations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway.errors import DocumentError


def instant(value: Any) -> datetime | None:
    """A date-time query value as an aware datetime (UTC when it names no zone)."""
    if value is None:
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError as error:
        raise DocumentError(f"{value!r} is not an RFC 3339 date-time") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
