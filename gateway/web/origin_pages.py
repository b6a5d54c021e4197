"""Officers' pages for certificates of origin: lookup at clearance, verification requests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import flask

from gateway.api.context import services
from gateway.origin.service import VERIFICATION_STATES
from gateway.web.session import current_user, requires


def origin_pages(web: flask.Blueprint) -> None:
    @web.get("/origin/certificates")
    @requires("officer", "supervisor")
    def origin_lookup() -> Any:
        """The lookup form; with number and issue date, the certificate as held (audited)."""
        args = flask.request.args
        number, issued = (args.get("number") or "").strip(), args.get("issue_date") or ""
        record = None
        error = None
        if number or issued:
            try:
                day = date.fromisoformat(issued)
            except ValueError:
                error = "Give the issue date as YYYY-MM-DD."
            else:
                if not number or len(number) > 64:
                    error = "Give the certificate number (up to 64 characters)."
                else:
                    user = current_user()
                    assert user is not None  # requires() signed them in
                    record = services().origin.lookup(
                        number,
                        day,
                        actor=user.actor("officer"),
                        now=datetime.now(UTC),
                        exporting_party=args.get("exporting_party") or None,
                    )
        status = 400 if error else 200
        return flask.render_template(
            "origin_lookup.html", number=number, issue_date=issued, record=record, error=error
        ), status

    @web.get("/origin/verifications")
    @requires("officer", "supervisor")
    def origin_verifications() -> Any:
        state = flask.request.args.get("state", "open")
        if state not in VERIFICATION_STATES:
            flask.abort(400, f"state is one of {', '.join(VERIFICATION_STATES)}")
        today = datetime.now(UTC).date()
        rows = services().origin.verifications(state, today=today)
        return flask.render_template(
            "origin_verifications.html",
            rows=rows,
            state=state,
            states=VERIFICATION_STATES,
            today=today,
        )
