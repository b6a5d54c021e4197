"""The two commands a newcomer runs, as real processes over loopback HTTP (issue 2, "Done when")."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.settings import PROJECT_ROOT

pytestmark = pytest.mark.functional
GATEWAY = [sys.executable, "-m", "gateway"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GATEWAY, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def environment(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        GATEWAY_DATABASE_URL=database_url,
        GATEWAY_KEYS_DIR=str(tmp_path / "keys"),
        GATEWAY_KEY_PINS_DIR=str(tmp_path / "pins"),
        GATEWAY_PORT=str(free_port()),
        GATEWAY_LOG_LEVEL="WARNING",
    )
    for args in (("keys", "init"), ("keys", "init", "--id", "KR")):
        assert run(env, *args).returncode == 0
    return env


@pytest.fixture
def server(environment: dict[str, str], tmp_path: Path) -> Iterator[str]:
    base = f"http://127.0.0.1:{environment['GATEWAY_PORT']}"
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [*GATEWAY, "serve"], env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            process.kill()
            process.wait(timeout=10)
            pytest.fail(f"the gateway did not become ready:\n{log.read_text()}")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_send_gets_a_verified_receipt_from_a_served_gateway(environment, server):
    for sample in ("seizure-report.json", "seizure-report.xml"):
        result = run(
            environment,
            "send",
            "seizure-report",
            str(PROJECT_ROOT / "specs" / "samples" / sample),
            "--as",
            "KR",
            "--to",
            server,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "HTTP 202" in result.stdout
        assert "receipt signature verified: JP key" in result.stdout


def test_send_reports_a_refusal_with_its_problem(environment, server, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"reporting_administration": "KR"}))
    result = run(environment, "send", "seizure-report", str(bad), "--as", "KR", "--to", server)
    assert result.returncode == 1
    assert "HTTP 422" in result.stdout and "schema-invalid" in result.stdout


def test_serve_refuses_to_start_without_keys(environment, tmp_path):
    shutil.rmtree(tmp_path / "keys")
    result = run(environment, "serve")
    assert result.returncode != 0
    assert "gateway keys init" in result.stderr


def test_serve_refuses_to_start_on_an_unmigrated_database(environment, tmp_path):
    environment = {**environment, "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    result = run(environment, "serve")
    assert result.returncode != 0
    assert "gateway migrate" in result.stderr
