"""Files and directories only their owner can read, whatever the umask.

The gateway's database, keys, pins, web secret, audit exports and everything under ``var/`` hold
personal data or trust material. A mode asked of ``open``/``mkdir`` is masked by the umask but
never widened by it; a parent that ``mkdir(parents=True)`` creates gets the default mode, and
libraries (SQLite: 0644 for a new database) choose their own. So every file and directory the
gateway creates goes through here:

* :func:`private_directory` creates a directory and each missing parent 0700 exactly;
* :func:`open_private` / :func:`write_private` create (or truncate) a file 0600 exactly;
* :func:`create_private_file` makes an empty 0600 file for a library to fill (SQLite then gives
  its ``-wal``, ``-shm`` and ``-journal`` files the database file's mode).

What already exists keeps its mode, except a regular file the gateway writes anew (an export
written over an older one); :mod:`gateway.preflight` reports loose modes of an existing
installation (:func:`loose_bits`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO, Literal, overload

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIRECTORY_MODE = 0o700


def private_directory(path: Path) -> Path:
    """``path``, a directory: it and every missing parent are created 0700 (exactly, whatever
    the umask). Directories that exist already are left as they are. Returns ``path``."""
    missing = []
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            break
        missing.append(candidate)
    for directory in reversed(missing):
        try:
            os.mkdir(directory, PRIVATE_DIRECTORY_MODE)
        except FileExistsError:  # made by another process a moment ago
            if not directory.is_dir():
                raise
            continue
        os.chmod(directory, PRIVATE_DIRECTORY_MODE)  # the umask may have taken bits away
    return path


def _open_descriptor(path: Path, *, exclusive: bool) -> int:
    """A write descriptor on ``path``, created 0600 (its parents 0700) or emptied; a regular
    file is made 0600 in either case, before anything in it is lost (a file whose mode cannot be
    changed is left whole: PermissionError). FileExistsError if ``exclusive`` and it exists."""
    private_directory(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else 0)
    descriptor = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE_MODE)
    try:
        if stat.S_ISREG(os.fstat(descriptor).st_mode):  # not a terminal or a pipe (/dev/stdout)
            os.fchmod(descriptor, PRIVATE_FILE_MODE)
            os.ftruncate(descriptor, 0)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


@overload
def open_private(path: Path, mode: Literal["w"] = "w", *, exclusive: bool = False) -> IO[str]: ...
@overload
def open_private(path: Path, mode: Literal["wb"], *, exclusive: bool = False) -> IO[bytes]: ...
def open_private(path: Path, mode: str = "w", *, exclusive: bool = False) -> IO[str] | IO[bytes]:
    """``path`` opened for writing (``"w"``: UTF-8 text, ``"wb"``: bytes), readable by its owner
    only; see :func:`write_private`."""
    descriptor = _open_descriptor(path, exclusive=exclusive)
    if mode == "wb":
        return os.fdopen(descriptor, "wb")
    return os.fdopen(descriptor, "w", encoding="utf-8")


def write_private(path: Path, data: str | bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` (text as UTF-8) to ``path``, mode 0600 whatever the umask, its missing
    parents 0700. An existing file is truncated and made 0600; with ``exclusive`` it is never
    touched (FileExistsError): keys are never overwritten."""
    encoded = data.encode("utf-8") if isinstance(data, str) else data
    with open_private(path, "wb", exclusive=exclusive) as handle:
        handle.write(encoded)


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty and 0600 (its missing parents 0700) if it does not exist; True if
    it was created here. For files a library fills itself (a new SQLite database)."""
    try:
        os.close(_open_descriptor(path, exclusive=True))
    except FileExistsError:
        return False
    return True


def loose_bits(path: Path) -> int:
    """The permission bits of ``path`` that give group or others access (0: private)."""
    return stat.S_IMODE(path.stat().st_mode) & 0o077
