"""The two commands a newcomer runs, as real processes over loopback HTTP (issue 2, "Done when")."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.settings import PROJECT_ROOT
from tests.processes import gateway_environment, run, serving

pytestmark = pytest.mark.functional


@pytest.fixture
def environment(tmp_path: Path, database_url: str) -> dict[str, str]:
    return gateway_environment(tmp_path, database_url)


@pytest.fixture
def server(environment: dict[str, str], tmp_path: Path) -> Iterator[str]:
    with serving(environment, tmp_path / "serve.log") as base:
        yield base


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


class EndlessAnswer(http.server.BaseHTTPRequestHandler):
    """A hostile "gateway": reads the call, then answers 202 with a body that never ends."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"0" * 65536
        try:
            while True:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: object) -> None:
        pass


def test_send_stops_reading_an_endless_answer(environment):
    hostile = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EndlessAnswer)
    threading.Thread(target=hostile.serve_forever, daemon=True).start()
    try:
        result = run(
            environment,
            "send",
            "seizure-report",
            str(PROJECT_ROOT / "specs" / "samples" / "seizure-report.json"),
            "--as",
            "KR",
            "--to",
            f"http://127.0.0.1:{hostile.server_address[1]}",
        )
    finally:
        hostile.shutdown()
        hostile.server_close()
    assert result.returncode == 1
    assert "the answer is over 1048576 bytes" in result.stderr, result.stderr


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
