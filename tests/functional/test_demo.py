"""``make demo`` runs ``gateway demo``: two gateways, a report each way, both acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from tests.processes import GATEWAY, free_port

pytestmark = pytest.mark.functional


def test_demo_exchanges_a_report_each_way(tmp_path):
    args = ["demo", "--dir", str(tmp_path), "--jp-port", str(free_port())]
    args += ["--partner-port", str(free_port()), "--exit"]
    # its own process group: if it hangs, its two servers are stopped with it, not left behind
    process = subprocess.Popen(
        [*GATEWAY, *args],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=300)  # minutes on a busy machine
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
        pytest.fail(f"gateway demo did not finish:\n{stdout}{stderr}")
    assert process.returncode == 0, stdout + stderr
    lines = stdout.splitlines()
    assert (
        sum(1 for line in lines if line.rstrip().endswith("attempts=1") and "acknowledged" in line)
        == 2
    )
    assert any(line.startswith("JP → KR:") for line in lines) and any(
        line.startswith("KR → JP:") for line in lines
    )
