"""A guard that the suite reads nothing beside the repository (a lone clone must pass).

An audit hook (PEP 578) sees every ``open``, ``os.listdir`` and ``os.scandir`` of the test
process. A path inside a sibling of the repository (``../shared/...``, say) raises
:class:`OutsideRepositoryError`, which fails the test that opened it: on a fresh machine that
path would not exist. Paths the interpreter itself runs from (``sys.prefix``, ``sys.path``) are
allowed wherever they are, so a virtual environment shared between worktrees still works.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

#: Folders whose children are not siblings in the sense meant here (a clone at /tmp/repo).
COMMON_PARENTS = frozenset({Path("/"), Path(tempfile.gettempdir()).resolve(), Path.home()})
_EVENTS = frozenset({"open", "os.listdir", "os.scandir"})


class OutsideRepositoryError(PermissionError):
    """The suite touched a path beside the repository."""


class Guard:
    """Which paths a suite run from ``root`` may not touch: those under ``root``'s parent
    folder, except ``root`` itself and ``allowed`` (the interpreter's own folders)."""

    def __init__(self, root: Path, allowed: tuple[str, ...] = ()) -> None:
        self.root = root.resolve()
        self._parent = str(self.root.parent) + os.sep
        self._allowed = (str(self.root), *allowed)
        self.active = self.root.parent not in COMMON_PARENTS

    def check(self, path: str | bytes | os.PathLike[str]) -> None:
        """Raise OutsideRepositoryError if ``path`` lies beside the repository."""
        # abspath, not resolve: no I/O inside an audit hook
        text = os.path.abspath(os.fsdecode(path))
        if not self.active or not text.startswith(self._parent):
            return
        if any(text == a or text.startswith(a + os.sep) for a in self._allowed):
            return
        raise OutsideRepositoryError(
            f"{text} is outside the repository ({self.root}): a lone clone has no such path"
        )

    def hook(self, event: str, args: tuple[object, ...]) -> None:
        if event in _EVENTS and args and isinstance(args[0], str | bytes | os.PathLike):
            self.check(args[0])  # type: ignore[arg-type]


def install(project_root: Path) -> Guard:
    """Refuse, from now on, every read of a path beside ``project_root`` in this process."""
    interpreter = tuple(
        str(Path(p).resolve()) for p in (sys.prefix, *sys.path) if p and Path(p).exists()
    )
    guard = Guard(project_root, interpreter)
    sys.addaudithook(guard.hook)
    return guard
