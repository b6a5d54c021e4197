"""The RILO A/P hub over the API: members' signed batches in; exact trend reports out, as JSON
or CSV, to RILO analysts (an integrating system acting for an analyst's account); and to every
member, the newest disclosure-controlled release of a period (the release ledger)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import flask

from gateway.api.acting import acting
from gateway.api.context import services
from gateway.api.messages import incoming, receipt_response
from gateway.api.signing import json_answer
from gateway.errors import DocumentError, ForbiddenError, NotFoundError
from gateway.people import Person
from gateway.rilo.series import months_ending, months_from
from gateway.rilo.trends import QUANTITIES, Period, month_label

CSV_COLUMNS = (
    "dimension",
    "value",
    "suppressed",
    "cases",
    "members",
    *QUANTITIES,
    "change_previous_pct",
    "change_previous_significant",
    "change_year_pct",
    "change_year_significant",
)


def _hub() -> Any:
    gateway = services()
    if gateway.hub is None:
        raise NotFoundError("this gateway is not the RILO A/P hub")
    return gateway.hub


def _analyst(token_info: dict[str, Any], refusal: str) -> Person:
    """The person an integrating system acts for, who must be a RILO analyst (else
    ``refusal``, 403)."""
    person = acting(token_info)
    if "analyst" not in person.roles:
        raise ForbiddenError(refusal)
    return person


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as error:
        raise DocumentError(str(error)) from error


#: What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(value: Any) -> Any:
    """``value``, or a text value a spreadsheet would run as a formula with a ``'`` before it.
    Members write free text (a commodity's type opens the commodity-route value); analysts open
    the CSV in a spreadsheet."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def as_csv(report: dict[str, Any]) -> str:
    """One row per cell of every table (suppressed cells show no figures), then the period's
    total (``total``), its top corridors (``top-corridor``), its new commodity-route pairs
    (``new-commodity-route``) and, in the analysts' report, its notable seizures
    (``notable-seizure``: date, member, commodity, route and mode as the value); each text
    that would start a formula quoted (:func:`_spreadsheet_safe`)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    rows: list[dict[str, Any]] = [
        {"dimension": dimension, **cell}
        for dimension, table in report["tables"].items()
        for cell in table
    ]
    total = report["total_cases"]
    rows.append({"dimension": "total", "value": report["period"], "cases": total})
    rows += [{**cell, "dimension": "top-corridor"} for cell in report.get("top_routes", ())]
    rows += [
        {**cell, "dimension": "new-commodity-route"}
        for cell in report.get("new_commodity_routes", ())
    ]
    for seizure in report.get("notable_seizures", ()):
        what = (seizure[k] for k in ("seizure_date", "member", "commodity", "route", "mode"))
        rows.append(
            {
                **{q: seizure[q] for q in QUANTITIES if q in seizure},
                "dimension": "notable-seizure",
                "value": " ".join(str(w) for w in what),
                "suppressed": False,
                "cases": 1,
            }
        )
    for row in rows:
        writer.writerow({name: _spreadsheet_safe(value) for name, value in row.items()})
    return out.getvalue()


def post_batch(token_info: dict[str, Any]) -> flask.Response:
    _hub()
    return receipt_response(services().inbound.receive_seizure_report_batch(incoming(token_info)))


def get_trends(token_info: dict[str, Any], period: str, format: str = "json") -> flask.Response:
    _analyst(token_info, "trend reports are for RILO analysts")
    chosen = _period(period)
    report = _hub().trend_report(chosen)
    report["notable_seizures"] = _hub().notable(chosen)
    if format == "csv":
        return flask.Response(
            as_csv(report),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="rilo-ap-{chosen.label}.csv"'},
        )
    return flask.jsonify(report)


def get_series(
    token_info: dict[str, Any],
    table: str,
    last: str,
    first: str | None = None,
    value: str | None = None,
    limit: int = 5,
) -> flask.Response:
    """Monthly series of a table's cells for RILO analysts: ``value``'s, or the ``limit``
    values with the most seizures over the months ``first`` to ``last`` (by default the 36
    months that end with ``last``)."""
    _analyst(token_info, "series are for RILO analysts")
    try:
        months = months_from(first, last) if first else months_ending(last)
    except ValueError as error:
        raise DocumentError(str(error)) from error
    found = _hub().series(table, months, [value] if value else [], limit=limit)
    return flask.jsonify(
        {
            "table": table,
            "from": month_label(months[0]),
            "to": month_label(months[-1]),
            "series": [s.as_dict() for s in found],
        }
    )


def get_candidates(
    token_info: dict[str, Any], state: str = "open", limit: int = 100
) -> flask.Response:
    """Candidate duplicates for RILO analysts, newest first: the open ones, or all."""
    _analyst(token_info, "candidate duplicates are for RILO analysts")
    found = _hub().candidates(only_open=state == "open", limit=limit)
    return flask.jsonify({"candidates": found})


def decide_candidate(
    token_info: dict[str, Any], candidate_id: int, decision: str
) -> flask.Response:
    """An analyst confirms (one seizure: counted once) or rejects (two seizures) an open
    candidate, as on the page; audited as that analyst."""
    person = _analyst(token_info, "candidate duplicates are decided by RILO analysts")
    state = _hub().decide_duplicate(
        candidate_id,
        confirmed=decision == "confirm",
        actor=person.actor("analyst"),
        now=datetime.now(UTC),
    )
    return flask.jsonify({"id": candidate_id, "state": state})


def get_summary(token_info: dict[str, Any], period: str) -> flask.Response:
    """The newest release of the period to members (or to the public), as the ledger keeps it,
    for every member (signed like every answer to a partner)."""
    caller = services().registry.partners.get(token_info["assertion"].caller)
    if caller is None or not caller.rilo_ap_member:
        raise ForbiddenError("the published summaries are for RILO Asia/Pacific members")
    _hub()
    chosen = _period(period)
    releases = services().releases
    assert releases is not None  # built with the hub
    try:
        report = releases.latest(chosen)
    except LookupError:
        raise NotFoundError(f"no summary of {chosen.label} has been released yet") from None
    return json_answer(services(), report, token_info=token_info, message_type="trend-summary")
