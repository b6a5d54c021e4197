"""Does the inbound path stay as fast when the store is full? Empty store against N stored messages.

In one run: the whole signed path (as in bench/inbound_http.py) is driven on an empty database,
then N messages (exact bytes, document, receipt) and their 2N audit events are loaded straight
into the tables, and the same path is driven again. Prints both rates and their ratio (the TAXII
reference server's memory store falls from ~1,750 to ~70 objects/s as it grows; see
shared/research/perf-baselines.md §7).

    .venv/bin/python bench/store_growth.py [--messages 1000000] [--postgres URL]
        [--workers 2] [--clients 8] [--seconds 8]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text, update  # noqa: E402

from bench.inbound_http import (  # noqa: E402
    BODY,
    bench_environment,
    bench_server,
    drive,
    free_port,
    gateway,
    scratch_database,
    signed_requests,
)
from gateway.store.db import Database  # noqa: E402
from gateway.store.models import AuditEvent, AuditHead, Message  # noqa: E402
from gateway.trust.keys import SigningKey, read_jwk_file  # noqa: E402

CHUNK = 5000


def prefill(url: str, count: int) -> float:
    """Load ``count`` received messages and two audit events each; returns the seconds it took."""
    document = json.loads(BODY)
    digest = hashlib.sha256(BODY).hexdigest()
    receipt = b'{"message_id":"","status":"accepted"}'
    now = datetime.now(UTC)
    database = Database(url)
    started = time.perf_counter()
    with database.transaction() as session:  # after the events the first measurement wrote
        index = session.execute(select(AuditHead.size).where(AuditHead.id == 1)).scalar_one()
    for first in range(0, count, CHUNK):
        messages, events = [], []
        for _ in range(min(CHUNK, count - first)):
            message_id = str(uuid.uuid4())
            messages.append(
                {
                    "message_id": message_id,
                    "direction": "in",
                    "sender": "KR",
                    "recipient": "JP",
                    "message_type": "seizure-report",
                    "content_type": "application/json",
                    "body": BODY,
                    "body_sha256": digest,
                    "signature": "prefilled..signature",
                    "signature_kid": "prefilled",
                    "signed_at": now,
                    "received_at": now,
                    "document": document,
                    "receipt": receipt,
                    "receipt_signature": "prefilled..receipt",
                    "log_index": index,
                    "originator": "KR",
                    "handling_code": "H1",
                    "tlp": "TLP:AMBER",
                }
            )
            for tag in ("partner:seizure-report:received", "policy:seizure-report:decided"):
                entry = json.dumps({"log_index": index, "tag": tag, "message_id": message_id})
                hashed = hashlib.sha256(entry.encode()).digest()
                events.append(
                    {
                        "log_index": index,
                        "tag": tag,
                        "occurred_at": now,
                        "actor": "KR",
                        "partner": "KR",
                        "message_id": message_id,
                        "body_sha256": digest,
                        "detail": {"content_type": "application/json"},
                        "entry": entry.encode(),
                        "leaf_hash": hashed,
                        "chain_hash": hashed,
                    }
                )
                index += 1
        with database.transaction() as session:
            session.execute(insert(Message.__table__), messages)  # type: ignore[arg-type]
            session.execute(insert(AuditEvent.__table__), events)  # type: ignore[arg-type]
    with database.transaction() as session:  # new appends continue after the loaded events
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(size=index))
    if database.dialect == "postgresql":  # what autovacuum does after a bulk load
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("ANALYZE"))
    database.dispose()
    return time.perf_counter() - started


def measure(env: dict[str, str], key: SigningKey, workers: int, clients: int, seconds: float):
    port = free_port()
    with bench_server(env, port, workers):
        drive(port, "/v1/seizure-reports", signed_requests(300, key, port), 1.5, clients)
        headers = signed_requests(int(seconds * 600), key, port)
        started = time.monotonic()
        count, errors, latencies = drive(port, "/v1/seizure-reports", headers, seconds, clients)
        elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "req_per_s": count / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, scratch_database(args.postgres) as database_url:
        url = database_url or f"sqlite:///{scratch}/growth.sqlite3"
        env = bench_environment(scratch, url, GATEWAY_WORKERS=str(args.workers))
        gateway(env, "migrate")
        gateway(env, "keys", "init")
        gateway(env, "keys", "init", "--id", "KR")
        key = SigningKey.from_jwk(read_jwk_file(Path(scratch) / "keys" / "KR.private.jwk"))
        empty = measure(env, key, args.workers, args.clients, args.seconds)
        print(f"empty store: {empty['req_per_s']:.0f} req/s", file=sys.stderr)
        loaded_in = prefill(url, args.messages)
        print(f"loaded {args.messages:,} messages in {loaded_in:.0f} s", file=sys.stderr)
        full = measure(env, key, args.workers, args.clients, args.seconds)

    name = "PostgreSQL" if args.postgres else "SQLite (WAL, synchronous=FULL)"
    ratio = full["req_per_s"] / empty["req_per_s"]
    print(f"signed inbound path, {args.workers} workers, {args.clients} clients, {name}")
    for label, r in ((f"{'empty store':<24}", empty), (f"{args.messages:>11,} messages", full)):
        print(
            f"  {label} {r['req_per_s']:>6.0f} req/s  p50 {r['p50_ms']:.1f} ms  "
            f"p99 {r['p99_ms']:.1f} ms  errors {r['errors']}"
        )
    print(f"  full / empty: {ratio:.0%}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"store-growth-{'postgres' if args.postgres else 'sqlite'}.json").write_text(
        json.dumps({"args": vars(args), "empty": empty, "full": full, "ratio": ratio}, indent=2)
    )


if __name__ == "__main__":
    main()
