"""Planning the hub's disclosure-controlled releases over a year, and the attacker's audit of
all of them, beside the plain trend report of the same periods, in one run.

A hub (in-process, SQLite or PostgreSQL) takes a year of members' reports (the synthetic world:
shared seizures, corridors reported by one member, unknown departures, months with a single
seizure of a kind), then releases to members each month, each quarter and the year, in the
order a hub would. For each release: the planning time, its rounds, how many cells it shows and
suppresses, and what it could not protect; then the audit over all of them (every suppressed
cell's interval against the protection).

    .venv/bin/python bench/release_planning.py [--reports 400] [--postgres URL] [--months 12]

It exits 1 if the audit finds a disclosed cell.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.inbound_http import scratch_database  # noqa: E402
from bench.rilo import hub_on  # noqa: E402
from gateway.rilo.release_audit import in_release_order, periods_between  # noqa: E402
from gateway.rilo.releases import Releases  # noqa: E402
from gateway.rilo.synthetic import REAL_WORLD, reports  # noqa: E402

MEMBERS = ("JP", "KR", "TH", "ID")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=400)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--months", type=int, default=12, help="months of the year released")
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, scratch_database(args.postgres) as url:
        url = url or f"sqlite:///{scratch}/hub.sqlite3"
        database, hub = hub_on(url, Path(scratch))
        last = date(args.year, args.months, 28)
        made = list(
            reports(
                args.reports,
                seed=21,
                members=MEMBERS,
                start=date(args.year, 1, 1),
                end=last,
                twice=0.15,
                **REAL_WORLD,
            )
        )
        now = datetime.now(UTC)
        for member in MEMBERS:
            mine = [r for r in made if r["reporting_administration"] == member]
            with database.transaction() as session:
                hub.ingest(session, member, mine, message_id=f"bench-{member}", now=now)
        releases = Releases(database)
        periods = in_release_order(
            periods_between(f"{args.year}-01", f"{args.year}-{args.months:02d}")
        )
        rows = []
        print(f"{len(made)} reports, {len(periods)} releases to members")
        print(
            f"{'period':<9}{'plan s':>8}{'report s':>9}{'rounds':>7}{'shown':>6}{'hidden':>7}"
            f"{'withheld':>9}{'unprotected':>12}"
        )
        for period in periods:
            begun = time.perf_counter()
            hub.trend_report(period)
            exact = time.perf_counter() - begun
            begun = time.perf_counter()
            released = releases.release(period, "members", actor="bench", now=now)
            seconds = time.perf_counter() - begun
            shown = sum(
                1 for t in released.body["tables"].values() for e in t if not e["suppressed"]
            )
            rows.append(
                {
                    "period": period.label,
                    "plan_s": seconds,
                    "report_s": exact,
                    "rounds": released.rounds,
                    "shown": shown,
                    "suppressed": released.suppressed,
                    "withheld": released.withheld,
                    "unprotected": len(released.inherited),
                }
            )
            r = rows[-1]
            print(
                f"{r['period']:<9}{seconds:>8.2f}{exact:>9.3f}{r['rounds']:>7}{shown:>6}"
                f"{r['suppressed']:>7}{r['withheld']:>9}{r['unprotected']:>12}",
                flush=True,
            )
            for line in released.inherited:
                print(f"  unprotected: {line}", flush=True)
        begun = time.perf_counter()
        found = releases.audit()
        audit_seconds = time.perf_counter() - begun
        database.dispose()
    disclosed = len(found.disclosed)
    for finding in found.disclosed:
        print(
            f"  disclosed: {finding.release} {finding.table} {finding.label} "
            f"[{finding.lo:g}, {finding.hi:g}] true {finding.true_value:g}"
        )
    print(
        f"audit over {len(periods)} releases: {len(found.findings)} sensitive figures judged "
        "(seizures and amounts), "
        f"{disclosed} disclosed, {audit_seconds:.1f} s"
    )
    out = args.results
    out.mkdir(parents=True, exist_ok=True)
    (out / f"release-planning-{'postgres' if args.postgres else 'sqlite'}.json").write_text(
        json.dumps(
            {
                "reports": len(made),
                "releases": rows,
                "audit_s": audit_seconds,
                "disclosed": disclosed,
            },
            indent=2,
        )
    )
    if disclosed:
        sys.exit(1)


if __name__ == "__main__":
    main()
