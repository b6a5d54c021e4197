"""The benchmarks run at a smoke size, so that one that no longer runs is caught here and not
found broken the day someone measures (issue 23: benchmarks that cannot rot)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_release_planning_bench_plans_a_quarter_and_its_audit_finds_nothing(tmp_path):
    """Three months and their quarter, 80 reports: every release printed with its planning
    time, the audit over the four finds no disclosed cell (exit 0), and the figures land in
    the results file."""
    done = subprocess.run(
        [
            sys.executable,
            "bench/release_planning.py",
            *("--reports", "80", "--months", "3", "--results", str(tmp_path)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit over 4 releases" in done.stdout and ", 0 disclosed," in done.stdout
    results = json.loads((tmp_path / "release-planning-sqlite.json").read_text())
    assert [r["period"] for r in results["releases"]] == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-Q1",
    ]
    assert results["disclosed"] == 0 and results["reports"] == 80
