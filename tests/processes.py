"""Real gateway processes on loopback for functional and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

GATEWAY = [sys.executable, "-m", "gateway"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(
    env: dict[str, str], *args: str, timeout: float = 60, umask: int = -1
) -> subprocess.CompletedProcess[str]:
    """``gateway ARGS`` to its end (under ``umask``, if one is given); ``timeout`` guards
    against a hang (it measures nothing)."""
    return subprocess.run(
        [*GATEWAY, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        umask=umask,
    )


def run_input(env: dict[str, str], text: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``gateway ARGS`` with ``text`` on its standard input."""
    return subprocess.run(
        [*GATEWAY, *args],
        env=env,
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


TEST_PASSWORD = "correct-horse-battery-staple"


def sign_in(env: dict[str, str], username: str, *roles: str) -> None:
    """``gateway login USERNAME`` for the CLI of ``env`` (the account, with ``roles``, created
    first if the installation has none of that name)."""
    role_options = [option for role in roles for option in ("--role", role)]
    run_input(
        env, TEST_PASSWORD + "\n", "accounts", "add", username, *role_options, "--password-stdin"
    )
    signed = run_input(env, TEST_PASSWORD + "\n", "login", username, "--password-stdin")
    assert signed.returncode == 0, signed.stderr


def gateway_environment(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    """Environment of a gateway with its own database, keys (JP, and KR pinned), port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        GATEWAY_DATABASE_URL=database_url,
        GATEWAY_KEYS_DIR=str(tmp_path / "keys"),
        GATEWAY_KEY_PINS_DIR=str(tmp_path / "pins"),
        GATEWAY_WEB_SECRET_FILE=str(tmp_path / "web-secret"),
        GATEWAY_CLI_SESSION_FILE=str(tmp_path / "cli-session.json"),
        GATEWAY_PORT=str(free_port()),
        GATEWAY_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    for args in (("keys", "init"), ("keys", "init", "--id", "KR")):
        assert run(env, *args).returncode == 0
    return env


@contextmanager
def serving(env: dict[str, str], log: Path, *, umask: int = -1) -> Iterator[str]:
    """``gateway serve`` (under ``umask``, if one is given) until the block ends; yields its base
    URL once it is ready."""
    base = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
    with log.open("w") as output:
        process = subprocess.Popen(
            [*GATEWAY, "serve"], env=env, stdout=output, stderr=subprocess.STDOUT, umask=umask
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            process.kill()
            process.wait(timeout=10)
            pytest.fail(f"the gateway did not become ready:\n{log.read_text()}")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
