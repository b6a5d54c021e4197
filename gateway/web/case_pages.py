"""The officers' review pages: the queue, a case, compose and preview an answer, the actions of
the workflow, and the delivery worker's dead letters. Every action goes through
:class:`gateway.review.cases.Cases`, as the API's do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import flask
from werkzeug.routing import IntegerConverter, Map

from gateway.api.context import services
from gateway.audit.reads import as_mapping
from gateway.errors import GatewayError
from gateway.review import workflow
from gateway.web.audit_pages import signature_status
from gateway.web.session import check_csrf, current_user, requires


class CaseIdConverter(IntegerConverter):
    """A case id in a page's URL: 1 to the database's INTEGER maximum, the API's bound. Another
    number matches no page (404) instead of overflowing the query (a 500 once). Its own name:
    connexion replaces Flask's ``int`` converter with one that takes no bounds."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=2**31 - 1)


CASE_ID = "<case_id:case_id>"

CASE_ROLES = ("officer", "supervisor")
HANDLING_CODES = ("H0", "H1", "H2", "H3")
TLP_LABELS = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED")


def _person() -> Any:
    person = current_user()
    assert person is not None  # requires() signed them in
    return person


def _proposal(form: Any) -> dict[str, Any]:
    """A decision as the compose form states it."""
    answers = [
        {"question": int(key.removeprefix("answer-")), "answer": value.strip()}
        for key, value in form.items()
        if key.startswith("answer-") and key.removeprefix("answer-").isdigit() and value.strip()
    ]
    markings = {
        "handling_code": form.get("handling_code") or "H1",
        "tlp": form.get("tlp") or "TLP:AMBER",
    }
    return {
        "outcome": form.get("outcome") or None,
        "reason": form.get("reason") or None,
        "answers": answers,
        "markings": markings,
    }


def case_pages(web: flask.Blueprint) -> None:
    web.record_once(lambda state: state.app.url_map.converters.update(case_id=CaseIdConverter))

    @web.get("/cases")
    @requires(*CASE_ROLES)
    def cases() -> Any:
        args = flask.request.args
        person = _person()
        state, partner = args.get("state") or None, args.get("partner") or None
        mine, overdue = args.get("mine") == "1", args.get("overdue") == "1"
        rows = services().cases.queue(
            today=datetime.now(UTC).date(),
            state=state,
            partner=partner,
            assignee=person.username if mine else None,
            overdue=overdue,
        )
        filters = {"state": state, "partner": partner, "mine": mine, "overdue": overdue}
        services().reads.record(
            person.actor(person.case_role), "case-queue", filters=as_mapping(filters)
        )
        return flask.render_template("cases.html", rows=rows, filters=filters)

    @web.get(f"/cases/{CASE_ID}")
    @requires(*CASE_ROLES)
    def case(case_id: int) -> Any:
        person = _person()
        record = services().cases.get(case_id, person, now=datetime.now(UTC))
        services().reads.record(person.actor(person.case_role), "case", case=case_id)
        signature = signature_status(record["request"]) if "request" in record else None
        return flask.render_template(
            "case.html",
            case=record,
            signature=signature,
            reasons=workflow.REASONS,
            error=flask.request.args.get("error"),
        )

    @web.post(f"/cases/{CASE_ID}/actions")
    @requires(*CASE_ROLES)
    def act(case_id: int) -> Any:
        check_csrf()
        form = flask.request.form
        name = form.get("action", "")
        proposal = _proposal(form) if name == "decide" else {}
        try:
            services().cases.act(
                case_id,
                name,
                _person(),
                now=datetime.now(UTC),
                assignee=form.get("assignee") or None,
                reason=form.get("reason") or proposal.get("reason"),
                note=form.get("note") or None,
                outcome=proposal.get("outcome"),
                answers=proposal.get("answers", ()),
                markings=proposal.get("markings"),
            )
        except GatewayError as error:
            flask.flash(f"{error.title}: {error.detail}")
            return flask.redirect(flask.url_for("web.case", case_id=case_id), 303)
        flask.flash(f"Done: {name}.")
        return flask.redirect(flask.url_for("web.case", case_id=case_id), 303)

    @web.get(f"/cases/{CASE_ID}/compose")
    @requires(*CASE_ROLES)
    def compose(case_id: int) -> Any:
        person = _person()
        record = services().cases.get(case_id, person, now=datetime.now(UTC))
        services().reads.record(person.actor(person.case_role), "case", case=case_id)
        return flask.render_template(
            "compose.html",
            case=record,
            outcomes=workflow.OUTCOMES,
            reasons=workflow.REASONS,
            handling_codes=HANDLING_CODES,
            tlp_labels=TLP_LABELS,
            proposal=_proposal(flask.request.args) if flask.request.args else None,
        )

    @web.route(f"/cases/{CASE_ID}/preview", methods=["GET", "POST"])
    @requires(*CASE_ROLES)
    def preview(case_id: int) -> Any:
        """POST: the preview of the composed decision (nothing written yet); GET: of the answer
        or draft held for approval."""
        person, now = _person(), datetime.now(UTC)
        proposal = None
        if flask.request.method == "POST":
            check_csrf()
            proposal = _proposal(flask.request.form)
        try:
            shown = services().cases.preview(case_id, person, now=now, **(proposal or {}))
        except GatewayError as error:
            flask.flash(f"{error.title}: {error.detail}")
            return flask.redirect(flask.url_for("web.case", case_id=case_id), 303)
        services().reads.record(person.actor(person.case_role), "case-preview", case=case_id)
        return flask.render_template(
            "preview.html",
            case=services().cases.get(case_id, person, now=now),
            preview=shown.to_dict(),
            proposal=proposal,
        )

    @web.get("/dead-letters")
    @requires(*CASE_ROLES)
    def dead_letters() -> Any:
        return flask.render_template("dead_letters.html", rows=services().outbound.dead_letters())

    @web.post("/dead-letters/<message_id>/retry")
    @requires(*CASE_ROLES)
    def retry(message_id: str) -> Any:
        check_csrf()
        try:
            services().outbound.retry(message_id, person=_person(), now=datetime.now(UTC))
            flask.flash(f"{message_id} is queued again.")
        except GatewayError as error:
            flask.flash(f"{error.title}: {error.detail}")
        return flask.redirect(flask.url_for("web.dead_letters"), 303)
