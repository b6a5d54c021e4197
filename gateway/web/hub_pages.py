"""RILO analysts' pages: a period's trend report with charts drawn on the server (inline SVG,
no script, no CDN), the report as CSV, and the candidate duplicates an analyst confirms or
rejects (forms, no script)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import flask

from gateway.api.context import services
from gateway.errors import GatewayError
from gateway.rilo.series import Series, months_ending
from gateway.rilo.trends import Period, month_label
from gateway.web.session import check_csrf, current_user, requires


def default_period() -> str:
    today = datetime.now(UTC).date()
    quarter = (today.month - 1) // 3  # the last full quarter
    return f"{today.year - 1}-Q4" if quarter == 0 else f"{today.year}-Q{quarter}"


def bars(cells: list[dict[str, Any]], limit: int = 12) -> list[dict[str, Any]]:
    """Shown cells as bars scaled to the largest (suppressed cells are not drawn)."""
    shown = [c for c in cells if not c["suppressed"]][:limit]
    top = max((c["cases"] for c in shown), default=1)
    return [{**c, "width": round(360 * c["cases"] / top, 1)} for c in shown]


def columns(series: Series, width: float = 600, height: float = 80) -> dict[str, Any]:
    """A series as columns scaled to its largest month (a month of none is drawn as none,
    and said so in its title), with the years marked where they start."""
    top = max(series.cases, default=0) or 1
    step = width / max(len(series.months), 1)
    bars = []
    for i, (month, cases) in enumerate(zip(series.months, series.cases, strict=True)):
        tall = round(height * cases / top, 1)
        bars.append(
            {
                "x": round(i * step, 1),
                "y": round(height - tall, 1),
                "width": round(max(step - 1, 1), 1),
                "height": tall,
                "title": f"{month_label(month)}: {cases:,} seizures"
                if cases
                else f"{month_label(month)}: none",
                "year": month // 100 if month % 100 == 1 or i == 0 else None,
            }
        )
    return {
        "value": series.value,
        "table": series.table,
        "bars": bars,
        "top": max(series.cases, default=0),
        "total": sum(series.cases),
        "empty": series.empty_months,
        "first": month_label(series.months[0]),
        "last": month_label(series.months[-1]),
    }


def number(value: Any) -> str:
    """A figure for reading: thousands separated, amounts to at most three decimals, none
    as nothing."""
    if value is None or value == "":
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return "" if value == 0 else f"{value:,.3f}".rstrip("0").rstrip(".")
    return str(value)


def hub_pages(web: flask.Blueprint) -> None:
    web.add_app_template_filter(number, "number")

    @web.get("/trends")
    @requires("analyst")
    def trends() -> Any:
        hub = services().hub
        if hub is None:
            flask.abort(404, "this gateway is not the RILO A/P hub")
        text = flask.request.args.get("period") or default_period()
        try:
            period = Period.parse(text)
        except ValueError as error:
            flask.abort(400, str(error))
        report = hub.trend_report(period)
        last = month_label(period.months[-1])
        months = months_ending(last)
        return flask.render_template(
            "trends.html",
            report=report,
            notable=hub.notable(period),
            charts={
                "category": bars(report["tables"]["category"]),
                "route": bars(report["top_routes"], 10),
            },
            series={
                table: [columns(s) for s in hub.series(table, months)]
                for table in ("commodity", "corridor")
            },
        )

    @web.get("/trends.csv")
    @requires("analyst")
    def trends_csv() -> Any:
        from gateway.api.hub import as_csv

        hub = services().hub
        if hub is None:
            flask.abort(404, "this gateway is not the RILO A/P hub")
        try:
            period = Period.parse(flask.request.args.get("period") or default_period())
        except ValueError as error:
            flask.abort(400, str(error))
        report = hub.trend_report(period)
        report["notable_seizures"] = hub.notable(period)
        return flask.Response(
            as_csv(report),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="rilo-ap-{period.label}.csv"'},
        )

    @web.get("/hub/duplicates")
    @requires("analyst")
    def duplicates() -> Any:
        hub = services().hub
        if hub is None:
            flask.abort(404, "this gateway is not the RILO A/P hub")
        every = flask.request.args.get("all") == "1"
        return flask.render_template(
            "duplicates.html", candidates=hub.candidates(only_open=not every), every=every
        )

    # ``case_id``: the bounded integer converter of the case pages (1 to INTEGER's maximum)
    @web.post("/hub/duplicates/<case_id:candidate_id>/decision")
    @requires("analyst")
    def decide_duplicate(candidate_id: int) -> Any:
        check_csrf()
        hub = services().hub
        if hub is None:
            flask.abort(404, "this gateway is not the RILO A/P hub")
        decision = flask.request.form.get("decision", "")
        if decision not in ("confirm", "reject"):
            flask.abort(400, "decision: confirm or reject")
        person = current_user()
        assert person is not None  # requires() signed them in
        try:
            state = hub.decide_duplicate(
                candidate_id,
                confirmed=decision == "confirm",
                actor=person.actor("analyst"),
                now=datetime.now(UTC),
            )
            flask.flash(f"Candidate {candidate_id}: {state}.")
        except GatewayError as error:
            flask.flash(f"{error.title}: {error.detail}")
        return flask.redirect(flask.url_for("web.duplicates"), 303)
