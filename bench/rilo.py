"""The RILO A/P hub at scale: bulk ingest and the quarterly trend report over N seizure reports,
each beside the raw database doing the same insert or aggregation alone, in the same run.

* ``ingest``  Hub.ingest in batches of 1,000 (compiled schema check of every report, provenance,
  dedupe lookup, insert, rollup upserts, audit event), one transaction per batch;
* ``raw insert``  the same rows inserted into a bare table of the same columns, same batches;
* ``report``  the quarterly trend report (every table, three periods, suppression) from the rollups;
* ``raw GROUP BY``  the same counts and sums per dimension value straight from the reports
  (the plain aggregation the rollups replace), for the partition dimensions of one quarter.

    .venv/bin/python bench/rilo.py [--reports 1000000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.inbound_http import scratch_database  # noqa: E402
from gateway.demo import hub_registry  # noqa: E402
from gateway.documents.schemas import JsonSchemas, load_spec  # noqa: E402
from gateway.policy.loader import load_policies  # noqa: E402
from gateway.registry import Registry  # noqa: E402
from gateway.rilo.hub import Hub  # noqa: E402
from gateway.rilo.synthetic import reports  # noqa: E402
from gateway.rilo.trends import Period  # noqa: E402
from gateway.settings import load_settings  # noqa: E402
from gateway.store import migrate  # noqa: E402
from gateway.store.db import Database  # noqa: E402

BATCH = 1000
RAW_COLUMNS = (
    "member, report_id, message_id, seizure_date, month, category, commodity_type, origin, "
    "departure, destination, mode, unit, amount, validation, seizure_key, document, received_at"
)


def hub_on(url: str, scratch: Path) -> tuple[Database, Hub]:
    """A migrated database at ``url`` and the RILO A/P hub over it, its registry in ``scratch``."""
    migrate.upgrade(url)
    database = Database(url)
    registry = Registry.load(hub_registry(scratch))
    settings = load_settings(environ={})
    hub = Hub(
        hub_id="RILO-AP",
        registry=registry,
        database=database,
        json_schemas=JsonSchemas(load_spec(settings.spec_path)),
        max_batch=BATCH,
        accepted=load_policies(settings.policy_dir, registry).hub.trees["seizure-report"],
    )
    return database, hub


def batches(count: int) -> list[tuple[str, list[dict]]]:
    by_member: dict[str, list[dict]] = defaultdict(list)
    for report in reports(count, seed=2026, start=date(2024, 1, 1), end=date(2026, 9, 30)):
        by_member[report["reporting_administration"]].append(report)
    return [
        (member, items[start : start + BATCH])
        for member, items in by_member.items()
        for start in range(0, len(items), BATCH)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, scratch_database(args.postgres) as url:
        url = url or f"sqlite:///{scratch}/hub.sqlite3"
        database, hub = hub_on(url, Path(scratch))
        started = time.perf_counter()
        work = batches(args.reports)
        generated = time.perf_counter() - started
        print(f"generated {args.reports:,} reports in {generated:.1f} s", file=sys.stderr)

        with database.transaction() as session:  # a bare twin of hub_report, for the raw insert
            session.execute(text("CREATE TABLE raw_report AS SELECT * FROM hub_report WHERE 1 = 0"))
        rows_of = []
        for member, items in work[:50]:
            rows_of.append(
                [
                    {
                        "member": member,
                        "report_id": r["report_id"],
                        "message_id": "00000000-0000-0000-0000-000000000000",
                        "seizure_date": r["seizure_date"],
                        "month": int(r["seizure_date"][:4]) * 100 + int(r["seizure_date"][5:7]),
                        "category": r["commodity"]["category"],
                        "commodity_type": r["commodity"]["type"],
                        "origin": r["route"].get("origin"),
                        "departure": r["route"].get("departure"),
                        "destination": r["route"].get("destination"),
                        "mode": r["transport"]["mode"],
                        "unit": r["quantity"]["unit"],
                        "amount": r["quantity"]["amount"],
                        "validation": "member-reported",
                        "seizure_key": r["report_id"],
                        "document": json.dumps(r),
                        "received_at": datetime.now(UTC).isoformat(),
                    }
                    for r in items
                ]
            )
        placeholders = ", ".join(f":{c.strip()}" for c in RAW_COLUMNS.split(","))
        started = time.perf_counter()
        raw_count = 0
        for rows in rows_of:
            with database.transaction() as session:
                session.execute(
                    text(f"INSERT INTO raw_report ({RAW_COLUMNS}) VALUES ({placeholders})"), rows
                )
            raw_count += len(rows)
        raw_rate = raw_count / (time.perf_counter() - started)

        started = time.perf_counter()
        sample_count, sample_seconds = 0, 0.0
        for index, (member, items) in enumerate(work):
            begun = time.perf_counter()
            with database.transaction() as session:
                hub.ingest(
                    session, member, items, message_id=f"bench-{index}", now=datetime.now(UTC)
                )
            if index < 50:  # the same batches the raw insert took
                sample_count += len(items)
                sample_seconds += time.perf_counter() - begun
            if index % 100 == 0:
                print(f"  {index * BATCH:,} ingested", file=sys.stderr)
        ingest_seconds = time.perf_counter() - started
        ingest_rate = args.reports / ingest_seconds

        period = Period.parse("2026-Q2")
        hub.trend_report(period)  # warm
        report_times = []
        for _ in range(5):
            begun = time.perf_counter()
            result = hub.trend_report(period)
            report_times.append(time.perf_counter() - begun)
        months = ", ".join(str(m) for m in period.months)
        groupings = {
            "commodity": "category, commodity_type",
            "category": "category",
            "route": "origin, departure, destination",
            "mode": "mode",
            "member": "member",
            "commodity-route": "commodity_type, origin, destination",
        }
        raw_times = []
        for _ in range(3):
            begun = time.perf_counter()
            with database.transaction() as session:
                for columns in groupings.values():
                    session.execute(
                        text(
                            f"SELECT {columns}, member, unit, count(*), sum(amount) "
                            "FROM hub_report "
                            f"WHERE month IN ({months}) AND duplicate_of IS NULL "
                            f"AND withdrawn_at IS NULL GROUP BY {columns}, member, unit"
                        )
                    ).all()
            raw_times.append(time.perf_counter() - begun)
        database.dispose()

    name = "PostgreSQL" if args.postgres else "SQLite (WAL, synchronous=FULL)"
    report_median, raw_median = statistics.median(report_times), statistics.median(raw_times)
    print(f"RILO A/P hub, {args.reports:,} reports, {name}")
    print(f"bulk ingest        {ingest_rate:>9,.0f} reports/s  ({ingest_seconds:.0f} s in all)")
    sample_rate = sample_count / sample_seconds
    print(f"  first 50 batches {sample_rate:>9,.0f} reports/s  beside raw insert {raw_rate:,.0f}/s")
    seizures = f"{result['total_cases']:,} seizures in {period.label}"
    print(f"quarterly report   {report_median * 1000:>9,.0f} ms  ({seizures})")
    print(
        f"  raw GROUP BY     {raw_median * 1000:>9,.0f} ms  (six partition dimensions, one quarter)"
    )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"rilo-{'postgres' if args.postgres else 'sqlite'}.json").write_text(
        json.dumps(
            {
                "reports": args.reports,
                "ingest_per_s": ingest_rate,
                "ingest_first_50_per_s": sample_count / sample_seconds,
                "raw_insert_per_s": raw_rate,
                "report_ms": report_median * 1000,
                "raw_group_by_ms": raw_median * 1000,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
