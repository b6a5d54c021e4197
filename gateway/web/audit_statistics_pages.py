"""The auditors' exchange statistics page: the table, a chart drawn on the server (inline SVG:
the pages carry no script), and the same figures to download as CSV and JSON.

What is counted: :mod:`gateway.audit.statistics`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import flask

from gateway.api.audit_statistics import csv_response, statistics_query
from gateway.api.context import services
from gateway.audit.reads import as_mapping
from gateway.audit.statistics import OUTCOMES, Statistics, compute
from gateway.errors import GatewayError
from gateway.web.session import current_user, requires

FILTERS = ("since", "until", "partner", "message_type", "direction", "period")
#: One colour per outcome, with its name beside it in the legend and in every bar's title.
COLOURS = {
    "accepted": "#1b6b2f",
    "delivered": "#2a7fbf",
    "pulled": "#0b4f8a",
    "pending": "#7a7a7a",
    "awaiting-review": "#f0a500",
    "retrying": "#b36b00",
    "refused": "#a4161a",
    "dead-letter": "#5c0a0c",
    "withdrawn": "#6a3d9a",
}
#: The most periods drawn (the table shows them all).
CHART_PERIODS = 62
BAR_WIDTH = 480


def _statistics() -> tuple[dict[str, str | None], Statistics]:
    """The filters of the request and their statistics; 400 for a filter that is not valid."""
    args = flask.request.args
    criteria = {name: args.get(name) or None for name in FILTERS}
    try:
        query = statistics_query(
            since=criteria["since"],
            until=criteria["until"],
            period=criteria["period"],
            partner=criteria["partner"],
            message_type=criteria["message_type"],
            direction=criteria["direction"],
            now=datetime.now(UTC),
        )
    except GatewayError as error:
        flask.abort(400, error.detail)
    person = current_user()
    if person is not None:
        services().reads.record(person.actor("auditor"), "statistics", filters=as_mapping(criteria))
    return criteria, compute(services().database, query)


def chart(statistics: Statistics) -> dict[str, Any]:
    """Per period, the messages of each outcome as segments of one bar scaled to the largest
    period; the outcomes present, for the legend."""
    by_period: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in statistics.rows:
        by_period[row.period.isoformat()][row.outcome] += row.messages
    periods = sorted(by_period)[-CHART_PERIODS:]
    top = max((sum(by_period[p].values()) for p in periods), default=1)
    present = [o for o in OUTCOMES if any(by_period[p].get(o) for p in periods)]
    bars = []
    for period in periods:
        x, segments = 0.0, []
        for outcome in present:
            count = by_period[period].get(outcome, 0)
            if count:
                width = round(BAR_WIDTH * count / top, 1)
                segments.append(
                    {
                        "outcome": outcome,
                        "count": count,
                        "x": x,
                        "width": width,
                        "colour": COLOURS[outcome],
                    }
                )
                x += width
        bars.append(
            {
                "period": period,
                "total": sum(by_period[period].values()),
                "x": x,
                "segments": segments,
            }
        )
    return {
        "bars": bars,
        "legend": [{"outcome": o, "colour": COLOURS[o]} for o in present],
        "truncated": len(by_period) > CHART_PERIODS,
        "table": {
            "outcomes": present,
            "periods": [(p, [by_period[p].get(o, 0) for o in present]) for p in sorted(by_period)],
        },
    }


def statistics_pages(web: flask.Blueprint) -> None:
    @web.get("/audit/statistics")
    @requires("auditor")
    def statistics() -> Any:
        criteria, found = _statistics()
        given = {k: v for k, v in criteria.items() if v}
        return flask.render_template(
            "audit_statistics.html",
            statistics=found.to_dict(),
            chart=chart(found),
            criteria=criteria,
            given=given,
        )

    @web.get("/audit/statistics.csv")
    @requires("auditor")
    def statistics_csv() -> Any:
        return csv_response(_statistics()[1])

    @web.get("/audit/statistics.json")
    @requires("auditor")
    def statistics_json() -> Any:
        found = _statistics()[1]
        return flask.Response(
            json.dumps(found.to_dict(), indent=2),
            content_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="exchange-statistics.json"'},
        )
