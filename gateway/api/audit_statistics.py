"""``GET /v1/audit/statistics``: exchange statistics for auditors, as JSON or CSV.

Same access as ``GET /v1/audit/events`` (an operator token with the auditor role). What is
counted: :mod:`gateway.audit.statistics`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import flask

from gateway.api.context import services
from gateway.api.operators import require_role
from gateway.api.params import instant
from gateway.audit.reads import as_mapping
from gateway.audit.statistics import Statistics, StatisticsQuery, compute

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def statistics_query(
    *,
    since: str | None,
    until: str | None,
    period: str | None,
    partner: str | None = None,
    message_type: str | None = None,
    direction: str | None = None,
    now: datetime,
) -> StatisticsQuery:
    """The query of these parameters (the API's, the pages', the CLI's): ``since`` and ``until``
    as RFC 3339 date-times or dates (UTC midnight), ``until`` ``now`` when absent.
    DocumentError for a value that is no date-time, RequestInvalidError for an empty range or
    an unknown period or direction."""
    return StatisticsQuery(
        since=instant(since),
        until=instant(until) or now,
        period=period or "day",
        partner=partner,
        message_type=message_type,
        direction=direction,
    )


def csv_response(statistics: Statistics) -> flask.Response:
    """The CSV form as a download named after its range."""
    query = statistics.query
    name = (
        f"exchange-statistics-{query.since.date() if query.since else 'start'}-{query.until.date()}"
    )
    return flask.Response(
        statistics.to_csv(),
        content_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def wants_csv(format: str | None) -> bool:
    """``format`` decides; without it, whether the caller prefers CSV to JSON (``Accept``)."""
    if format is not None:
        return format == "csv"
    best = flask.request.accept_mimetypes.best_match(["application/json", "text/csv"])
    return best == "text/csv"


def get_statistics(
    token_info: dict[str, Any],
    since: str | None = None,
    until: str | None = None,
    partner: str | None = None,
    message_type: str | None = None,
    direction: str | None = None,
    period: str = "day",
    format: str | None = None,
) -> flask.Response:
    actor = require_role(token_info, "auditor")
    filters = {"since": since, "until": until, "partner": partner, "period": period}
    filters |= {"message_type": message_type, "direction": direction}
    services().reads.record(actor, "statistics", filters=as_mapping(filters))
    query = statistics_query(
        since=since,
        until=until,
        period=period,
        partner=partner,
        message_type=message_type,
        direction=direction,
        now=datetime.now(UTC),
    )
    statistics = compute(services().database, query)
    if wants_csv(format):
        return csv_response(statistics)
    return flask.jsonify(statistics.to_dict())
