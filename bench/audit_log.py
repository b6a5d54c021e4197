"""Audit log throughput, each beside hashlib doing the same hashing alone, in one run.

* append: events appended one transaction each (as the gateway does) on SQLite or PostgreSQL,
  beside computing the same entries, leaf and chain hashes with hashlib alone;
* offline verification of an export of N events (default 1,000,000): ``verify_export`` on the
  JSON-parsed file, beside hashlib alone hashing the same entries and Merkle nodes.

    .venv/bin/python bench/audit_log.py [--events 1000000] [--appends 5000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from inbound_http import scratch_database  # noqa: E402

from gateway.audit import log as audit_log  # noqa: E402
from gateway.audit import merkle  # noqa: E402
from gateway.audit.export import EXPORT_FORMAT  # noqa: E402
from gateway.audit.hashing import GENESIS, canonical_entry, chain_hash, leaf_hash  # noqa: E402
from gateway.audit.tree_heads import TreeHead  # noqa: E402
from gateway.audit.verify import verify_export  # noqa: E402
from gateway.store import migrate  # noqa: E402
from gateway.store.db import Database  # noqa: E402
from gateway.trust.keys import SigningKey, generate_jwk  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def fields(i: int) -> dict:
    return {
        "log_index": i,
        "tag": "partner:seizure-report:received",
        "occurred_at": (T0 + timedelta(seconds=i)).isoformat(),
        "actor": "KR",
        "partner": "KR",
        "message_id": f"00000000-0000-4000-8000-{i:012d}",
        "body_sha256": hashlib.sha256(str(i).encode()).hexdigest(),
        "detail": {"content_type": "application/json", "kid": "bench"},
    }


def bench_append(url: str, count: int) -> tuple[float, float]:
    database = Database(url)
    started = time.perf_counter()
    for i in range(count):
        f = fields(i)
        with database.transaction() as session:
            audit_log.append(
                session,
                audit_log.Event(
                    tag=f["tag"],
                    occurred_at=T0 + timedelta(seconds=i),
                    actor="KR",
                    partner="KR",
                    message_id=f["message_id"],
                    body_sha256=f["body_sha256"],
                    detail=f["detail"],
                ),
            )
    database_rate = count / (time.perf_counter() - started)
    database.dispose()
    started = time.perf_counter()
    chain = GENESIS
    for i in range(count):
        chain = chain_hash(chain, leaf_hash(canonical_entry(fields(i))))
    return database_rate, count / (time.perf_counter() - started)


def synthetic_export(count: int, key: SigningKey) -> dict:
    events, hashes, chain = [], [], GENESIS
    for i in range(count):
        f = fields(i)
        entry = canonical_entry(f)
        leaf = leaf_hash(entry)
        chain = chain_hash(chain, leaf)
        hashes.append(leaf)
        events.append(
            {
                **{k: v for k, v in f.items() if k != "log_index"},
                "log_index": i,
                "entry": base64.b64encode(entry).decode(),
                "leaf_hash": leaf.hex(),
                "chain_hash": chain.hex(),
            }
        )
    head = TreeHead("JP", count, merkle.root(hashes), T0)
    return {
        "format": EXPORT_FORMAT,
        "gateway": "JP",
        "exported_at": T0.isoformat(),
        "from": "",
        "to": "",
        "tree_head": head.sign(key),
        "leaf_hashes": [h.hex() for h in hashes],
        "first_index": 0,
        "chain_before": GENESIS.hex(),
        "events": events,
        "messages": {},
        "keys": {"JP": {"keys": []}},
    }


def hashlib_alone(data: dict) -> None:
    """The same hashing with nothing else: every entry, the chain, and the Merkle nodes."""
    chain, leaves = GENESIS, []
    for event in data["events"]:
        leaf = hashlib.sha256(b"\x00" + base64.b64decode(event["entry"])).digest()
        chain = hashlib.sha256(chain + leaf).digest()
        leaves.append(leaf)
    while len(leaves) > 1:  # a level-by-level tree has the same number of node hashes
        pairs = [
            hashlib.sha256(b"\x01" + leaves[i] + leaves[i + 1]).digest()
            for i in range(0, len(leaves) - 1, 2)
        ]
        leaves = pairs + ([leaves[-1]] if len(leaves) % 2 else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=5_000)
    parser.add_argument(
        "--postgres", help="PostgreSQL server URL (a scratch database is created and dropped)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, scratch_database(args.postgres) as pg_url:
        url = pg_url or f"sqlite:///{scratch}/audit.sqlite3"
        migrate.upgrade(url)
        db_rate, hash_rate = bench_append(url, args.appends)
    store = "PostgreSQL" if args.postgres else "SQLite (WAL, synchronous=FULL)"
    print(
        f"append, one transaction per event, {store}: {db_rate:,.0f} events/s; "
        f"hashlib alone {hash_rate:,.0f} events/s ({db_rate / hash_rate:.1%})"
    )

    jwk = generate_jwk()
    key = SigningKey.from_jwk(jwk)
    print(f"building a {args.events:,}-event export ...", flush=True)
    data = json.loads(json.dumps(synthetic_export(args.events, key)))
    started = time.perf_counter()
    report = verify_export(data, trusted_keys=[key.pinned])
    verify_s = time.perf_counter() - started
    assert report.ok, report.summary()
    started = time.perf_counter()
    hashlib_alone(data)
    alone_s = time.perf_counter() - started
    rate, alone_rate = args.events / verify_s, args.events / alone_s
    print(
        f"offline verify of {args.events:,} events: {verify_s:.1f} s = {rate:,.0f} events/s; "
        f"hashlib alone {alone_s:.1f} s = {alone_rate:,.0f} events/s ({alone_s / verify_s:.0%})"
    )


if __name__ == "__main__":
    main()
