"""Query parameters shared by several operations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway.errors import DocumentError, RequestInvalidError


def instant(value: Any) -> datetime | None:
    """A date-time query value as an aware datetime in UTC (taken as UTC when it names no zone).

    DocumentError if it is no date-time; RequestInvalidError if it is one only in its own zone
    (9999-12-31T23:59:59-01:00 is in the year 10000 in UTC, which no datetime holds)."""
    if value is None:
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError as error:
        raise DocumentError(f"{value!r} is not an RFC 3339 date-time") from error
    if not moment.tzinfo:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:
        raise RequestInvalidError(f"{value!r} is outside the years 1 to 9999 in UTC") from error
