"""``make demo`` runs ``gateway demo``: two gateways, a report each way, both acknowledged."""

from __future__ import annotations

import os

import pytest

from tests.processes import free_port, run

pytestmark = pytest.mark.functional


def test_demo_exchanges_a_report_each_way(tmp_path):
    result = run(
        dict(os.environ),
        "demo",
        "--dir",
        str(tmp_path),
        "--jp-port",
        str(free_port()),
        "--partner-port",
        str(free_port()),
        "--exit",
        timeout=300,  # two servers, their migrations and keys: minutes on a busy machine
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert (
        sum(1 for line in lines if line.rstrip().endswith("attempts=1") and "acknowledged" in line)
        == 2
    )
    assert any(line.startswith("JP → KR:") for line in lines) and any(
        line.startswith("KR → JP:") for line in lines
    )
