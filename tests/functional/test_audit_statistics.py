"""Exchange statistics for auditors (issue 20, item 5), recomputed independently from an export.

A realistic log is made by the real workflows: partners' signed calls (accepted, refused for
their form, their policy and their credentials, a resend under a used id, a withdrawal),
disclosures out (held for review, approved, withdrawn before and after delivery, pulled by a
pull partner, pushed to KR's real gateway running in process, dead letters and retries over a
real socket nobody answers). Then ``gateway audit export`` writes the range, and this file counts
the export's events with plain Python by the rules the README states, and compares that with
the API's JSON and CSV and the CLI's.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from gateway.app import build_services, create_app
from gateway.demo import partner_directories
from gateway.exchange.delivery import DeliveryWorker, HttpTransport, TransportResponse
from gateway.people import Person
from gateway.registry import add_pinned_key
from gateway.settings import PROJECT_ROOT, load_settings
from gateway.store import migrate
from gateway.trust.keys import public_part, write_private_jwk
from tests.conftest import AUDITOR_TOKEN, OPERATOR_TOKEN
from tests.functional.test_audit_cli import run
from tests.functional.test_pull import receipt_for
from tests.processes import free_port

AUDITOR = {"Authorization": f"Bearer {AUDITOR_TOKEN}"}
SAMPLE = json.loads((PROJECT_ROOT / "specs" / "samples" / "seizure-report.json").read_text())
MESSAGE_PATHS = {
    "/v1/seizure-reports": "seizure-report",
    "/v1/withdrawals": "withdrawal",
}


def report(sender: str, tlp: str = "TLP:GREEN") -> bytes:
    document = json.loads(json.dumps(SAMPLE))
    document["reporting_administration"] = sender
    document["report_id"] = f"{sender}-{uuid.uuid4().hex[:8]}"
    if sender == "JP":
        document["markings"] = {"originator": "JP", "handling_code": "H0", "tlp": tlp}
    return json.dumps(document).encode()


# --- KR's real gateway, in process --------------------------------------------------------------


class InProcess:
    """The delivery worker's HTTP into a real gateway app (a TestClient) instead of a socket."""

    def __init__(self, client: TestClient) -> None:
        self._client = client

    def post(self, url: str, body: bytes, headers: Any) -> TransportResponse:
        answer = self._client.post(urlsplit(url).path, content=body, headers=dict(headers))
        return TransportResponse(answer.status_code, answer.content, dict(answer.headers))


@pytest.fixture
def kr_gateway(tmp_path: Path, private_jwks: dict[str, Any]) -> Iterator[TestClient]:
    """KR's own gateway (its registry, policy, keys and SQLite), pinning JP's key."""
    root = tmp_path / "KR"
    root.mkdir()
    migrate.upgrade(f"sqlite:///{root / 'gateway.sqlite3'}")
    write_private_jwk(root / "keys" / "KR.private.jwk", private_jwks["KR"])
    for admin in ("JP", "KR"):
        add_pinned_key(root / "pins", admin, public_part(private_jwks[admin]))
    partner_directories(root, "KR")
    settings = load_settings(
        environ={},
        gateway_id="KR",
        database_url=f"sqlite:///{root / 'gateway.sqlite3'}",
        registry_dir=root / "partners",
        policy_dir=root / "policies",
        key_pins_dir=root / "pins",
        keys_dir=root / "keys",
        web_secret_file=root / "web-secret",
    )
    services = build_services(settings)
    with TestClient(create_app(settings, services)) as client:
        yield client
    services.database.dispose()


# --- the log ------------------------------------------------------------------------------------


def worker(settings, services, transport, name: str, **changes: Any) -> DeliveryWorker:
    return DeliveryWorker(
        settings=replace(settings, **changes),
        registry=services.registry,
        keyring=services.keyring,
        database=services.database,
        transport=transport,
        worker_id=name,
    )


@pytest.fixture
def exchange_log(client, services, settings, partner, kr_gateway) -> dict[str, str]:
    """Every kind of message outcome, made by the real workflows; their ids by role."""
    now = lambda: datetime.now(UTC)  # noqa: E731
    outbound = services.outbound
    kr, us, qz = partner("KR"), partner("US"), partner("QZ")
    ids: dict[str, str] = {}

    def send(who, body: bytes, message_id: str | None = None, path="/v1/seizure-reports"):
        return who.send(
            path,
            body,
            content_type="application/json",
            message_type=MESSAGE_PATHS[path],
            message_id=message_id or str(uuid.uuid4()),
        )

    # in: accepted, withdrawn by its sender, refused (form, policy, credentials), a resend
    for name in ("kr_withdrawn", "kr_accepted"):
        ids[name] = str(uuid.uuid4())
        assert send(kr, report("KR"), ids[name]).status == 202
    withdrawal = json.dumps({"withdraws": ids["kr_withdrawn"], "reason": "entered in error"})
    assert send(kr, withdrawal.encode(), path="/v1/withdrawals").status == 202
    assert send(kr, report("KR"), ids["kr_accepted"]).status == 409  # another body, same id
    assert send(us, report("US")).status == 202
    denied = send(qz, report("QZ"))
    assert denied.status == 403 and denied.json()["rule"] == "no-framework-in-force"
    ids["kr_invalid"] = str(uuid.uuid4())
    for _ in range(2):  # sent twice: one message
        assert send(kr, b"{}", ids["kr_invalid"]).status == 422
    assert client.post("/v1/seizure-reports", content=b"{}").status_code == 401

    def disclose(recipient: str, *, hold: bool = False) -> str:
        return outbound.disclose(
            recipient=recipient,
            message_type="seizure-report",
            document=json.loads(report("JP", "TLP:AMBER" if recipient == "KR" else "TLP:GREEN")),
            purpose="intelligence",
            actor="officer:tanaka",
            now=now(),
            hold=hold,
        ).message_id

    to_kr = worker(
        settings, services, InProcess(kr_gateway), "to-kr", partner_endpoints="KR=http://testserver"
    )
    nobody = f"KR=http://127.0.0.1:{free_port()}"
    socket = HttpTransport(timeout_seconds=5, max_answer_bytes=65536)
    # out: pushed and acknowledged by KR's gateway, then withdrawn (the withdrawal delivered too)
    ids["out_withdrawn_after"] = disclose("KR")
    assert to_kr.run_once() == 1
    outbound.withdraw(
        ids["out_withdrawn_after"], reason="superseded", actor="officer:suzuki", now=now()
    )
    assert to_kr.run_once() == 1
    ids["out_delivered"] = disclose("KR")
    assert to_kr.run_once() == 1
    # no answer: a dead letter after one attempt; another left retrying
    ids["out_dead"] = disclose("KR")
    assert (
        worker(
            settings, services, socket, "dead", partner_endpoints=nobody, delivery_max_attempts=1
        ).run_once()
        == 1
    )
    ids["out_retrying"] = disclose("KR")
    assert (
        worker(
            settings,
            services,
            socket,
            "retry",
            partner_endpoints=nobody,
            delivery_max_attempts=5,
            delivery_backoff_base_seconds=600,
        ).run_once()
        == 1
    )
    # not delivered: withdrawn before, held for review, approved and queued
    ids["out_withdrawn_before"] = disclose("KR")
    outbound.withdraw(
        ids["out_withdrawn_before"], reason="sent in error", actor="officer:tanaka", now=now()
    )
    ids["out_held"] = disclose("KR", hold=True)
    ids["out_approved"] = disclose("KR", hold=True)
    outbound.approve(
        ids["out_approved"], approver=Person("sato", "Sato", frozenset({"supervisor"})), now=now()
    )
    # pulled by US (a pull partner) and acknowledged; another still waiting in its inbox
    ids["out_pulled"], ids["out_available"] = disclose("US"), disclose("US")
    item = next(
        i for i in us.get("/v1/inbox").json()["items"] if i["message_id"] == ids["out_pulled"]
    )
    assert (
        us.send(
            f"/v1/inbox/{item['message_id']}/acknowledgement",
            receipt_for(item),
            content_type="application/json",
            message_type="receipt",
            message_id=item["message_id"],
        ).status
        == 204
    )
    # and events that are no message's outcome: an auditor's read, a refused auditor's call
    assert (
        client.get(f"/v1/audit/messages/{ids['kr_accepted']}", headers=AUDITOR).status_code == 200
    )
    assert client.post("/v1/policy/explanations", headers=AUDITOR, json={}).status_code in (
        400,
        403,
    )
    return ids


# --- the independent recomputation --------------------------------------------------------------


def recount(events: list[dict[str, Any]], period: str) -> list[dict[str, Any]]:
    """The README's rules applied to an export's events, written out without the gateway's code."""
    message_types = {
        "seizure-report",
        "assistance-request",
        "assistance-answer",
        "withdrawal",
        "marking-change",
        "certificate-of-origin",
        "certificate-status",
        "origin-verification-request",
        "origin-verification-answer",
        "seizure-report-batch",
    }
    paths = {
        "/v1/seizure-reports": "seizure-report",
        "/v1/assistance-requests": "assistance-request",
        "/v1/assistance-answers": "assistance-answer",
        "/v1/withdrawals": "withdrawal",
        "/v1/marking-changes": "marking-change",
        "/v1/certificates-of-origin": "certificate-of-origin",
        "/v1/certificate-status-notices": "certificate-status",
        "/v1/origin-verification-requests": "origin-verification-request",
        "/v1/origin-verification-answers": "origin-verification-answer",
        "/v1/hub/seizure-report-batches": "seizure-report-batch",
    }
    messages: dict[Any, dict[str, Any]] = {}
    for event in sorted(events, key=lambda e: e["log_index"]):
        tag, detail = event["tag"], event.get("detail") or {}
        source, kind, action = tag.split(":")[0], ":".join(tag.split(":")[1:-1]), tag.split(":")[-1]
        partner, message_id = event.get("partner"), event.get("message_id")
        found = None  # (direction, type, outcome, reason, rule)
        if source == "partner" and action == "refused":
            if detail.get("method") == "POST" and detail.get("path") in paths:
                found = (
                    "in",
                    paths[detail["path"]],
                    "refused",
                    detail["problem"],
                    detail.get("rule"),
                )
        elif kind not in message_types:
            pass
        elif action == "received" and source == "partner":
            found = ("in", kind, "accepted", None, None)
        elif action == "withdrawn" and detail.get("before_delivery"):
            found = ("out", kind, "withdrawn", "before-delivery", None)
        elif action == "withdrawn" and source == "partner":
            found = ("in", kind, "withdrawn", "by-sender", None)
        elif action == "acknowledged" and source == "partner":
            found = ("out", kind, "pulled", None, None)
        elif action == "drafted":
            held = detail["state"] == "awaiting-review"
            found = ("out", kind, "awaiting-review" if held else "pending", None, None)
            if kind == "withdrawal" and (partner, detail["withdraws"]) in {
                (k[1], k[3]) for k in messages if k[0] == "out"
            }:
                original = next(
                    v
                    for k, v in messages.items()
                    if k[0] == "out" and (k[1], k[3]) == (partner, detail["withdraws"])
                )
                original.update(outcome="withdrawn", reason="after-delivery", rule=None)
        elif source == "officer" and action in ("approved", "retried"):
            found = ("out", kind, "pending", None, None)
        elif source == "system" and action in ("delivered", "delivery-failed", "dead-lettered"):
            reason = None
            if action != "delivered":
                text = detail["reason"]
                reason = (
                    text.split("/problems/")[1].split()[0]
                    if text.startswith("refused by") and "/problems/" in text
                    else "no-answer"
                    if text.startswith("no answer")
                    else f"http-{detail['status']}"
                )
            outcome = {
                "delivered": "delivered",
                "delivery-failed": "retrying",
                "dead-lettered": "dead-letter",
            }[action]
            found = ("out", kind, outcome, reason, None)
        if found is None:
            continue
        direction, message_type, outcome, reason, rule = found
        key = (direction, partner, message_type, message_id or f"#{event['log_index']}")
        if key not in messages:
            messages[key] = {"first": event["occurred_at"]}
        elif outcome == "refused" and messages[key]["outcome"] in ("accepted", "withdrawn"):
            continue
        messages[key].update(outcome=outcome, reason=reason, rule=rule)

    def bucket(moment: str) -> str:
        day = datetime.fromisoformat(moment).astimezone(UTC).date()
        if period == "week":
            day -= timedelta(days=day.weekday())
        elif period == "month":
            day = day.replace(day=1)
        return day.isoformat()

    counted = Counter(
        (bucket(m["first"]), k[1], k[0], k[2], m["outcome"], m["reason"], m["rule"])
        for k, m in messages.items()
    )
    rows = [
        {
            "period": p,
            "partner": partner,
            "direction": d,
            "message_type": t,
            "outcome": o,
            "reason": r,
            "rule": rule,
            "messages": n,
        }
        for (p, partner, d, t, o, r, rule), n in counted.items()
    ]
    return sorted((_present(r) for r in rows), key=_order)


def _present(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v is not None}


def _order(row: dict[str, Any]) -> tuple[str, ...]:
    columns = ("period", "partner", "direction", "message_type", "outcome", "reason", "rule")
    return tuple(str(row.get(c, "")) for c in columns)


def _csv_rows(text: str) -> list[dict[str, Any]]:
    rows = list(csv.DictReader(io.StringIO(text)))
    return [
        _present({**{k: v or None for k, v in r.items()}, "messages": int(r["messages"])})
        for r in rows
    ]


# --- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["day", "month"])
def test_statistics_equal_an_independent_recount_of_the_export(
    client, settings, exchange_log, tmp_path, period
):
    today = datetime.now(UTC).date()
    since, until = today.isoformat(), (today + timedelta(days=1)).isoformat()
    out = tmp_path / "export.json"
    exported = run(settings, "audit", "export", "--from", since, "--to", until, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    expected = recount(json.loads(out.read_text())["events"], period)

    params = {"since": since, "until": until, "period": period}
    answer = client.get("/v1/audit/statistics", params=params, headers=AUDITOR)
    assert answer.status_code == 200, answer.text
    figures = answer.json()
    assert figures["rows"] == expected
    assert figures["totals"]["messages"] == sum(r["messages"] for r in expected)
    assert figures["excess_refusals"] == []

    as_csv = client.get("/v1/audit/statistics", params={**params, "format": "csv"}, headers=AUDITOR)
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    assert _csv_rows(as_csv.text) == expected
    negotiated = client.get(
        "/v1/audit/statistics", params=params, headers={**AUDITOR, "Accept": "text/csv"}
    )
    assert negotiated.text == as_csv.text

    cli_json = run(
        settings, "audit", "statistics", "--since", since, "--until", until, "--period", period
    )
    assert cli_json.exit_code == 0, cli_json.output
    assert json.loads(cli_json.output) == figures
    cli_csv = run(
        settings,
        "audit",
        "statistics",
        "--since",
        since,
        "--until",
        until,
        "--period",
        period,
        "--format",
        "csv",
    )
    assert cli_csv.exit_code == 0 and cli_csv.stdout_bytes.decode() == as_csv.text


def test_every_outcome_is_counted_as_stated(client, exchange_log):
    """The figures by hand, for the log the fixture made (what an auditor would check first)."""
    rows = client.get("/v1/audit/statistics", headers=AUDITOR).json()["rows"]
    found = {
        (
            r.get("partner"),
            r["direction"],
            r["message_type"],
            r["outcome"],
            r.get("reason"),
            r.get("rule"),
        ): r["messages"]
        for r in rows
    }
    assert found == {
        ("KR", "in", "seizure-report", "accepted", None, None): 1,  # the 409 resend changes nothing
        ("KR", "in", "seizure-report", "withdrawn", "by-sender", None): 1,
        ("KR", "in", "withdrawal", "accepted", None, None): 1,
        ("KR", "in", "seizure-report", "refused", "schema-invalid", None): 1,  # sent twice
        ("US", "in", "seizure-report", "accepted", None, None): 1,
        ("QZ", "in", "seizure-report", "refused", "policy-denied", "no-framework-in-force"): 1,
        (None, "in", "seizure-report", "refused", "token-missing", None): 1,
        ("KR", "out", "seizure-report", "withdrawn", "after-delivery", None): 1,
        ("KR", "out", "withdrawal", "delivered", None, None): 1,
        ("KR", "out", "seizure-report", "delivered", None, None): 1,
        ("KR", "out", "seizure-report", "dead-letter", "no-answer", None): 1,
        ("KR", "out", "seizure-report", "retrying", "no-answer", None): 1,
        ("KR", "out", "seizure-report", "withdrawn", "before-delivery", None): 1,
        ("KR", "out", "seizure-report", "awaiting-review", None, None): 1,
        ("KR", "out", "seizure-report", "pending", None, None): 1,
        ("US", "out", "seizure-report", "pulled", None, None): 1,
        ("US", "out", "seizure-report", "pending", None, None): 1,
    }


def test_filters_select_messages(client, exchange_log):
    def total(**params: str) -> int:
        answer = client.get("/v1/audit/statistics", params=params, headers=AUDITOR)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["totals"]["messages"])

    assert total() == 17
    assert total(direction="in") == 7 and total(direction="out") == 10
    assert total(partner="US") == 3
    assert total(partner="KR", direction="out", message_type="withdrawal") == 1
    today = datetime.now(UTC).date()
    tomorrow, later = today + timedelta(days=1), today + timedelta(days=2)
    assert total(since=tomorrow.isoformat(), until=later.isoformat()) == 0
    assert total(until="2000-01-01") == 0
    week = client.get("/v1/audit/statistics", params={"period": "week"}, headers=AUDITOR).json()
    monday = today - timedelta(days=today.weekday())
    assert {r["period"] for r in week["rows"]} == {monday.isoformat()}
    assert week["period"] == "week" and week["totals"]["messages"] == 17


@pytest.mark.parametrize(
    ("params", "status", "kind"),
    [
        ({"since": "yesterday"}, 422, "schema-invalid"),
        ({"until": "2026-13-01"}, 422, "schema-invalid"),
        ({"since": "2026-05-02", "until": "2026-05-01"}, 400, "request-invalid"),
        ({"since": "2026-05-01", "until": "2026-05-01"}, 400, "request-invalid"),
        ({"period": "year"}, 400, "request-invalid"),
        ({"direction": "sideways"}, 400, "request-invalid"),
        ({"format": "xml"}, 400, "request-invalid"),
        ({"partner": "korea"}, 400, "request-invalid"),
    ],
)
def test_bad_filters_are_problems(client, params, status, kind):
    answer = client.get("/v1/audit/statistics", params=params, headers=AUDITOR)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == f"https://customs.go.jp/gateway/problems/{kind}"


def test_only_auditors_read_the_statistics(client, partner):
    system = client.get(
        "/v1/audit/statistics", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    )
    assert system.status_code == 403 and system.json()["type"].endswith("/forbidden")
    assert client.get("/v1/audit/statistics").status_code == 401
    assert partner("KR").get("/v1/audit/statistics").status == 401


def test_cli_refuses_a_bad_range(settings, services):
    answer = run(settings, "audit", "statistics", "--since", "2026-05-02", "--until", "2026-05-01")
    assert answer.exit_code == 2 and "since must be before until" in answer.output
