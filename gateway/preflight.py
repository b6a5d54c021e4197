"""What an operator should know before the gateway starts: unsafe settings and missing room.

:func:`check` reads the settings and the files they name (it never opens the database) and
returns findings, each an ``error`` or a ``warning``. ``gateway check-config`` prints them;
``gateway serve`` prints them too and refuses to start on any error when ``production`` is set,
and, always, when the disk is nearly full where the gateway writes.

A file or directory of the installation that group or others may read or write (the SQLite
database and its ``-wal``/``-shm``/``-journal``, the web secret, the directories the gateway writes
into) is an error for ``check-config``, with the ``chmod`` that fixes it; ``gateway serve`` only
warns of it, even in production (:attr:`Finding.serve_warns`): an existing installation keeps
running while its operator tightens the modes. Private keys others can read stay a reason not to
start in production.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gateway.files import loose_bits
from gateway.settings import PROJECT_ROOT, Settings
from gateway.store.db import sqlite_file

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})


@dataclass(frozen=True)
class Finding:
    level: str  # error | warning
    setting: str
    message: str
    #: ``gateway serve`` starts anyway, with this as a warning (even in production): the loose
    #: mode of an existing file or directory; ``check-config`` still fails on it.
    serve_warns: bool = False

    def __str__(self) -> str:
        return f"{self.level}: {self.setting}: {self.message}"

    def at_start(self) -> Finding:
        """This finding as ``gateway serve`` reports it."""
        return dataclasses.replace(self, level="warning") if self.serve_warns else self


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def written_directories(settings: Settings) -> list[Path]:
    """Where the gateway writes: the SQLite file's directory, keys, pins, the web secret."""
    places = [settings.keys_dir, settings.key_pins_dir, settings.web_secret_file.parent]
    database = sqlite_file(settings.database_url)
    if database is not None:
        places.insert(0, database.parent)
    return places


def _existing(path: Path) -> Path:
    """The nearest directory of ``path`` that exists (statvfs needs one)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def disk_findings(settings: Settings) -> list[Finding]:
    """An error for each place the gateway writes with less than ``min_free_disk_mb`` free."""
    findings, seen = [], set()
    for place in written_directories(settings):
        directory = _existing(place)
        device = directory.stat().st_dev
        if device in seen:  # one finding a disk, however many places share it
            continue
        seen.add(device)
        free_mb = shutil.disk_usage(directory).free // (1024 * 1024)
        if free_mb < settings.min_free_disk_mb:
            findings.append(
                Finding(
                    "error",
                    "min_free_disk_mb",
                    f"only {free_mb} MB free on the disk of {place} "
                    f"(at least {settings.min_free_disk_mb} MB needed); free some space",
                )
            )
    return findings


def _private_key_files(settings: Settings) -> Iterator[Path]:
    yield from sorted(settings.keys_dir.glob("*.private.jwk"))
    yield from sorted(settings.keys_dir.glob("*.private.pem"))
    yield from sorted(settings.keys_dir.glob("authority-*.key.pem"))


def key_findings(settings: Settings) -> list[Finding]:
    """Private key files others can read; in production, development keys."""
    findings = []
    for path in _private_key_files(settings):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            findings.append(
                Finding(
                    "error",
                    "keys_dir",
                    f"{path} is mode {mode:o}; private keys must be 0600: chmod 600 {path}",
                )
            )
    if not settings.production:
        return findings
    development_dir = (PROJECT_ROOT / "var").resolve()
    if settings.keys_dir.resolve().is_relative_to(development_dir):
        findings.append(
            Finding(
                "error",
                "keys_dir",
                f"{settings.keys_dir} holds the development keys `make run` generates; "
                "production keys belong outside the checkout",
            )
        )
    if (settings.keys_dir / f"{settings.gateway_id}.private.jwk").exists():
        findings.append(
            Finding(
                "error",
                "key_passphrase_file",
                "the signing key is not protected by a passphrase "
                "(`gateway keys init --encrypt` with key_passphrase_file)",
            )
        )
    for path in sorted(settings.keys_dir.glob("authority-*.key.pem")):
        findings.append(
            Finding(
                "error",
                "keys_dir",
                f"{path.name} is a development issuing authority (`gateway origin authority "
                "init`); a production gateway pins real authorities' certificates",
            )
        )
    return findings


def _who(bits: int) -> str:
    """``0o044`` → "readable by group and others"."""
    access = [
        verb
        for verb, mask in (("readable", 0o044), ("writable", 0o022), ("searchable", 0o011))
        if bits & mask
    ]
    whom = [who for who, mask in (("group", 0o070), ("others", 0o007)) if bits & mask]
    return f"{' and '.join(access)} by {' and '.join(whom)}"


def _mode_finding(setting: str, path: Path, private_mode: int) -> Finding | None:
    """An error if ``path`` exists and gives group or others any access."""
    try:
        bits = loose_bits(path)
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    if not bits:
        return None
    return Finding(
        "error",
        setting,
        f"{path} is mode {mode:o} ({_who(bits)}); only the gateway's user may have access: "
        f"chmod {private_mode:o} {path}",
        serve_warns=True,
    )


def _database_files(settings: Settings) -> Iterator[Path]:
    database = sqlite_file(settings.database_url)
    if database is None:
        return
    yield database
    for suffix in ("-wal", "-shm", "-journal"):
        yield database.with_name(database.name + suffix)


def file_mode_findings(settings: Settings) -> list[Finding]:
    """The SQLite files and the web secret, and the directories the gateway writes into, where
    group or others have access (private keys: :func:`key_findings`)."""
    files = [
        *(("database_url", path) for path in _database_files(settings)),
        ("web_secret_file", settings.web_secret_file),
    ]
    directories = {}  # one finding a directory, under the first setting that names it
    database = sqlite_file(settings.database_url)
    if database is not None:
        directories[database.parent.resolve()] = ("database_url", database.parent)
    for setting, directory in (
        ("keys_dir", settings.keys_dir),
        ("key_pins_dir", settings.key_pins_dir),
        ("web_secret_file", settings.web_secret_file.parent),
    ):
        directories.setdefault(directory.resolve(), (setting, directory))
    found = [_mode_finding(setting, path, 0o600) for setting, path in files]
    found += [_mode_finding(setting, path, 0o700) for setting, path in directories.values()]
    return [finding for finding in found if finding is not None]


def transport_findings(settings: Settings) -> list[Finding]:
    tls = bool(settings.tls_cert_file and settings.tls_key_file)
    findings = []
    if bool(settings.tls_cert_file) != bool(settings.tls_key_file):
        findings.append(
            Finding("error", "tls_cert_file", "tls_cert_file and tls_key_file go together")
        )
    if not tls and not is_loopback(settings.host):
        findings.append(
            Finding(
                "error",
                "host",
                f"plaintext HTTP on {settings.host}: bind to loopback behind a TLS proxy, "
                "or set tls_cert_file and tls_key_file",
            )
        )
    if (
        settings.production
        and settings.public_url
        and not settings.public_url.startswith("https://")
    ):
        findings.append(
            Finding("error", "public_url", f"{settings.public_url} is not an https:// URL")
        )
    return findings


def operation_findings(settings: Settings) -> list[Finding]:
    level = "error" if settings.production else "warning"
    findings = []
    if settings.log_level.upper() == "DEBUG":
        findings.append(
            Finding(level, "log_level", "debug logging is on; it is verbose and slows the gateway")
        )
    if settings.rate_limit_per_minute <= 0:
        findings.append(Finding("warning", "rate_limit_per_minute", "partners are not limited"))
    for name, seconds, meaning in (
        (
            "header_timeout_seconds",
            settings.header_timeout_seconds,
            "for a request's head would close every connection",
        ),
        (
            "refusal_summary_seconds",
            settings.refusal_summary_seconds,
            "between writes of the refusal counts",
        ),
    ):
        if seconds < 1:
            findings.append(Finding("error", name, f"{seconds} s {meaning}: it must be at least 1"))
    if settings.delivery_timeout_seconds >= settings.delivery_lease_seconds:
        findings.append(
            Finding(
                "error",
                "delivery_timeout_seconds",
                f"an attempt may take {settings.delivery_timeout_seconds} s, longer than a "
                f"worker's lease ({settings.delivery_lease_seconds} s): another worker would "
                "deliver the message again",
            )
        )
    if settings.production:
        if settings.is_sqlite:
            findings.append(
                Finding("warning", "database_url", "SQLite has one writer; use PostgreSQL")
            )
        if settings.validate_responses:
            findings.append(
                Finding("warning", "validate_responses", "validating every response costs time")
            )
        if settings.swagger_ui:
            findings.append(Finding("warning", "swagger_ui", "the Swagger UI is served"))
    return findings


def check(settings: Settings) -> list[Finding]:
    """Every finding about ``settings``, errors first."""
    findings = [
        *disk_findings(settings),
        *key_findings(settings),
        *file_mode_findings(settings),
        *transport_findings(settings),
        *operation_findings(settings),
    ]
    return sorted(findings, key=lambda f: f.level != "error")
