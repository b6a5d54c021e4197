"""Delivered messages per second from JP to KR, with 1 and with 2 delivery workers, in one run.

JP and KR are real gateway processes set up as ``gateway demo`` sets them up; each round queues
N disclosures in JP's outbox, starts the workers, and times until every message is acknowledged
by a verified receipt.

    .venv/bin/python bench/delivery.py [--messages 300] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from inbound_http import free_port, scratch_database  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from gateway.app import build_services  # noqa: E402
from gateway.demo import prepare  # noqa: E402
from gateway.settings import load_settings  # noqa: E402
from gateway.store import migrate  # noqa: E402
from gateway.store.models import OutboxMessage  # noqa: E402


def report() -> dict:
    document = json.loads((ROOT / "specs" / "samples" / "seizure-report.json").read_text())
    document.update(reporting_administration="JP", report_id="JP-BENCH-1")
    document["markings"] = {"originator": "JP", "handling_code": "H0", "tlp": "TLP:GREEN"}
    return document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument(
        "--postgres", help="PostgreSQL server URL for JP's database (scratch, dropped after)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, scratch_database(args.postgres) as pg_url:
        jp, kr = prepare(Path(scratch), "KR", free_port(), free_port())
        jp_env = jp.environment(kr, **({"GATEWAY_DATABASE_URL": pg_url} if pg_url else {}))
        if pg_url:
            migrate.upgrade(pg_url)
        kr_env = {
            **kr.environment(jp),
            "GATEWAY_WORKERS": "2",
            "GATEWAY_RATE_LIMIT_PER_MINUTE": "0",  # measure delivery, not KR's allowance for JP
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve"],
            env=kr_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        services = build_services(load_settings(environ=jp_env))
        outbound = services.outbound
        try:
            time.sleep(4)
            results = {}
            for workers in (1, 2):
                for _ in range(args.messages):
                    outbound.disclose(
                        recipient="KR",
                        message_type="seizure-report",
                        document=report(),
                        purpose="intelligence",
                        actor="officer:bench",
                        now=datetime.now(UTC),
                    )
                started = time.monotonic()
                processes = [
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "gateway",
                            "worker",
                            "--interval",
                            "0.05",
                            "--id",
                            f"bench-{workers}-{n}",
                        ],
                        env=jp_env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    for n in range(workers)
                ]
                while True:
                    with services.database.transaction() as session:
                        pending = session.scalar(
                            select(func.count())
                            .select_from(OutboxMessage)
                            .where(OutboxMessage.state != "acknowledged")
                        )
                    if pending == 0:
                        break
                    time.sleep(0.05)
                elapsed = time.monotonic() - started
                for process in processes:
                    process.terminate()
                    process.wait(timeout=20)
                results[workers] = args.messages / elapsed
        finally:
            services.database.dispose()
            server.terminate()
            server.wait(timeout=20)
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"delivery JP → KR, {args.messages} messages per round, "
        f"JP on {database}, KR 2 uvicorn workers"
    )
    for workers, rate in results.items():
        print(
            f"  {workers} worker(s): {rate:,.0f} delivered messages/s "
            "(each with a verified receipt)"
        )
    print(f"  2 workers / 1 worker: {results[2] / results[1]:.2f}x")


if __name__ == "__main__":
    main()
