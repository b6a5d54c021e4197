"""Pull delivery (issue 5): a partner that cannot receive pushes fetches and acknowledges."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from gateway.exchange.delivery import DeliveryWorker, TransportResponse
from gateway.settings import PROJECT_ROOT
from gateway.store.models import AuditEvent, OutboxMessage
from gateway.trust.jws import verify_detached


def report() -> dict:
    document = json.loads((PROJECT_ROOT / "specs" / "samples" / "seizure-report.json").read_text())
    document.update(reporting_administration="JP")
    document["markings"] = {"originator": "JP", "handling_code": "H0", "tlp": "TLP:GREEN"}
    return document


@pytest.fixture
def queued_for_us(services):
    outbound = services.outbound
    return [
        outbound.disclose(
            recipient="US",
            message_type="seizure-report",
            document=report(),
            purpose="intelligence",
            actor="officer:test",
            now=datetime.now(UTC),
        ).message_id
        for _ in range(3)
    ]


class Untouchable:
    def post(self, url, body, headers) -> TransportResponse:
        raise AssertionError("a pull partner must never be pushed to")


def test_pull_partner_messages_wait_in_its_inbox_and_are_never_pushed(
    services, settings, queued_for_us
):
    with services.database.transaction() as session:
        states = {r.state for r in session.execute(select(OutboxMessage)).scalars()}
    assert states == {"available"}
    worker = DeliveryWorker(
        settings=settings,
        registry=services.registry,
        keyring=services.keyring,
        database=services.database,
        transport=Untouchable(),
        worker_id="test",
    )
    assert worker.run_once() == 0


def test_partner_pages_through_its_inbox_and_items_verify_alone(partner, services, queued_for_us):
    us = partner("US")
    first = us.get("/v1/inbox?limit=2")
    assert first.status == 200 and first.signature is not None
    page = first.json()
    assert page["more"] is True and len(page["items"]) == 2
    rest = us.get(f"/v1/inbox?limit=2&next={page['next']}").json()
    assert rest["more"] is False and len(rest["items"]) == 1
    items = page["items"] + rest["items"]
    assert [i["message_id"] for i in items] == queued_for_us
    jp_keys = list(services.keyring.published)
    for item in items:
        header = verify_detached(
            item["signature"],
            base64.b64decode(item["body"]),
            jp_keys,
            now=datetime.now(UTC),
            clock_skew=timedelta(seconds=60),
        )
        assert header.msgid == item["message_id"] and header.aud == "US"
    assert partner("KR").get("/v1/inbox").json()["items"] == []  # nobody else's
    later = us.get(f"/v1/inbox?added_after={quote(datetime.now(UTC).isoformat())}").json()
    assert later["items"] == []


def forged_cursor(added: str, row_id: object) -> str:
    """A ``next`` cursor of the form the gateway writes (base64url JSON [time, row id])."""
    raw = json.dumps([added, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("added", "row_id"),
    [
        ("2026-01-01T00:00:00+00:00", 10**30),  # beyond BIGINT: SQLite's driver overflowed
        ("2026-01-01T00:00:00+00:00", -(10**30)),
        ("9999-12-31T23:59:59-01:00", 1),  # the year 10000 in UTC
        ("2026-01-01T00:00:00", 1),  # no zone: the store refuses naive times
        ("2026-01-01T00:00:00+00:00", True),
        ("2026-01-01T00:00:00+00:00", 1.5),
    ],
)
def test_forged_cursor_is_refused_not_a_500(partner, queued_for_us, added, row_id):
    """Found by hand: the cursor comes back from the partner, and each of these was a 500."""
    answer = partner("US").get(f"/v1/inbox?next={quote(forged_cursor(added, row_id))}")
    assert answer.status == 422, answer.body
    assert answer.json()["type"].endswith("/schema-invalid")
    assert answer.json()["detail"] == "the next cursor is not one this gateway gave out"


def receipt_for(item: dict, digest: str | None = None) -> bytes:
    body = base64.b64decode(item["body"])
    return json.dumps(
        {
            "message_id": item["message_id"],
            "received_at": datetime.now(UTC).isoformat(),
            "body_sha256": digest or hashlib.sha256(body).hexdigest(),
            "status": "accepted",
            "log_index": 0,
            "leaf_hash": "00" * 32,
        }
    ).encode()


def state_of(services, message_id: str) -> str:
    with services.database.transaction() as session:
        return session.execute(
            select(OutboxMessage.state).where(OutboxMessage.message_id == message_id)
        ).scalar_one()


def test_signed_receipt_acknowledges_an_item(partner, services, queued_for_us):
    us = partner("US")
    item = us.get("/v1/inbox?limit=1").json()["items"][0]
    path = f"/v1/inbox/{item['message_id']}/acknowledgement"
    answer = us.send(
        path,
        receipt_for(item),
        content_type="application/json",
        message_type="receipt",
        message_id=item["message_id"],
    )
    assert answer.status == 204
    again = us.send(
        path,
        receipt_for(item),
        content_type="application/json",
        message_type="receipt",
        message_id=item["message_id"],
    )
    assert again.status == 409  # another receipt for an acknowledged item
    with services.database.transaction() as session:
        row = session.execute(
            select(OutboxMessage).where(OutboxMessage.message_id == item["message_id"])
        ).scalar_one()
        event = session.execute(
            select(AuditEvent).where(AuditEvent.tag == "partner:seizure-report:acknowledged")
        ).scalar_one()
    assert row.state == "acknowledged" and row.receipt is not None
    assert event.actor == "US" and event.detail["mode"] == "pull"
    remaining = [i["message_id"] for i in us.get("/v1/inbox").json()["items"]]
    assert item["message_id"] not in remaining and len(remaining) == 2


def test_receipt_for_other_bytes_does_not_acknowledge(partner, services, queued_for_us):
    us = partner("US")
    item = us.get("/v1/inbox?limit=1").json()["items"][0]
    answer = us.send(
        f"/v1/inbox/{item['message_id']}/acknowledgement",
        receipt_for(item, digest="ab" * 32),
        content_type="application/json",
        message_type="receipt",
        message_id=item["message_id"],
    )
    assert answer.status == 401 and answer.json()["type"].endswith("/signature-invalid")
    assert state_of(services, item["message_id"]) == "available"


@pytest.mark.parametrize("number", [b"Infinity", b"NaN", b"1e999", b"9" * 5000])
def test_receipt_with_a_number_no_json_parser_reads_does_not_acknowledge(
    partner, services, queued_for_us, number
):
    """Python's json reads Infinity, NaN and 1e999 (as infinity); the receipt's fields go into
    the audit log, which would then hold what no other JSON parser reads (and PostgreSQL's json
    refuses: a 500). Signed by the partner or not, such a receipt acknowledges nothing."""
    us = partner("US")
    item = us.get("/v1/inbox?limit=1").json()["items"][0]
    receipt = receipt_for(item).replace(b'"log_index": 0', b'"log_index": ' + number)
    assert number in receipt
    answer = us.send(
        f"/v1/inbox/{item['message_id']}/acknowledgement",
        receipt,
        content_type="application/json",
        message_type="receipt",
        message_id=item["message_id"],
    )
    assert answer.status == 401, answer.body
    assert answer.json()["type"].endswith("/signature-invalid")
    assert "the receipt is not JSON as a message is" in answer.json()["detail"]
    assert state_of(services, item["message_id"]) == "available"


def test_another_partner_cannot_acknowledge(partner, queued_for_us):
    item = partner("US").get("/v1/inbox?limit=1").json()["items"][0]
    answer = partner("KR").send(
        f"/v1/inbox/{item['message_id']}/acknowledgement",
        receipt_for(item),
        content_type="application/json",
        message_type="receipt",
        message_id=item["message_id"],
    )
    assert answer.status == 404
