"""Marking changes (issue 19, item 3): an originator raises or lowers a message's markings later,
and the change follows the message wherever it went (partners it was passed on to, the hub), on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from gateway.errors import PolicyDeniedError, StateConflictError
from gateway.exchange.markings import change_own_markings
from gateway.exchange.onward import decide_onward
from gateway.store.models import AuditEvent, HubFeedItem, Message, OutboxMessage
from tests.functional.test_leak_paths import _acknowledge_all, canary_report, send, stored

pytestmark = pytest.mark.functional


def change(partner: Any, message_id: str, tlp: str, code: str = "H0", originator: str = "KR"):
    body = json.dumps(
        {
            "changes": message_id,
            "markings": {"originator": originator, "handling_code": code, "tlp": tlp},
            "reason": "CNRY0042Q the source is at risk",
        }
    ).encode()
    return partner.send(
        "/v1/marking-changes",
        body,
        content_type="application/json",
        message_type="marking-change",
        message_id=str(uuid.uuid4()),
    )


def report_from_kr(jp: dict[str, Any], tlp: str = "TLP:GREEN") -> str:
    return send(
        jp["partner"]("KR"),
        "/v1/seizure-reports",
        json.dumps(canary_report(tlp=tlp)).encode(),
        "seizure-report",
        "application/json",
    )


def pass_on(services: Any, received: str, recipient: str = "US") -> OutboxMessage:
    return services.outbound.disclose(
        recipient=recipient,
        message_type="seizure-report",
        document=stored(services, received),
        purpose="intelligence",
        actor="officer:tanaka",
        now=datetime.now(UTC),
        source_message_id=received,
    )


def outbox(services: Any) -> list[OutboxMessage]:
    with services.database.transaction() as session:
        rows = session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def test_raised_to_red_the_change_follows_the_report_and_the_hub_stops_counting_it(feeding_jp):
    services, us = feeding_jp["services"], feeding_jp["partner"]("US")
    received = report_from_kr(feeding_jp)
    onward = pass_on(services, received)
    _acknowledge_all(us, services)
    with services.database.transaction() as session:  # the hub acknowledged its batch
        for row in session.execute(select(OutboxMessage)).scalars():
            row.state = "acknowledged"

    answer = change(feeding_jp["partner"]("KR"), received, "TLP:RED")
    assert answer.status == 202, answer.body

    with services.database.transaction() as session:
        message = session.execute(
            select(Message).where(Message.message_id == received)
        ).scalar_one()
        assert (message.tlp, message.in_force()["markings"]["tlp"]) == ("TLP:RED", "TLP:RED")
        event = session.execute(
            select(AuditEvent).where(AuditEvent.tag == "partner:seizure-report:marking-changed")
        ).scalar_one()
    assert (event.detail["from"]["tlp"], event.detail["to"]["tlp"]) == ("TLP:GREEN", "TLP:RED")
    assert event.detail["passed_on_to"] == 2
    notices = [(r.recipient, r.message_type) for r in outbox(services)[2:]]
    assert sorted(notices) == [("RILO-AP", "withdrawal"), ("US", "marking-change")]
    to_us = next(r for r in outbox(services) if r.message_type == "marking-change")
    assert json.loads(to_us.body) == {
        "changes": onward.message_id,
        "markings": {"originator": "KR", "handling_code": "H0", "tlp": "TLP:RED"},
    }  # the originator's reason is free text: it stays here
    # every later onward decision reads the markings in force
    decision = decide_onward(
        services.database,
        services.policies,
        services.registry,
        message_id=received,
        recipient="NO",
        purpose="intelligence",
        on=datetime.now(UTC).date(),
        actor="test",
        gateway_id="JP",
        now=datetime.now(UTC),
    )
    assert decision.deciding_rule == "tlp"
    with pytest.raises(PolicyDeniedError):
        pass_on(services, received, "NO")


def test_raised_to_amber_strict_before_delivery_the_onward_message_does_not_go(feeding_jp):
    services = feeding_jp["services"]
    received = report_from_kr(feeding_jp)
    onward = pass_on(services, received)
    assert onward.state == "available"  # US pulls; it has not yet
    assert change(feeding_jp["partner"]("KR"), received, "TLP:AMBER+STRICT").status == 202
    states = {r.message_id: r.state for r in outbox(services)}
    assert states[onward.message_id] == "withdrawn"
    assert [r.message_type for r in outbox(services)].count("marking-change") == 0
    assert feeding_jp["partner"]("US").get("/v1/inbox").json()["items"] == []


def test_lowered_from_red_the_report_goes_to_the_hub_now(feeding_jp):
    services = feeding_jp["services"]
    received = report_from_kr(feeding_jp, tlp="TLP:RED")
    assert outbox(services) == []  # never fed while RED
    assert change(feeding_jp["partner"]("KR"), received, "TLP:GREEN").status == 202
    rows = outbox(services)
    assert [(r.recipient, r.message_type) for r in rows] == [("RILO-AP", "seizure-report-batch")]
    with services.database.transaction() as session:
        assert session.get(HubFeedItem, received) is not None


def test_only_the_originator_changes_a_marking(feeding_jp):
    services = feeding_jp["services"]
    received = report_from_kr(feeding_jp)
    forged = change(feeding_jp["partner"]("KR"), received, "TLP:CLEAR", originator="US")
    assert forged.status == 403 and forged.json()["type"].endswith("/forbidden")
    assert stored(services, received)["markings"]["tlp"] == "TLP:GREEN"
    other = change(feeding_jp["partner"]("US"), received, "TLP:CLEAR", originator="KR")
    assert other.status == 404  # not a message US sent
    with services.database.transaction() as session:
        message = session.execute(
            select(Message).where(Message.message_id == received)
        ).scalar_one()
        assert message.changed_markings is None and message.tlp == "TLP:GREEN"


def test_jp_changes_the_marking_of_a_report_it_originated_and_delivered(feeding_jp):
    services, us = feeding_jp["services"], feeding_jp["partner"]("US")
    document = canary_report(originator="JP")
    row = services.outbound.disclose(
        recipient="US",
        message_type="seizure-report",
        document=document,
        purpose="intelligence",
        actor="officer:tanaka",
        now=datetime.now(UTC),
    )
    red = {"originator": "JP", "handling_code": "H2", "tlp": "TLP:RED"}
    with pytest.raises(StateConflictError, match="not delivered"):
        change_own_markings(
            services.outbound,
            services.database,
            row.message_id,
            markings=red,
            reason=None,
            actor="officer:tanaka",
            now=datetime.now(UTC),
        )
    _acknowledge_all(us, services)
    notice = change_own_markings(
        services.outbound,
        services.database,
        row.message_id,
        markings=red,
        reason="CNRY0043Q asked us to",
        actor="officer:tanaka",
        now=datetime.now(UTC),
    )
    assert notice.message_type == "marking-change" and notice.state == "available"
    assert json.loads(notice.body) == {"changes": row.message_id, "markings": red}
    items = us.get("/v1/inbox").json()["items"]
    assert [i["message_type"] for i in items] == ["marking-change"]
