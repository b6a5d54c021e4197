"""Outbound delivery between two real gateways on loopback (issue 5, "Faults to survive").

KR is a real ``gateway serve`` process with its own database, keys, registry and policy; JP's
``gateway worker`` is a real process too. JP's database is SQLite or PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from sqlalchemy import select

from gateway.app import build_services
from gateway.demo import partner_directories, prepare
from gateway.errors import ForbiddenError, PolicyDeniedError
from gateway.people import Person
from gateway.registry import add_pinned_key
from gateway.settings import PROJECT_ROOT, load_settings
from gateway.store.models import AuditEvent, OutboxMessage
from gateway.trust.keys import generate_jwk, public_part, read_jwk_file
from tests.processes import GATEWAY, free_port, run, serving, sign_in

pytestmark = pytest.mark.functional
SAMPLE = json.loads((PROJECT_ROOT / "specs" / "samples" / "seizure-report.json").read_text())


def jp_report(handling_code: str = "H0") -> dict:
    document = json.loads(json.dumps(SAMPLE))
    document["reporting_administration"] = "JP"
    document["report_id"] = "JPC-2026-0001"
    document["markings"] = {"originator": "JP", "handling_code": handling_code, "tlp": "TLP:AMBER"}
    return document


class Pair:
    """JP (the sender, database under test) and KR (a real process, SQLite of its own), set up as
    ``gateway demo`` sets them up."""

    def __init__(
        self,
        tmp: Path,
        jp_database: str,
        *,
        kr_jp_in_force: str | None = None,
        partner: str = "KR",
    ) -> None:
        """``partner`` stands in for KR where another legal basis is needed (NO: the FY2012
        provisions); the attributes keep KR's name."""
        self.tmp = tmp
        self.partner = partner
        jp, kr = prepare(tmp, partner, free_port(), free_port())
        if kr_jp_in_force:
            partner_directories(kr.root, partner, jp_framework_in_force=kr_jp_in_force)
        self.kr_db = kr.root / "gateway.sqlite3"
        self.kr_port = kr.port
        self.kr_key = read_jwk_file(kr.root / "keys" / f"{partner}.private.jwk")
        self.kr_env = kr.environment(jp)
        self.jp_env = jp.environment(
            kr,
            GATEWAY_DATABASE_URL=jp_database,
            GATEWAY_DELIVERY_BACKOFF_CAP_SECONDS="1",
            GATEWAY_DELIVERY_MAX_ATTEMPTS="3",
            GATEWAY_DELIVERY_TIMEOUT_SECONDS="5",
        )
        self.pins = jp.root / "pins"
        self.settings = load_settings(environ=self.jp_env)
        self.connect()

    def connect(self) -> None:
        """Services and outbound on JP's side (again after its pins change)."""
        self.services = build_services(self.settings)
        self.outbound = self.services.outbound

    def disclose(self, count: int = 1) -> list[str]:
        return [
            self.outbound.disclose(
                recipient=self.partner,
                message_type="seizure-report",
                document=jp_report(),
                purpose="intelligence",
                actor="officer:test",
                now=datetime.now(UTC),
            ).message_id
            for _ in range(count)
        ]

    def worker_once(self) -> subprocess.CompletedProcess[str]:
        result = run(self.jp_env, "worker", "--once", "--id", "test-worker")
        assert result.returncode == 0, result.stderr
        return result

    def outbox(self) -> dict[str, OutboxMessage]:
        with self.services.database.transaction() as session:
            return {r.message_id: r for r in session.execute(select(OutboxMessage)).scalars()}

    def events(self, message_id: str) -> list[str]:
        with self.services.database.transaction() as session:
            return [
                e.tag
                for e in session.execute(
                    select(AuditEvent)
                    .where(AuditEvent.message_id == message_id)
                    .order_by(AuditEvent.log_index)
                ).scalars()
            ]

    def received_at_kr(self) -> list[tuple[str, bytes]]:
        with sqlite3.connect(self.kr_db) as connection:
            return connection.execute(
                "SELECT message_id, body FROM message WHERE sender = 'JP'"
            ).fetchall()

    def serve_kr(self) -> Iterator[str]:
        return serving(self.kr_env, self.tmp / "kr.log")

    def close(self) -> None:
        self.services.database.dispose()


@pytest.fixture
def pair(tmp_path: Path, database_url: str) -> Iterator[Pair]:
    made = Pair(tmp_path, database_url)
    yield made
    made.close()


def test_disclosure_is_redacted_signed_delivered_once_and_acknowledged(pair):
    (message_id,) = pair.disclose()
    row = pair.outbox()[message_id]
    assert row.state == "queued"
    assert "/persons/0/name" in row.decision["redactions"]  # KR's CMAA lacks the FY2012 provisions
    assert b"Sample Person One" not in row.body
    with pair.serve_kr():
        pair.worker_once()
    row = pair.outbox()[message_id]
    assert (row.state, row.attempts) == ("acknowledged", 1)
    assert pair.received_at_kr() == [(message_id, row.body)]  # the exact signed bytes arrived
    # the receipt verifies with an independent JOSE library against KR's key
    protected, _, signature = row.receipt_signature.partition("..")
    token = jwcrypto_jws.JWS()
    token.deserialize(json.dumps({"protected": protected, "signature": signature}))
    token.verify(jwcrypto_jwk.JWK(**public_part(pair.kr_key)), detached_payload=row.receipt)
    assert pair.events(message_id)[-1] == "system:seizure-report:delivered"


def test_partner_down_then_back_is_delivered_after_retries(pair):
    (message_id,) = pair.disclose()
    pair.worker_once()  # KR is not running
    row = pair.outbox()[message_id]
    assert row.state == "retrying" and "no answer" in row.last_error
    time.sleep(1.6)  # the backoff (1 s ± 50 %) runs out
    with pair.serve_kr():
        pair.worker_once()
    row = pair.outbox()[message_id]
    assert (row.state, row.attempts) == ("acknowledged", 2)
    assert pair.events(message_id)[-2:] == [
        "system:seizure-report:delivery-failed",
        "system:seizure-report:delivered",
    ]
    assert len(pair.received_at_kr()) == 1


def test_receipt_that_does_not_verify_is_retried_then_dead_lettered(pair):
    # JP pins a key that is not KR's: KR's genuine receipts cannot verify
    (pair.pins / "KR.jwks.json").unlink()
    add_pinned_key(pair.pins, "KR", public_part(generate_jwk()))
    pair.close()
    pair.connect()
    (message_id,) = pair.disclose()
    with pair.serve_kr():
        for _ in range(3):
            pair.worker_once()
            time.sleep(1.6)
    row = pair.outbox()[message_id]
    assert row.state == "failed" and row.attempts == 3
    assert "receipt not accepted" in row.last_error
    assert pair.events(message_id)[-1] == "system:seizure-report:dead-lettered"
    assert len(pair.received_at_kr()) == 1  # KR stored it once; the resends got the same receipt


@contextmanager
def hostile_partner(port: int, *, length: int, chunk: int, pause: float) -> Iterator[None]:
    """A real HTTP server on KR's port that takes the delivery and answers 202 with ``length``
    bytes, ``chunk`` bytes at a time ``pause`` seconds apart (until the client hangs up)."""

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(length))
            self.end_headers()
            try:
                for _ in range(0, length, chunk):
                    self.wfile.write(b"0" * chunk)
                    self.wfile.flush()
                    time.sleep(pause)
            except OSError:  # the worker cut it off
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Answer)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("length", "chunk", "pause", "reason"),
    [
        (8 * 1_048_576, 65_536, 0.0, "the answer is over 1048576 bytes"),
        (48, 1, 0.25, "the answer took over 5 s"),  # each byte well within the read timeout
    ],
    ids=["answer-without-end", "answer-a-byte-at-a-time"],
)
def test_partner_answer_beyond_bounds_is_cut_off_and_retried(pair, length, chunk, pause, reason):
    """A broken or hostile partner must not hold the worker past its lease (another worker would
    deliver again) or fill its memory: read so far and no further, the attempt is retried."""
    (message_id,) = pair.disclose()
    with hostile_partner(pair.kr_port, length=length, chunk=chunk, pause=pause):
        pair.worker_once()
    row = pair.outbox()[message_id]
    assert row.state == "retrying" and row.attempts == 1, row.last_error
    assert row.last_error == f"no answer: {reason}"
    assert pair.events(message_id)[-1] == "system:seizure-report:delivery-failed"


@contextmanager
def misbehaving_partner(
    port: int, status: int, body: bytes, headers: dict[str, str] | None = None
) -> Iterator[None]:
    """A real HTTP server on KR's port that takes the delivery and answers ``status`` with
    ``body`` and ``headers``."""

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(status)
            for name, value in {
                "Content-Type": "application/problem+json",
                **(headers or {}),
            }.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Answer)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


#: The most a kept string from the partner may be: 300 characters, "…" and its length.
BOUNDED = 300 + len("… (5120 characters)")


def last_event_detail(pair: Pair, message_id: str) -> dict:
    with pair.services.database.transaction() as session:
        return (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.message_id == message_id)
                .order_by(AuditEvent.log_index.desc())
            )
            .scalars()
            .first()
            .detail
        )


def test_partner_5kb_problem_type_is_bounded_in_dead_letter(pair):
    """A partner's refusal whose type, title and detail are 5 KB each, with members no problem
    has: the dead letter keeps the known members only, each cut with an ellipsis, and neither
    the outbox row nor the audit event holds more."""
    problem = {
        "type": "https://kr.example/problems/" + "t" * (5120 - 28),
        "title": "T" * 5120,
        "status": 403,
        "detail": "line one\n\x1b[31mred\x1b[0m " + "d" * 5100,
        "instance": "urn:uuid:" + "0" * 36,
        "extra": "x" * 5120,
        "errors": [{"nested": "y" * 5120}],
    }
    (message_id,) = pair.disclose()
    with misbehaving_partner(pair.kr_port, 403, json.dumps(problem).encode()):
        pair.worker_once()
    row = pair.outbox()[message_id]
    assert (row.state, row.attempts) == ("failed", 1)
    assert set(row.problem) == {"type", "title", "status", "detail", "instance"}
    assert row.problem["type"] == problem["type"][:300] + "… (5120 characters)"
    assert row.problem["title"].endswith("… (5120 characters)")
    assert len(row.problem["detail"]) <= BOUNDED and "\x1b" not in row.problem["detail"]
    assert row.problem["detail"].startswith("line one  [31mred")
    assert (row.problem["status"], row.problem["instance"]) == (403, problem["instance"])
    assert len(row.last_error) <= 500 + len("… (99999 characters)")
    assert row.last_error.startswith("refused by KR: HTTP 403 https://kr.example/problems/ttt")
    detail = last_event_detail(pair, message_id)
    assert pair.events(message_id)[-1] == "system:seizure-report:dead-lettered"
    assert detail["reason"] == row.last_error
    assert len(json.dumps(detail)) < 1000


def test_partner_5kb_html_refusal_is_bounded_in_dead_letter(pair):
    """Not a problem at all (an HTML error page of 5 KB from whatever stands in front of the
    partner): its text, bounded, is the problem's detail."""
    page = b"<html><body>" + b"e" * 5120 + b"</body></html>"
    (message_id,) = pair.disclose()
    with misbehaving_partner(pair.kr_port, 400, page, {"Content-Type": "text/html"}):
        pair.worker_once()
    row = pair.outbox()[message_id]
    assert row.state == "failed"
    assert row.problem == {"detail": "<html><body>" + "e" * 288 + "… (5146 characters)"}
    assert row.last_error == "refused by KR: HTTP 400 "


def test_partner_5kb_algorithm_in_receipt_signature_is_bounded_in_last_error(pair):
    """A 202 whose receipt signature names a 5 KB algorithm: the refusal of the receipt quotes it,
    and that reason is bounded before the outbox row and the audit event keep it."""
    header = {"alg": "A" * 5120, "kid": "k", "typ": "customs-message+jws"}
    protected = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    (message_id,) = pair.disclose()
    with misbehaving_partner(
        pair.kr_port,
        202,
        b"{}",
        {"Content-Type": "application/json", "X-JWS-Signature": f"{protected}..AAAA"},
    ):
        pair.worker_once()
    row = pair.outbox()[message_id]
    assert row.state == "retrying", row.last_error
    assert row.last_error.startswith("receipt not accepted: alg 'AAAA")
    assert row.last_error.endswith(" characters)")
    assert len(row.last_error) <= 500 + len("… (99999 characters)")
    assert last_event_detail(pair, message_id)["reason"] == row.last_error


def test_partner_refusal_is_not_retried_and_its_problem_is_kept(tmp_path, database_url):
    pair = Pair(
        tmp_path, database_url, kr_jp_in_force="2999-01"
    )  # KR has no framework with JP in force
    try:
        (message_id,) = pair.disclose()
        with pair.serve_kr():
            pair.worker_once()
            pair.worker_once()
        row = pair.outbox()[message_id]
        assert (row.state, row.attempts) == ("failed", 1)
        assert (
            row.problem["type"].endswith("/policy-denied")
            and row.problem["rule"] == "no-framework-in-force"
        )
        assert pair.received_at_kr() == []
        sign_in(pair.jp_env, "test", "officer")
        retried = run(pair.jp_env, "outbox", "retry", message_id)
        assert retried.returncode == 0 and pair.outbox()[message_id].state == "queued"
    finally:
        pair.close()


def test_worker_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(pair):
    ids = pair.disclose(25)
    env = {**pair.jp_env, "GATEWAY_DELIVERY_LEASE_SECONDS": "2"}
    with pair.serve_kr():
        worker = subprocess.Popen(
            [*GATEWAY, "worker", "--interval", "0.1", "--id", "doomed"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(pair.received_at_kr()) < 5:
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        assert 0 < len(pair.received_at_kr()) < 25, "the worker must die in the middle of the work"
        time.sleep(2.5)  # its claims expire
        survivor = subprocess.Popen(
            [*GATEWAY, "worker", "--interval", "0.1", "--id", "survivor"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if all(r.state == "acknowledged" for r in pair.outbox().values()):
                    break
                time.sleep(0.2)
        finally:
            survivor.send_signal(signal.SIGTERM)
            survivor.wait(timeout=20)
    outbox = pair.outbox()
    assert all(outbox[i].state == "acknowledged" and outbox[i].receipt for i in ids)
    received = pair.received_at_kr()
    assert sorted(m for m, _ in received) == sorted(ids)  # each exactly once at the receiver


def test_review_and_four_eyes_before_anything_is_queued(pair):
    row = pair.outbound.disclose(
        recipient="KR",
        message_type="seizure-report",
        document=jp_report("H2"),
        purpose="intelligence",
        actor="officer:tanaka",
        now=datetime.now(UTC),
    )
    assert row.state == "awaiting-review" and row.decision["second_officer_required"]
    with pytest.raises(ForbiddenError, match="drafter"):
        pair.outbound.approve(
            row.message_id,
            approver=Person("tanaka", "tanaka", frozenset({"supervisor"})),
            now=datetime.now(UTC),
        )
    with pytest.raises(ForbiddenError, match="supervisor"):
        pair.outbound.approve(
            row.message_id,
            approver=Person("sato", "sato", frozenset({"officer"})),
            now=datetime.now(UTC),
        )
    pair.worker_once()
    assert pair.outbox()[row.message_id].state == "awaiting-review"  # the worker does not touch it
    approved = pair.outbound.approve(
        row.message_id,
        approver=Person("suzuki", "suzuki", frozenset({"supervisor"})),
        now=datetime.now(UTC),
    )
    assert approved.state == "queued"
    assert pair.events(row.message_id) == [
        "officer:seizure-report:drafted",
        "officer:seizure-report:approved",
    ]


def test_policy_refusal_creates_nothing(pair):
    document = jp_report()
    with pytest.raises(PolicyDeniedError) as refused:
        pair.outbound.disclose(
            recipient="IR",
            message_type="seizure-report",
            document=document,
            purpose="intelligence",
            actor="officer:test",
            now=datetime(2025, 5, 1, tzinfo=UTC),
        )
    assert refused.value.rule == "no-framework-in-force"
    assert pair.outbox() == {}


def test_withdrawal_reaches_the_partner_and_marks_the_original(pair):
    (message_id,) = pair.disclose()
    with pair.serve_kr():
        pair.worker_once()
        sign_in(pair.jp_env, "test", "officer")
        withdrawn = run(pair.jp_env, "withdraw", message_id, "--reason", "entered in error")
        assert withdrawn.returncode == 0, withdrawn.stderr
        pair.worker_once()
    rows = pair.outbox()
    (withdrawal,) = [r for r in rows.values() if r.message_type == "withdrawal"]
    assert withdrawal.state == "acknowledged"
    with sqlite3.connect(pair.kr_db) as connection:
        marked = connection.execute(
            "SELECT withdrawn_by FROM message WHERE message_id = ?", (message_id,)
        ).fetchone()
    assert marked == (withdrawal.message_id,)


def test_withdrawal_before_delivery_sends_nothing(pair):
    (message_id,) = pair.disclose()
    sign_in(pair.jp_env, "test", "officer")
    assert run(pair.jp_env, "withdraw", message_id, "--reason", "too early").returncode == 0
    with pair.serve_kr():
        pair.worker_once()
    assert pair.outbox()[message_id].state == "withdrawn"
    assert pair.received_at_kr() == []


def test_request_for_assistance_is_delivered(tmp_path, database_url):
    """To NO: a request's questions are free text, which goes only under the FY2012 provisions,
    and only past a second officer (to KR it does not go at all: tests/unit/
    test_release_policy.py)."""
    pair = Pair(tmp_path, database_url, partner="NO")
    document = {
        "requesting_administration": "JP",
        "request_id": "JP-RFA-1",
        "framework": "CMAA",
        "purpose": "intelligence",
        "urgency": "urgent",
        "questions": ["Is the consignee known?"],
        "markings": {"originator": "JP", "handling_code": "H0", "tlp": "TLP:AMBER"},
    }
    try:
        row = pair.outbound.disclose(
            recipient="NO",
            message_type="assistance-request",
            document=document,
            purpose="intelligence",
            actor="officer:test",
            now=datetime.now(UTC),
        )
        assert row.state == "awaiting-review" and row.decision["second_officer_required"]
        pair.outbound.approve(
            row.message_id,
            approver=Person("chief", "chief", frozenset({"supervisor"})),
            now=datetime.now(UTC),
        )
        with pair.serve_kr():
            pair.worker_once()
        assert pair.outbox()[row.message_id].state == "acknowledged"
        with sqlite3.connect(pair.kr_db) as connection:
            stored = connection.execute(
                "SELECT message_type, body FROM message WHERE message_id = ?", (row.message_id,)
            ).fetchone()
        assert stored[0] == "assistance-request"
        assert json.loads(stored[1])["questions"] == ["Is the consignee known?"]
    finally:
        pair.close()


def test_partner_rate_limit_is_honoured_by_the_worker(tmp_path, database_url):
    """KR admits one call a minute: the second message is answered 429 with Retry-After, and the
    worker waits that long rather than its own one-second backoff."""
    pair = Pair(tmp_path, database_url)
    pair.kr_env.update(GATEWAY_RATE_LIMIT_PER_MINUTE="1", GATEWAY_RATE_LIMIT_BURST="1")
    try:
        first, second = pair.disclose(2)
        with pair.serve_kr():
            before = datetime.now(UTC)
            pair.worker_once()
        outbox = pair.outbox()
        assert outbox[first].state == "acknowledged"
        row = outbox[second]
        assert (row.state, row.last_error) == ("retrying", "HTTP 429")
        waits = (row.next_attempt_at.replace(tzinfo=UTC) - before).total_seconds()
        assert 55 < waits < 70  # KR's Retry-After (about 60 s), not the 1 s backoff cap
        assert [m for m, _ in pair.received_at_kr()] == [first]
    finally:
        pair.close()
