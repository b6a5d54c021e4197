"""The two commands a newcomer runs, as real processes over loopback HTTP (issue 2, "Done when")."""

from __future__ import annotations

import json
import shutil
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
