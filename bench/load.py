"""Load: N partner clients send signed seizure reports for a fixed time; nothing may be lost.

Starts the gateway with several uvicorn workers on a fresh database (PostgreSQL by default), lets
``--clients`` threads, each speaking for its own partner administration with its own key, send
distinct pre-signed reports over keep-alive connections for ``--seconds``, then stops the server
and checks what it answered against what it kept:

* every answer was a 202 with a receipt signed by JP (verified with JP's published key);
* the audit log, exported and verified offline (``gateway audit verify``'s code), is whole;
* every receipt's ``leaf_hash`` is the leaf at its ``log_index`` in that verified log, and the
  message it names is stored with the digest it states.

Prints throughput, p50/p99 latency, errors and the checks.

    .venv/bin/python bench/load.py [--postgres URL] [--workers 2] [--clients 8] [--seconds 20]
    .venv/bin/python bench/load.py --sqlite
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bench.inbound_http import (  # noqa: E402
    bench_environment,
    bench_server,
    free_port,
    gateway,
    scratch_database,
    signed_call,
)
from gateway.audit.export import export_log  # noqa: E402
from gateway.audit.verify import verify_export  # noqa: E402
from gateway.exchange.receipts import check_receipt  # noqa: E402
from gateway.registry import Registry  # noqa: E402
from gateway.store.db import Database  # noqa: E402
from gateway.store.models import Message  # noqa: E402
from gateway.trust.keys import Keyring, SigningKey, read_jwk_file  # noqa: E402

SAMPLE = json.loads((ROOT / "specs" / "samples" / "seizure-report.json").read_text())
#: Partners with a framework in force that carries seizure reports to JP.
PARTNERS = ("KR", "US", "AU", "NZ", "CN", "SG", "IN", "CA", "MY", "TH", "VN", "PH")
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def report_of(partner: str, number: int) -> bytes:
    document = json.loads(json.dumps(SAMPLE))
    document["reporting_administration"] = partner
    document["report_id"] = f"{partner}-LOAD-{number:07d}"
    document["markings"]["originator"] = partner
    return json.dumps(document).encode()


def presigned(
    partner: str, key: SigningKey, port: int, count: int
) -> list[tuple[str, bytes, dict]]:
    """(message id, body, headers) of ``count`` distinct reports from ``partner``."""
    url = f"http://127.0.0.1:{port}/v1/seizure-reports"
    now = datetime.now(UTC)
    calls = []
    for number in range(count):
        message_id, body = str(uuid.uuid4()), report_of(partner, number)
        headers = signed_call(key, url, body, caller=partner, now=now, message_id=message_id)
        calls.append((message_id, body, headers))
    return calls


def client(port: int, calls: list[tuple[bytes, dict]], deadline: float, out: list[tuple]) -> None:
    """Send ``calls`` in order until the deadline; append (latency, status, body, headers,
    answer body, answer signature) per call."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for message_id, body, headers in calls:
        if time.monotonic() >= deadline:
            break
        started = time.perf_counter()
        try:
            connection.request("POST", "/v1/seizure-reports", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            status, signature = response.status, response.getheader("X-JWS-Signature")
        except OSError as error:
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            status, answer, signature = 0, str(error).encode(), None
        out.append((time.perf_counter() - started, status, message_id, body, answer, signature))
    connection.close()


def check_everything(database_url: str, scratch: Path, results: list[tuple]) -> dict[str, int]:
    """Receipts against JP's key, the log verified offline, each receipt's leaf in it."""
    keyring = Keyring.load(scratch / "keys", "JP")
    database = Database(database_url)
    registry = Registry.load(ROOT / "partners", scratch / "pins")
    data = json.loads(
        json.dumps(
            export_log(
                database,
                registry,
                keyring,
                gateway_id="JP",
                start=datetime(2000, 1, 1, tzinfo=UTC),
                end=datetime(2100, 1, 1, tzinfo=UTC),
                actor="bench:load",
                now=datetime.now(UTC),
            )
        )
    )
    report = verify_export(data, trusted_keys=list(keyring.published))
    leaves = data["leaf_hashes"]
    receipts_checked = leaves_found = stored = 0
    with database.transaction() as session:
        digests = dict(
            session.execute(
                select(Message.message_id, Message.body_sha256).where(Message.direction == "in")
            ).all()
        )
    for _, status, message_id, body, answer, signature in results:
        if status != 202:
            continue
        receipt = check_receipt(
            answer,
            signature,
            keys=keyring.published,
            issuer="JP",
            message_id=message_id,
            body_sha256=hashlib.sha256(body).hexdigest(),
            now=datetime.now(UTC),
            clock_skew=timedelta(seconds=600),
        )
        receipts_checked += 1
        leaves_found += leaves[receipt["log_index"]] == receipt["leaf_hash"]
        stored += digests.get(message_id) == receipt["body_sha256"]
    database.dispose()
    return {
        "log_verified": int(report.ok),
        "log_events": report.tree_size,
        "receipts_verified": receipts_checked,
        "receipt_leaves_in_log": leaves_found,
        "messages_stored_as_receipted": stored,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL server URL")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    if args.clients > len(PARTNERS):
        parser.error(f"at most {len(PARTNERS)} clients (one partner each)")
    server_url = None if args.sqlite else args.postgres

    with tempfile.TemporaryDirectory() as scratch, scratch_database(server_url) as database_url:
        url = database_url or f"sqlite:///{scratch}/load.sqlite3"
        port = free_port()
        env = bench_environment(scratch, url, GATEWAY_WORKERS=str(args.workers))
        gateway(env, "migrate")
        gateway(env, "keys", "init")
        partners = PARTNERS[: args.clients]
        for partner in partners:
            gateway(env, "keys", "init", "--id", partner)
        keys = {
            p: SigningKey.from_jwk(read_jwk_file(Path(scratch) / "keys" / f"{p}.private.jwk"))
            for p in partners
        }
        per_client = int(args.seconds * 400)  # more than any client can send in the time
        calls = {p: presigned(p, keys[p], port, per_client) for p in partners}
        outputs: dict[str, list[tuple]] = {p: [] for p in partners}
        with bench_server(env, port, args.workers):
            started = time.monotonic()
            deadline = started + args.seconds
            threads = [
                threading.Thread(target=client, args=(port, calls[p], deadline, outputs[p]))
                for p in partners
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
        results = [r for p in partners for r in outputs[p]]
        checks = check_everything(url, Path(scratch), results)

    latencies = sorted(r[0] for r in results)
    errors = sum(r[1] != 202 for r in results)
    summary = {
        "database": "SQLite" if args.sqlite else "PostgreSQL",
        "workers": args.workers,
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": len(results),
        "req_per_s": len(results) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "errors": errors,
        **checks,
    }
    print(
        f"load: {args.clients} partners, {args.workers} workers, {summary['database']}, "
        f"{elapsed:.0f} s"
    )
    print(
        f"  {summary['requests']:,} reports, {summary['req_per_s']:.0f}/s, "
        f"p50 {summary['p50_ms']:.1f} ms, p99 {summary['p99_ms']:.1f} ms, errors {errors}"
    )
    print(
        f"  audit log verified: {'yes' if checks['log_verified'] else 'NO'} "
        f"({checks['log_events']:,} events); receipts verified {checks['receipts_verified']:,}, "
        f"their leaves in the log {checks['receipt_leaves_in_log']:,}, "
        f"messages stored as receipted {checks['messages_stored_as_receipted']:,}"
    )
    whole = (
        errors == 0
        and checks["log_verified"]
        and checks["receipts_verified"]
        == checks["receipt_leaves_in_log"]
        == checks["messages_stored_as_receipted"]
        == len(results)
    )
    print(f"  nothing lost: {'yes' if whole else 'NO'}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"load-{summary['database'].lower()}.json").write_text(json.dumps(summary, indent=2))
    sys.exit(0 if whole else 1)


if __name__ == "__main__":
    main()
