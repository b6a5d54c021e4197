"""``POST /v1/policy/explanations``: the policy's decision with every rule that fired."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import flask

from gateway.api.context import services
from gateway.api.operators import require_role
from gateway.documents.hardened import parse_json
from gateway.errors import NotFoundError
from gateway.exchange.onward import decide_onward
from gateway.policy import highlight
from gateway.policy.engine import decide
from gateway.policy.model import Context


def post_explanation(user: str, token_info: dict[str, Any]) -> flask.Response:
    require_role(token_info, "system")
    gateway = services()
    request = parse_json(
        flask.request.get_data(),
        max_bytes=gateway.settings.max_body_bytes,
        max_depth=gateway.settings.max_json_depth,
    )
    gateway.json_schemas.check("ExplanationRequest", request)
    on = date.fromisoformat(request["date"]) if "date" in request else datetime.now(UTC).date()
    if "message_id" in request:
        decision = decide_onward(
            gateway.database,
            gateway.policies,
            gateway.registry,
            message_id=request["message_id"],
            recipient=request["partner"],
            purpose=request.get("purpose"),
            on=on,
            actor=user,
            gateway_id=gateway.settings.gateway_id,
            now=datetime.now(UTC),
        )
    else:
        document = request.get("document", {})
        if request["message_type"] == "seizure-report":
            gateway.json_schemas.check("SeizureReport", document)
        partner = gateway.registry.partners.get(request["partner"])
        if partner is None or partner.kind == "self":
            raise NotFoundError(f"{request['partner']} is not a partner of this gateway")
        decision = decide(
            gateway.policies,
            Context(
                partner=partner,
                direction=request.get("direction", "out"),
                message_type=request["message_type"],
                on=on,
                document=document,
                purpose=request.get("purpose"),
                consents=frozenset(request.get("consents", ())),
                gateway_id=gateway.settings.gateway_id,
            ),
        )
    body: dict[str, Any] = {k: v for k, v in decision.to_dict().items() if v is not None}
    body["document"] = dict(decision.document)
    body["highlights"] = [h.to_dict() for h in highlight.of_decision(decision)]
    return flask.jsonify(body)
