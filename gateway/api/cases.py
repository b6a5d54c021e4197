"""The review workflow over the API: every action of the officers' pages, for the customs
intelligence systems that integrate with the gateway.

Such a system authenticates with its operator token (role ``system``) and carries the session of
the officer it acts for, who signed in through it (:mod:`gateway.api.acting`); that person's
roles, read from their account, decide what they may do (:mod:`gateway.duties`), as on the pages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import flask

from gateway.api.acting import acting
from gateway.api.context import services
from gateway.audit.reads import as_mapping
from gateway.documents.hardened import parse_json


def _body(component: str) -> dict[str, Any]:
    gateway = services()
    body = parse_json(
        flask.request.get_data(),
        max_bytes=gateway.settings.max_body_bytes,
        max_depth=gateway.settings.max_json_depth,
    )
    gateway.json_schemas.check(component, body)
    return dict(body)


def list_cases(
    token_info: dict[str, Any],
    state: str | None = None,
    partner: str | None = None,
    assignee: str | None = None,
    overdue: bool = False,
) -> flask.Response:
    person = acting(token_info)
    services().reads.record(
        person.actor(person.case_role),
        "case-queue",
        filters=as_mapping(
            {"state": state, "partner": partner, "assignee": assignee, "overdue": overdue or None}
        ),
    )
    cases = services().cases.queue(
        today=datetime.now(UTC).date(),
        state=state,
        partner=partner,
        assignee=assignee,
        overdue=overdue,
    )
    return flask.jsonify({"cases": cases})


def get_case(case_id: int, token_info: dict[str, Any]) -> flask.Response:
    person = acting(token_info)
    record = services().cases.get(case_id, person, now=datetime.now(UTC))
    services().reads.record(person.actor(person.case_role), "case", case=case_id)
    return flask.jsonify(record)


def act_on_case(case_id: int, token_info: dict[str, Any]) -> flask.Response:
    person = acting(token_info)
    body = _body("CaseAction")
    services().reads.record(person.actor(person.case_role), "case", case=case_id)
    return flask.jsonify(
        services().cases.act(
            case_id,
            body["action"],
            person,
            now=datetime.now(UTC),
            assignee=body.get("assignee"),
            outcome=body.get("outcome"),
            reason=body.get("reason"),
            note=body.get("note"),
            answers=body.get("answers", ()),
            markings=body.get("markings"),
        )
    )


def preview_case(case_id: int, token_info: dict[str, Any]) -> flask.Response:
    person = acting(token_info)
    raw = flask.request.get_data()
    body = _body("CasePreviewRequest") if raw.strip() else {}
    preview = services().cases.preview(
        case_id,
        person,
        now=datetime.now(UTC),
        outcome=body.get("outcome"),
        reason=body.get("reason"),
        answers=body.get("answers", ()),
        markings=body.get("markings"),
    )
    services().reads.record(person.actor(person.case_role), "case-preview", case=case_id)
    return flask.jsonify(preview.to_dict())


def create_draft(token_info: dict[str, Any]) -> flask.Response:
    person = acting(token_info)
    body = _body("DraftRequest")
    gateway = services()
    gateway.json_schemas.check(
        "SeizureReport" if body["message_type"] == "seizure-report" else "AssistanceRequest",
        body["document"],
    )
    case = gateway.cases.draft(
        person,
        recipient=body["recipient"],
        message_type=body["message_type"],
        document=body["document"],
        purpose=body["purpose"],
        now=datetime.now(UTC),
    )
    gateway.reads.record(person.actor(person.case_role), "case", case=case["id"])
    return flask.Response(flask.json.dumps(case), status=201, content_type="application/json")


def list_dead_letters(token_info: dict[str, Any]) -> flask.Response:
    acting(token_info)
    return flask.jsonify({"messages": services().outbound.dead_letters()})


def retry_dead_letter(message_id: str, token_info: dict[str, Any]) -> flask.Response:
    person = acting(token_info)
    row = services().outbound.retry(message_id, person=person, now=datetime.now(UTC))
    return flask.jsonify({"message_id": row.message_id, "state": row.state})
