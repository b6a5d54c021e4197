"""Files only their owner can read (issue 20, item 6): whatever the umask, the gateway creates its
database (and SQLite's -wal/-shm), keys, pins, web secret, exports and the directories under
``var/`` 0600 and 0700; ``check-config`` fails on an existing one others may read, and ``serve``
warns of it and starts. Every command is the real CLI in its own process, under the umask given.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port, gateway_environment, run, serving

pytestmark = pytest.mark.functional

UMASKS = pytest.mark.parametrize("umask", [0o022, 0o000], ids=["umask-022", "umask-000"])


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def installation(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a gateway laid out as the default one under ``var/``, nothing of it
    created yet (``tmp_path/var`` does not exist)."""
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        GATEWAY_DATABASE_URL=f"sqlite:///{var / 'gateway.sqlite3'}",
        GATEWAY_KEYS_DIR=str(var / "keys"),
        GATEWAY_KEY_PINS_DIR=str(var / "pins"),
        GATEWAY_WEB_SECRET_FILE=str(var / "web-secret"),
        GATEWAY_PORT=str(free_port()),
        GATEWAY_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def assert_private_tree(root: Path) -> None:
    """``root`` and every directory in it 0700, every file 0600."""
    assert mode(root) == 0o700, root
    for path in root.rglob("*"):
        expected = 0o700 if path.is_dir() else 0o600
        assert mode(path) == expected, f"{path} is {mode(path):o}"


def started(env: dict[str, str], umask: int) -> subprocess.CompletedProcess[str]:
    """``gateway migrate`` and ``keys init`` (JP and KR) under ``umask``."""
    for args in (("migrate",), ("keys", "init"), ("keys", "init", "--id", "KR")):
        result = run(env, *args, umask=umask)
        assert result.returncode == 0, result.stderr
    return result


@UMASKS
def test_database_file_created_0600_under_permissive_umask(tmp_path, umask):
    env = installation(tmp_path)
    database = tmp_path / "var" / "gateway.sqlite3"
    started(env, umask)
    assert mode(database) == 0o600
    with serving(env, tmp_path / "serve.log", umask=umask) as base:
        assert httpx.get(f"{base}/readyz").status_code == 200
        # the open connections' write-ahead log and shared memory, as SQLite made them
        wal, shm = (database.with_name(database.name + suffix) for suffix in ("-wal", "-shm"))
        assert wal.exists() and shm.exists()
        assert (mode(wal), mode(shm)) == (0o600, 0o600)
        assert_private_tree(tmp_path / "var")


@UMASKS
def test_database_directories_created_0700_under_permissive_umask(tmp_path, umask):
    """Every missing directory above the database, not only the last one."""
    database = tmp_path / "var" / "state" / "db" / "gateway.sqlite3"
    env = installation(tmp_path, GATEWAY_DATABASE_URL=f"sqlite:///{database}")
    assert run(env, "migrate", umask=umask).returncode == 0
    for directory in (tmp_path / "var", tmp_path / "var" / "state", database.parent):
        assert mode(directory) == 0o700, directory
    assert mode(database) == 0o600


@UMASKS
def test_keys_and_pins_created_private_under_permissive_umask(tmp_path, umask):
    env = installation(tmp_path)
    assert run(env, "keys", "init", umask=umask).returncode == 0
    assert run(env, "keys", "init", "--id", "KR", umask=umask).returncode == 0
    var = tmp_path / "var"
    assert mode(var / "keys" / "JP.private.jwk") == 0o600
    assert mode(var / "pins" / "KR.jwks.json") == 0o600
    assert_private_tree(var)


@UMASKS
def test_origin_authority_created_private_under_permissive_umask(tmp_path, umask):
    env = installation(tmp_path)
    result = run(env, "origin", "authority", "init", umask=umask)
    assert result.returncode == 0, result.stderr
    var = tmp_path / "var"
    assert mode(var / "keys" / "authority-JP.key.pem") == 0o600
    assert mode(var / "keys" / "authority-JP.cert.pem") == 0o600
    assert_private_tree(var)


@UMASKS
def test_web_secret_created_0600_under_permissive_umask(tmp_path, umask):
    secret = tmp_path / "var" / "secrets" / "web-secret"
    env = installation(tmp_path, GATEWAY_WEB_SECRET_FILE=str(secret))
    started(env, umask)
    with serving(env, tmp_path / "serve.log", umask=umask):
        assert mode(secret) == 0o600
        assert mode(secret.parent) == 0o700


@UMASKS
def test_audit_export_written_0600_under_permissive_umask(tmp_path, database_url, umask):
    env = gateway_environment(tmp_path, database_url)
    older = tmp_path / "older.json"
    older.write_text("{}")
    older.chmod(0o644)
    for out in (tmp_path / "exports" / "log.json", older):
        exported = run(
            env,
            "audit",
            "export",
            "--from",
            "2000-01-01",
            "--to",
            "2100-01-01",
            "--out",
            str(out),
            umask=umask,
        )
        assert exported.returncode == 0, exported.stderr
        assert mode(out) == 0o600, out
        assert "events" in json.loads(out.read_text())
    assert mode(tmp_path / "exports") == 0o700


@UMASKS
def test_demo_installations_created_private_under_permissive_umask(tmp_path, umask):
    """What ``gateway demo`` prepares under var/demo: two installations, nothing others read."""
    root = tmp_path / "var" / "demo"
    prepared = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from gateway.demo import prepare; "
            "prepare(Path(sys.argv[1]), 'KR', 8080, 8081)",
            str(root),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        umask=umask,
    )
    assert prepared.returncode == 0, prepared.stderr
    assert mode(tmp_path / "var") == 0o700
    for directory in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        assert mode(directory) == 0o700, directory
    for created in ("JP/gateway.sqlite3", "JP/keys/JP.private.jwk", "KR/pins/JP.jwks.json"):
        assert mode(root / created) == 0o600, created
    assert mode(root / "KR" / "partners" / "JP.yaml") == 0o600


# --- an existing installation whose modes are loose ---------------------------------------


@pytest.fixture
def sqlite_env(tmp_path: Path, sqlite_template: Path) -> dict[str, str]:
    database = tmp_path / "gateway.sqlite3"
    shutil.copy(sqlite_template, database)
    return gateway_environment(tmp_path, f"sqlite:///{database}")


def check_config(env: dict[str, str]) -> tuple[int, list[str]]:
    result = run(env, "check-config")
    return result.returncode, result.stdout.splitlines()


def test_check_config_reports_world_readable_database(tmp_path, sqlite_env):
    database = tmp_path / "gateway.sqlite3"
    database.chmod(0o644)
    code, lines = check_config(sqlite_env)
    assert code == 1
    assert (
        f"error: database_url: {database} is mode 644 (readable by group and others); only the "
        f"gateway's user may have access: chmod 600 {database}"
    ) in lines, lines
    assert lines[-1].startswith("1 errors"), lines


def test_check_config_reports_group_readable_wal_file(tmp_path, sqlite_env):
    wal = tmp_path / "gateway.sqlite3-wal"
    wal.touch()
    wal.chmod(0o640)
    code, lines = check_config(sqlite_env)
    assert code == 1
    assert any(
        line.startswith(f"error: database_url: {wal} is mode 640 (readable by group)")
        and line.endswith(f"chmod 600 {wal}")
        for line in lines
    ), lines


def test_check_config_reports_readable_keys_directory(tmp_path, sqlite_env):
    keys = tmp_path / "keys"
    keys.chmod(0o755)
    code, lines = check_config(sqlite_env)
    assert code == 1
    assert any(
        line.startswith(f"error: keys_dir: {keys} is mode 755 (readable and searchable by group")
        and line.endswith(f"chmod 700 {keys}")
        for line in lines
    ), lines


def test_check_config_reports_others_writable_pins_directory(tmp_path, sqlite_env):
    pins = tmp_path / "pins"
    pins.chmod(0o703)
    code, lines = check_config(sqlite_env)
    assert code == 1
    assert any(
        line.startswith(f"error: key_pins_dir: {pins} is mode 703 (writable and searchable by ")
        for line in lines
    ), lines


def test_check_config_reports_readable_web_secret(tmp_path, sqlite_env):
    secret = tmp_path / "web-secret"
    secret.write_bytes(os.urandom(32))
    secret.chmod(0o604)
    code, lines = check_config(sqlite_env)
    assert code == 1
    assert any(
        line.startswith(f"error: web_secret_file: {secret} is mode 604 (readable by others)")
        for line in lines
    ), lines


def test_check_config_passes_a_private_installation(sqlite_env):
    code, lines = check_config(sqlite_env)
    assert (code, lines[-1]) == (0, "0 errors, 0 warnings (development settings)"), lines


def test_serve_in_production_warns_of_a_world_readable_database_and_starts(tmp_path, sqlite_env):
    """An existing installation keeps running (the operator fixes the mode); the warning names
    the file and the fix. check-config still fails on it."""
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("generated-test-passphrase\n")
    passphrase.chmod(0o600)
    env = {
        **sqlite_env,
        "GATEWAY_PRODUCTION": "true",
        "GATEWAY_KEY_PASSPHRASE_FILE": str(passphrase),
        "GATEWAY_PUBLIC_URL": "https://gateway.example.test",
        "GATEWAY_SWAGGER_UI": "false",
    }
    (tmp_path / "keys" / "JP.private.jwk").unlink()
    assert run(env, "keys", "init", "--encrypt").returncode == 0
    database = tmp_path / "gateway.sqlite3"
    database.chmod(0o644)
    log = tmp_path / "serve.log"
    with serving(env, log) as base:
        assert httpx.get(f"{base}/readyz").status_code == 200
    assert (
        f"warning: database_url: {database} is mode 644 (readable by group and others); only "
        f"the gateway's user may have access: chmod 600 {database}"
    ) in log.read_text().splitlines()
    assert check_config(env)[0] == 1
