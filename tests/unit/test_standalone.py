"""The suite stands alone: a read beside the repository fails the test that makes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import PROJECT_ROOT
from tests.standalone import COMMON_PARENTS, Guard, OutsideRepositoryError


def test_a_path_in_a_sibling_of_the_repository_is_refused(tmp_path: Path):
    guard = Guard(tmp_path / "clone" / "repo", allowed=(str(tmp_path / "clone" / "venv"),))
    with pytest.raises(OutsideRepositoryError, match="outside the repository"):
        guard.check(tmp_path / "clone" / "shared" / "data" / "agreements.csv")
    with pytest.raises(OutsideRepositoryError):
        guard.check(str(tmp_path / "clone" / "repo" / ".." / "shared"))
    guard.check(tmp_path / "clone" / "repo" / "data" / "agreements.csv")
    guard.check(tmp_path / "clone" / "venv" / "lib" / "site.py")
    guard.check(tmp_path / "elsewhere")


def test_the_guard_is_on_for_this_run_and_the_repository_reads():
    guard = Guard(PROJECT_ROOT)
    if guard.active:  # the repository is not directly under /, the temporary folder or home
        with pytest.raises(OutsideRepositoryError):
            (PROJECT_ROOT.parent / "shared" / "PROTOCOL.md").open(encoding="utf-8")
    else:
        assert PROJECT_ROOT.parent in COMMON_PARENTS
    assert (PROJECT_ROOT / "data" / "agreements.csv").read_text(encoding="utf-8")
