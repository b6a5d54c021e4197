"""Limits (issue 9): per-partner rate limits, the body and answer timeouts, the statement timeout.

Each refusal is a signed RFC 9457 problem with a stable type, leaves nothing half-written and is
recorded in the audit log; where trying again can succeed, ``Retry-After`` says when.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from starlette.testclient import TestClient

from gateway.app import build_services, create_app
from gateway.client.partner import PartnerClient, check_receipt
from gateway.settings import Settings, replace
from gateway.store.db import normalise_url
from gateway.store.models import AuditEvent, Message
from tests.conftest import partner_client, stored_counts
from tests.processes import gateway_environment, serving

PROBLEMS = "https://customs.go.jp/gateway/problems/"
ON_POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


def report_from(sample_json: bytes, admin: str) -> bytes:
    document = json.loads(sample_json)
    document["reporting_administration"] = admin
    document["markings"]["originator"] = admin
    return json.dumps(document).encode()


@pytest.fixture
def limited(settings: Settings, signing_keys) -> Iterator[Any]:
    """``limited(**settings)``: a partner client factory on a gateway with those settings."""
    with ExitStack() as opened:

        def make(**changes: Any) -> tuple[Any, Any]:
            services = build_services(replace(settings, **changes))
            opened.callback(services.database.dispose)
            client = opened.enter_context(TestClient(create_app(services.settings, services)))

            def partner(admin: str) -> PartnerClient:
                return partner_client(client, signing_keys, admin)

            return services, partner

        yield make


def last_event(services) -> AuditEvent:
    with services.database.transaction() as session:
        return session.execute(
            select(AuditEvent).order_by(AuditEvent.log_index.desc()).limit(1)
        ).scalar_one()


def send(partner, body: bytes, message_id: str | None = None):
    return partner.send(
        "/v1/seizure-reports",
        body,
        content_type="application/json",
        message_type="seizure-report",
        message_id=message_id,
    )


def test_partner_over_its_allowance_is_refused_with_retry_after(limited, sample_json):
    services, partner = limited(rate_limit_per_minute=6, rate_limit_burst=3)
    korea = partner("KR")
    assert [send(korea, sample_json).status for _ in range(3)] == [202, 202, 202]
    before = stored_counts(services)

    answer = send(korea, sample_json)

    assert answer.status == 429
    assert answer.signature is not None, answer.signature_error  # signed like every answer
    problem = answer.json()
    assert problem["type"] == PROBLEMS + "rate-limited"
    assert 1 <= answer.retry_after <= 10  # six a minute: the next one within ten seconds
    assert stored_counts(services) == {**before, "events": before["events"] + 1}
    event = last_event(services)
    assert event.tag == "partner:seizure-report:refused"
    assert event.detail["problem"] == "rate-limited" and event.partner == "KR"
    # another partner's allowance is its own
    assert send(partner("US"), report_from(sample_json, "US")).status == 202


def test_a_partner_given_a_larger_allowance_gets_it(limited, sample_json):
    # one call a minute after the burst: no token comes back while the test runs, however slow
    _, partner = limited(rate_limit_per_minute=1, rate_limit_burst=1, rate_limits="KR=1:4")
    assert [send(partner("KR"), sample_json).status for _ in range(5)] == [202] * 4 + [429]
    us = partner("US")
    body = report_from(sample_json, "US")
    assert [send(us, body).status for _ in range(2)] == [202, 429]


def test_stalled_body_is_refused_after_the_body_timeout(tmp_path: Path, database_url: str):
    """A real server and a client that announces 4,000 bytes, sends 10 and stalls."""
    environment = gateway_environment(tmp_path, database_url, GATEWAY_BODY_TIMEOUT_SECONDS="1")
    with serving(environment, tmp_path / "serve.log") as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=15) as connection:
            connection.sendall(
                b"POST /v1/seizure-reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b'Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"report":'
            )
            started = time.monotonic()
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                chunk = connection.recv(65536)
                if not chunk:
                    break
                answer += chunk
            waited = time.monotonic() - started
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer
        assert json.loads(body)["type"] == PROBLEMS + "body-timeout"
        assert 0.9 < waited < 10
    engine = create_engine(normalise_url(database_url))
    with engine.connect() as connection:
        tag, detail = connection.execute(
            select(AuditEvent.tag, AuditEvent.detail).order_by(AuditEvent.log_index.desc())
        ).first()
    engine.dispose()
    assert tag == "partner:seizure-report:refused"
    assert (detail if isinstance(detail, dict) else json.loads(detail))["problem"] == "body-timeout"


def closed_by_server(connection: socket.socket, trickle: bytes, *, every: float) -> bool:
    """Send ``trickle`` a byte each ``every`` seconds (then wait): True once the server closes
    the connection, False if it was still open when the 30 s the test allows ran out."""
    connection.settimeout(every)
    deadline = time.monotonic() + 30
    position = 0
    while time.monotonic() < deadline:
        if position < len(trickle):
            try:
                connection.sendall(trickle[position : position + 1])
            except (BrokenPipeError, ConnectionResetError):
                return True
            position += 1
        try:
            if connection.recv(65536) == b"":
                return True
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True
    return False


def test_slowloris_request_head_is_cut_off_after_the_header_timeout(
    tmp_path: Path, database_url: str
):
    """A client trickling its request line and headers a byte every 0.3 s (each byte used to
    reset uvicorn's only timer) is disconnected; one that connects and sends nothing too; a
    prompt client on the same server is served."""
    environment = gateway_environment(tmp_path, database_url, GATEWAY_HEADER_TIMEOUT_SECONDS="2")
    with serving(environment, tmp_path / "serve.log") as base:
        port = int(base.rsplit(":", 1)[1])
        head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 200
        with socket.create_connection(("127.0.0.1", port)) as slow:
            started = time.monotonic()
            assert closed_by_server(slow, head, every=0.3)
            assert time.monotonic() - started >= 1.9  # not before the deadline
        with socket.create_connection(("127.0.0.1", port)) as silent:
            assert closed_by_server(silent, b"", every=0.3)
        with httpx.Client(base_url=base) as prompt:  # kept alive across the deadline
            assert prompt.get("/healthz").status_code == 200
            time.sleep(2.5)
            assert prompt.get("/healthz").status_code == 200


@pytest.fixture
def table_lock(settings: Settings) -> Iterator[Any]:
    """``table_lock("message")``: another session holds the table so no row can be inserted
    into it; ``release(after=s)`` lets go (at once, or from a timer)."""
    engine = create_engine(normalise_url(settings.database_url))
    connection = engine.connect()
    transaction = connection.begin()

    class Lock:
        def hold(self, table: str) -> None:
            connection.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))

        def release(self, after: float = 0.0) -> None:
            timer = threading.Timer(after, transaction.rollback)
            timer.start()
            self.timer = timer

    lock = Lock()
    yield lock
    if getattr(lock, "timer", None) is not None:
        lock.timer.join()
    if transaction.is_active:
        transaction.rollback()
    connection.close()
    engine.dispose()


@pytest.mark.parametrize("database_url", [ON_POSTGRES], indirect=True)
def test_slow_answer_is_a_timeout_and_the_resend_gets_the_same_receipt(
    limited, table_lock, sample_json
):
    services, partner = limited(request_timeout_seconds=1, database_statement_timeout_seconds=0)
    korea = partner("KR")
    message_id = str(uuid.uuid4())
    table_lock.hold("message")
    table_lock.release(after=2.5)  # the stuck request then finishes on its own

    answer = send(korea, sample_json, message_id)

    assert answer.status == 503
    assert answer.json()["type"] == PROBLEMS + "timeout"
    assert answer.retry_after == 5
    table_lock.timer.join()
    again = send(korea, sample_json, message_id)
    assert again.status in {200, 202}
    check_receipt(again, sample_json, message_id)
    with services.database.transaction() as session:
        stored = session.scalar(
            select(func.count()).select_from(Message).where(Message.message_id == message_id)
        )
        refusals = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.tag == "partner:seizure-report:refused")
        ).all()
    assert stored == 1
    assert [r["problem"] for r in refusals] == ["timeout"]


@pytest.mark.parametrize("database_url", [ON_POSTGRES], indirect=True)
def test_statement_over_the_timeout_is_cancelled_and_nothing_is_kept(
    limited, table_lock, sample_json
):
    services, partner = limited(database_statement_timeout_seconds=1)
    before = stored_counts(services)
    table_lock.hold("message")

    answer = send(partner("KR"), sample_json)

    table_lock.release()
    assert answer.status == 503
    assert answer.json()["type"] == PROBLEMS + "store-unavailable"
    assert answer.retry_after == 5
    assert stored_counts(services) == {**before, "events": before["events"] + 1}  # the refusal only
    assert last_event(services).detail["problem"] == "store-unavailable"
