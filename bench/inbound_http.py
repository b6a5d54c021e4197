"""Signed seizure reports per second through the whole inbound path, beside a bare POST.

Starts the gateway (uvicorn, N workers) on a fresh database, pre-signs every request (the client's
signing is not the server's cost), then drives each target for the same time with the same
client threads and keep-alive connections:

* ``bare``   POST /bench/bare: the same body through the same connexion app, no checks, no storage;
* ``edge``   POST /bench/authenticated: the signed path's edge alone (the assertion verified, the
  signature header required) and a fixed receipt: none of the message's own work; beside ``bare``
  it is the highest ratio the framework leaves to the signed path;
* ``signed`` POST /v1/seizure-reports: assertion, JWS, schema, gate, commit of message + audit leaf,
  signed receipt.

Prints requests/s, p50/p99 latency, server CPU per request and each target's ratio to bare in
several alternating rounds, and the median ratios.

    .venv/bin/python bench/inbound_http.py [--workers 2] [--seconds 5] [--rounds 3]
        [--clients 8] [--postgres URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.trust.assertions import make_assertion  # noqa: E402
from gateway.trust.jws import sign_detached  # noqa: E402
from gateway.trust.keys import SigningKey, read_jwk_file  # noqa: E402

BODY = (ROOT / "specs" / "samples" / "seizure-report.json").read_bytes()
#: The bench-only operation with the signed path's edge and none of its work (bench/app.py).
EDGE = "/bench/authenticated"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gateway(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "gateway", *args], env=env, check=True, capture_output=True
    )


def cpu_seconds(pids: list[int]) -> float:
    """user+sys CPU of the server processes (uvicorn's parent and its workers), from procfs."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (FileNotFoundError, IndexError):
            pass
    return total


def server_pids(parent: int) -> list[int]:
    children = subprocess.run(
        ["pgrep", "-P", str(parent)], capture_output=True, text=True
    ).stdout.split()
    return [parent, *map(int, children)]


def bench_environment(scratch: str, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmark's gateway: its own database, keys and pins under
    ``scratch``, quiet logs, no rate limit (the benchmarks measure the path, not the allowance)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        GATEWAY_DATABASE_URL=database_url,
        GATEWAY_KEYS_DIR=f"{scratch}/keys",
        GATEWAY_KEY_PINS_DIR=f"{scratch}/pins",
        GATEWAY_WEB_SECRET_FILE=f"{scratch}/web-secret",
        GATEWAY_LOG_LEVEL="WARNING",
        GATEWAY_RATE_LIMIT_PER_MINUTE="0",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def signed_call(
    key: SigningKey,
    url: str,
    body: bytes,
    *,
    caller: str,
    now: datetime,
    message_id: str | None = None,
) -> dict[str, str]:
    """The headers of one seizure report from ``caller``: assertion, JWS over ``body`` naming
    ``message_id`` (a new one if not given)."""
    return {
        "Authorization": "Bearer "
        + make_assertion(
            key,
            caller=caller,
            receiver_id="JP",
            method="POST",
            url=url,
            now=now,
            lifetime=timedelta(seconds=280),
        ),
        "X-JWS-Signature": sign_detached(
            body,
            key,
            content_type="application/json",
            message_id=message_id or str(uuid.uuid4()),
            issuer=caller,
            audience="JP",
            message_type="seizure-report",
            issued_at=now,
        ),
        "Content-Type": "application/json",
    }


def signed_requests(
    count: int, key: SigningKey, port: int, path: str = "/v1/seizure-reports"
) -> list[dict[str, str]]:
    """``count`` calls of the sample report from KR to ``path`` (distinct message ids and
    assertions)."""
    url = f"http://127.0.0.1:{port}{path}"
    now = datetime.now(UTC)
    return [signed_call(key, url, BODY, caller="KR", now=now) for _ in range(count)]


def drive(port: int, path: str, headers: list[dict[str, str]] | None, seconds: float, clients: int):
    """Run ``clients`` threads for ``seconds``; returns (count, errors, latencies)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    next_index = [0]
    deadline = time.monotonic() + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        while time.monotonic() < deadline:
            if headers is not None:
                with lock:
                    if next_index[0] >= len(headers):
                        break
                    request_headers = headers[next_index[0]]
                    next_index[0] += 1
            else:
                request_headers = {"Content-Type": "application/json"}
            started = time.perf_counter()
            connection.request("POST", path, body=BODY, headers=request_headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 202:
                with lock:
                    errors[0] += 1
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), errors[0], latencies


@contextmanager
def bench_server(env: dict[str, str], port: int, workers: int) -> Iterator[list[int]]:
    """The gateway plus the bench-only bare operation under uvicorn until the block ends;
    yields the server's process ids (for CPU accounting) once it answers."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.app:app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1.0)
        yield server_pids(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)


@contextmanager
def scratch_database(server_url: str | None) -> Iterator[str | None]:
    """A fresh PostgreSQL database on ``server_url`` for this run, dropped afterwards."""
    if not server_url:
        yield None
        return
    from sqlalchemy import create_engine, text

    from gateway.store.db import normalise_url

    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    name = f"gateway_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(
    port: int,
    path: str,
    headers: list[dict[str, str]] | None,
    seconds: float,
    clients: int,
    pids: list[int],
) -> dict[str, float]:
    """One target driven for ``seconds``: requests/s, latency percentiles, server CPU/request."""
    cpu_before = cpu_seconds(pids)
    started = time.monotonic()
    count, errors, latencies = drive(port, path, headers, seconds, clients)
    elapsed = time.monotonic() - started
    cpu = cpu_seconds(pids) - cpu_before
    latencies.sort()
    return {
        "requests": count,
        "errors": errors,
        "req_per_s": count / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "server_cpu_ms_per_req": 1000 * cpu / max(count, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0, help="per target and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--postgres",
        help="PostgreSQL server URL; a scratch database is created on it "
        "and dropped afterwards (default: SQLite)",
    )
    args = parser.parse_args()

    rounds: list[dict[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as scratch, scratch_database(args.postgres) as database_url:
        port = free_port()
        env = bench_environment(scratch, database_url or f"sqlite:///{scratch}/bench.sqlite3")
        gateway(env, "migrate")
        gateway(env, "keys", "init")
        gateway(env, "keys", "init", "--id", "KR")
        key = SigningKey.from_jwk(read_jwk_file(Path(scratch) / "keys" / "KR.private.jwk"))
        with bench_server(env, port, args.workers) as pids:
            # warm-up both paths
            drive(port, "/bench/bare", None, 1.0, args.clients)
            drive(port, "/v1/seizure-reports", signed_requests(200, key, port), 1.0, args.clients)
            drive(port, EDGE, signed_requests(200, key, port, EDGE), 1.0, args.clients)
            # Alternating rounds: the machine's speed drifts (shared VM), so each round's ratio
            # compares two targets measured a few seconds apart, and the median ratio is reported.
            for _ in range(args.rounds):
                count = int(args.seconds * 1500)
                headers = signed_requests(count, key, port)
                edge_headers = signed_requests(count, key, port, EDGE)
                rounds.append(
                    {
                        "bare": measure(
                            port, "/bench/bare", None, args.seconds, args.clients, pids
                        ),
                        "edge": measure(port, EDGE, edge_headers, args.seconds, args.clients, pids),
                        "signed": measure(
                            port, "/v1/seizure-reports", headers, args.seconds, args.clients, pids
                        ),
                    }
                )

    database = "PostgreSQL" if args.postgres else "SQLite (WAL, synchronous=FULL)"
    print(
        f"inbound path over HTTP: {args.workers} uvicorn workers, {args.clients} client threads, "
        f"{args.rounds} rounds of {args.seconds:.0f} s per target, {database}"
    )
    print(
        f"{'round':<6}{'target':<8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11} "
        f"{'errors':>7} {'/ bare':>8}"
    )
    ratios: dict[str, list[float]] = {"edge": [], "signed": []}
    for number, results in enumerate(rounds, start=1):
        for name, r in results.items():
            ratio = r["req_per_s"] / results["bare"]["req_per_s"]
            if name in ratios:
                ratios[name].append(ratio)
            print(
                f"{number:<6}{name:<8} {r['req_per_s']:>8.0f} {r['p50_ms']:>8.1f} "
                f"{r['p99_ms']:>8.1f} {r['server_cpu_ms_per_req']:>11.2f} {r['errors']:>7}"
                + (f" {ratio:>8.0%}" if name in ratios else "")
            )
    medians = {name: statistics.median(values) for name, values in ratios.items()}
    errors = sum(r[name]["errors"] for r in rounds for name in r)
    print(
        f"median of {len(rounds)} rounds: signed / bare {medians['signed']:.0%}; "
        f"edge alone / bare {medians['edge']:.0%} (the highest the framework leaves)"
    )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "inbound_http.json").write_text(
        json.dumps({"args": vars(args), "rounds": rounds, "ratios": medians}, indent=2)
    )
    if errors:
        sys.exit(f"{errors} requests were answered with an error")


if __name__ == "__main__":
    main()
