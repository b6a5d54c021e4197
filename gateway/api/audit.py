"""``/v1/audit/…``: read-only access for auditors; tree heads and proofs for partners too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import flask

from gateway.api.context import services
from gateway.api.operators import require_role
from gateway.api.params import instant
from gateway.api.signing import json_answer
from gateway.audit import checkpoints
from gateway.audit.queries import SEARCH_FILTERS, EventQuery, message_record, search_events
from gateway.audit.reads import as_mapping
from gateway.exchange import replay


def _partner(token_info: dict[str, Any]) -> str | None:
    """The calling partner (its assertion consumed as on any partner call), or None for an
    auditor; any other operator is refused."""
    if "assertion" in token_info:
        gateway = services()
        with gateway.database.transaction() as session:
            replay.consume(
                session,
                token_info["assertion"],
                now=datetime.now(UTC),
                skew=timedelta(seconds=gateway.settings.clock_skew_seconds),
            )
        return str(token_info["sub"])
    require_role(token_info, "auditor")
    return None


def get_events(token_info: dict[str, Any], **criteria: Any) -> flask.Response:
    actor = require_role(token_info, "auditor")
    query = EventQuery(
        partner=criteria.get("partner"),
        message_id=criteria.get("message_id"),
        tag=criteria.get("tag"),
        actor=criteria.get("actor"),
        decision=criteria.get("decision"),
        start=instant(criteria.get("since")),
        end=instant(criteria.get("until")),
        after=criteria.get("after", -1),
        limit=criteria.get("limit", 100),
    )
    events = search_events(services().database, query)
    wanted = (*SEARCH_FILTERS, "after")
    services().reads.record(
        actor, "events", filters=as_mapping({k: criteria.get(k) for k in wanted})
    )
    result: dict[str, Any] = {"events": events}
    if len(events) == query.limit:
        result["next_after"] = events[-1]["log_index"]
    return flask.jsonify(result)


def get_message(message_id: str, token_info: dict[str, Any]) -> flask.Response:
    actor = require_role(token_info, "auditor")
    return flask.jsonify(
        message_record(services().database, message_id, actor=actor, now=datetime.now(UTC))
    )


def get_tree_head(token_info: dict[str, Any]) -> flask.Response:
    """The head signed on the cadence (``tree_head_interval_seconds``), for partners and auditors
    alike: an auditor reads the events themselves, and a head of the log as it is this moment
    is ``gateway audit checkpoint``'s (PROTOCOL §8)."""
    _partner(token_info)
    gateway = services()
    head = checkpoints.cadence_tree_head(
        gateway.database,
        gateway.keyring.active,
        gateway.settings.gateway_id,
        datetime.now(UTC),
        timedelta(seconds=gateway.settings.tree_head_interval_seconds),
    )
    body = {
        "tree_size": head.tree_size,
        "root_hash": head.root_hash.hex(),
        "timestamp": head.signed_at.isoformat(),
        "signed_tree_head": head.token,
    }
    return json_answer(gateway, body, token_info=token_info, message_type="tree-head")


def get_inclusion_proof(token_info: dict[str, Any], index: int, tree_size: int) -> flask.Response:
    """Any leaf for an auditor; for a partner, a leaf about its own messages within the latest
    signed head, anything else answered as a leaf that does not exist (404 ``not-found``)."""
    partner = _partner(token_info)
    leaf, proof = checkpoints.inclusion_proof(
        services().database, index, tree_size, partner=partner
    )
    body = {"index": index, "tree_size": tree_size, "leaf_hash": leaf.hex()}
    body["proof"] = [p.hex() for p in proof]
    return json_answer(services(), body, token_info=token_info, message_type="inclusion-proof")


def get_consistency_proof(token_info: dict[str, Any], first: int, second: int) -> flask.Response:
    """Between any sizes of the log for an auditor; for a partner, up to the latest signed head
    (a consistency proof names no leaf, so it reveals nothing of any one leaf)."""
    partner = _partner(token_info)
    proof = checkpoints.consistency_proof(services().database, first, second, partner=partner)
    body = {"first": first, "second": second, "proof": [p.hex() for p in proof]}
    return json_answer(services(), body, token_info=token_info, message_type="consistency-proof")
