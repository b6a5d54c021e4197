"""Certificates of origin per second through the whole inbound path, by size, beside their parts.

Starts the gateway (uvicorn) on a fresh database with a partner (ID) whose transport key and
issuing authority are pinned, pre-signs distinct certificates of 1, 50 and 500 items (the
authority's XML Signature and the transport JWS are the sender's cost, not the server's), then
POSTs each size to /v1/certificates-of-origin: assertion, JWS, hardened parse, XSD, the
authority's XML Signature, JSON schema, policy, commit of message + certificate + audit leaves,
signed receipt. In the same run and on the same bodies, in this process:

* ``xsd``       lxml parse + XSD validation alone;
* ``xmldsig``   signxml verification against the pinned certificate alone;
* ``read``      the whole document check (parse, XSD, signature, JSON form, JSON schema, rules).

    .venv/bin/python bench/certificates.py [--workers 2] [--clients 4] [--postgres URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.inbound_http import (  # noqa: E402
    bench_environment,
    bench_server,
    cpu_seconds,
    free_port,
    gateway,
    scratch_database,
)
from gateway.documents.certificate_of_origin import (  # noqa: E402
    CertificateReader,
    sign_certificate,
)
from gateway.documents.hardened import parse_xml  # noqa: E402
from gateway.documents.schemas import XmlSchemas  # noqa: E402
from gateway.origin.synthetic import certificate  # noqa: E402
from gateway.settings import load_settings  # noqa: E402
from gateway.trust.assertions import make_assertion  # noqa: E402
from gateway.trust.jws import sign_detached  # noqa: E402
from gateway.trust.keys import SigningKey, read_jwk_file  # noqa: E402
from gateway.trust.xmldsig import read_authority, verify_enveloped  # noqa: E402

PATH = "/v1/certificates-of-origin"
SIZES = {1: 400, 50: 150, 500: 24}  # items → certificates sent


def bodies(size: int, count: int, key: bytes, authority) -> list[bytes]:
    today = datetime.now(UTC).date()
    return [
        sign_certificate(
            certificate(
                number=f"BENCH-{size}-{uuid.uuid4().hex[:12]}",
                exporting_party="ID",
                importing_party="JP",
                agreement="JP-ID-EPA",
                issue_date=today,
                items=size,
            ),
            key,
            authority,
        )
        for _ in range(count)
    ]


def signed_headers(body: bytes, key: SigningKey, port: int) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "Authorization": "Bearer "
        + make_assertion(
            key,
            caller="ID",
            receiver_id="JP",
            method="POST",
            url=f"http://127.0.0.1:{port}{PATH}",
            now=now,
            lifetime=timedelta(seconds=280),
        ),
        "X-JWS-Signature": sign_detached(
            body,
            key,
            content_type="application/xml",
            message_id=str(uuid.uuid4()),
            issuer="ID",
            audience="JP",
            message_type="certificate-of-origin",
            issued_at=now,
        ),
        "Content-Type": "application/xml",
    }


def post_all(port: int, requests: list[tuple[bytes, dict[str, str]]], clients: int):
    """POST every request with ``clients`` threads; (seconds, errors, latencies)."""
    import threading

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    queue = list(requests)

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                body, headers = queue.pop()
            started = time.perf_counter()
            connection.request("POST", PATH, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if response.status != 202:
                    errors[0] += 1
                    if errors[0] == 1:
                        print("first error:", response.status, answer[:300], file=sys.stderr)
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started, errors[0], latencies


def per_second(action, items: list[bytes]) -> float:
    started = time.perf_counter()
    for body in items:
        action(body)
    return len(items) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, scratch_database(args.postgres) as database_url:
        port = free_port()
        env = bench_environment(scratch, database_url or f"sqlite:///{scratch}/bench.sqlite3")
        for command in (
            ("migrate",),
            ("keys", "init"),
            ("keys", "init", "--id", "ID"),
            ("origin", "authority", "init", "--id", "ID"),
        ):
            gateway(env, *command)
        transport_key = SigningKey.from_jwk(
            read_jwk_file(Path(scratch) / "keys" / "ID.private.jwk")
        )
        authority_key, authority = read_authority(Path(scratch) / "keys", "ID")
        made = {
            size: bodies(size, count, authority_key, authority) for size, count in SIZES.items()
        }

        settings = load_settings(environ=env)
        xml_schemas = XmlSchemas(settings.xsd_dir)
        reader = CertificateReader(
            xml_schemas,
            max_bytes=settings.max_body_bytes,
            max_depth=settings.max_xml_depth,
        )

        def xsd(body: bytes) -> None:
            root = parse_xml(body, max_bytes=settings.max_body_bytes, max_depth=64)
            xml_schemas.check("certificate-of-origin", root)

        def xmldsig(body: bytes) -> None:
            root = parse_xml(
                body, max_bytes=settings.max_body_bytes, max_depth=64, keep_whitespace=True
            )
            verify_enveloped(root, [authority], on=datetime.now(UTC).date())

        def read(body: bytes) -> None:
            reader.read(body, "application/xml", lambda party: [authority])

        results = {}
        with bench_server(env, port, args.workers) as pids:
            warm = bodies(1, 20, authority_key, authority)
            post_all(
                port, [(b, signed_headers(b, transport_key, port)) for b in warm], args.clients
            )
            for size, sized in made.items():
                requests = [(b, signed_headers(b, transport_key, port)) for b in sized]
                cpu_before = cpu_seconds(pids)
                seconds, errors, latencies = post_all(port, requests, args.clients)
                cpu = cpu_seconds(pids) - cpu_before
                latencies.sort()
                results[size] = {
                    "bytes": len(sized[0]),
                    "certificates": len(sized),
                    "errors": errors,
                    "path_per_s": len(sized) / seconds,
                    "p50_ms": 1000 * statistics.median(latencies),
                    "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
                    "server_cpu_ms": 1000 * cpu / len(sized),
                    "xsd_per_s": per_second(xsd, sized),
                    "xmldsig_per_s": per_second(xmldsig, sized),
                    "read_per_s": per_second(read, sized),
                }

    database = "PostgreSQL" if args.postgres else "SQLite (WAL, synchronous=FULL)"
    print(
        f"certificates of origin over HTTP: {args.workers} uvicorn workers, "
        f"{args.clients} client threads, {database}; parts in one process on the same bodies"
    )
    print(
        f"{'items':>5} {'KiB':>6} {'path/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms':>7} "
        f"{'xsd/s':>7} {'xmldsig/s':>9} {'read/s':>7} {'errors':>6}"
    )
    for size, r in results.items():
        print(
            f"{size:>5} {r['bytes'] / 1024:>6.0f} {r['path_per_s']:>7.1f} {r['p50_ms']:>7.1f} "
            f"{r['p99_ms']:>7.1f} {r['server_cpu_ms']:>7.1f} {r['xsd_per_s']:>7.0f} "
            f"{r['xmldsig_per_s']:>9.0f} {r['read_per_s']:>7.0f} {r['errors']:>6}"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "certificates.json").write_text(
        json.dumps({"args": vars(args), "results": results}, indent=2)
    )


if __name__ == "__main__":
    main()
