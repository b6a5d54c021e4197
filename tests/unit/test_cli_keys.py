"""Key commands: pin, rotate and retire a partner's key from a JWK file."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from click.testing import CliRunner

from gateway.cli import main
from gateway.registry import Registry
from gateway.settings import PROJECT_ROOT
from gateway.trust.keys import generate_jwk, public_part


def invoke(tmp_path, *args):
    env = {
        "GATEWAY_KEY_PINS_DIR": str(tmp_path / "pins"),
        "GATEWAY_KEYS_DIR": str(tmp_path / "keys"),
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_rotation_pins_the_new_key_and_retires_the_old(tmp_path):
    old, new = generate_jwk(), generate_jwk("P-256")
    (tmp_path / "old.jwk").write_text(json.dumps(public_part(old)))
    (tmp_path / "new.jwk").write_text(json.dumps({"keys": [public_part(new)]}))

    assert invoke(tmp_path, "partners", "add-key", "KR", str(tmp_path / "old.jwk")).exit_code == 0
    assert invoke(tmp_path, "partners", "add-key", "KR", str(tmp_path / "new.jwk")).exit_code == 0
    retired = invoke(
        tmp_path,
        "partners",
        "add-key",
        "KR",
        str(tmp_path / "old.jwk"),
        "--not-after",
        "2026-01-31",
    )
    assert retired.exit_code == 0, retired.output

    keys = {
        k.kid: k for k in Registry.load(PROJECT_ROOT / "partners", tmp_path / "pins").keys_of("KR")
    }
    assert set(keys) == {old["kid"], new["kid"]}
    assert keys[old["kid"]].valid_at(datetime(2026, 1, 30, tzinfo=UTC))
    assert not keys[old["kid"]].valid_at(datetime(2026, 2, 1, tzinfo=UTC))
    assert keys[new["kid"]].not_after is None


def test_pinning_a_private_key_is_refused(tmp_path):
    (tmp_path / "private.jwk").write_text(json.dumps(generate_jwk()))
    result = CliRunner().invoke(
        main,
        ["partners", "add-key", "KR", str(tmp_path / "private.jwk")],
        env={"GATEWAY_KEY_PINS_DIR": str(tmp_path / "pins")},
    )
    assert result.exit_code != 0
    assert not (tmp_path / "pins" / "KR.jwks.json").exists()


def test_keys_for_an_unknown_partner_are_refused(tmp_path):
    (tmp_path / "k.jwk").write_text(json.dumps(public_part(generate_jwk())))
    result = CliRunner().invoke(
        main,
        ["partners", "add-key", "XX", str(tmp_path / "k.jwk")],
        env={"GATEWAY_KEY_PINS_DIR": str(tmp_path / "pins")},
    )
    assert result.exit_code != 0 and "XX" in result.output


def test_authority_init_writes_a_private_key_for_the_owner_only_and_keeps_it(tmp_path):
    first = invoke(tmp_path, "origin", "authority", "init", "--id", "ID")
    assert first.exit_code == 0, first.output
    key = tmp_path / "keys" / "authority-ID.key.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    content = key.read_bytes()
    again = invoke(tmp_path, "origin", "authority", "init", "--id", "ID")
    assert "kept" in again.output and key.read_bytes() == content
    registry = Registry.load(PROJECT_ROOT / "partners", tmp_path / "pins")
    (pinned,) = registry.authorities_of("ID")
    assert pinned.authority == "Ministry of Trade of the Republic of Indonesia"
    assert "PRIVATE" not in (tmp_path / "pins" / "ID.authorities.json").read_text()


def test_authority_pin_refuses_what_is_not_a_certificate(tmp_path):
    (tmp_path / "bad.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n")
    result = CliRunner().invoke(
        main,
        ["origin", "authority", "pin", "TH", str(tmp_path / "bad.pem"), "--name", "X"],
        env={"GATEWAY_KEY_PINS_DIR": str(tmp_path / "pins")},
    )
    assert result.exit_code != 0 and "not a PEM certificate" in result.output
    assert not (tmp_path / "pins" / "TH.authorities.json").exists()


def test_accounts_add_hashes_the_password_and_lists_roles(tmp_path):
    from gateway.store import migrate

    database = f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    migrate.upgrade(database)
    env = {"GATEWAY_DATABASE_URL": database, "GATEWAY_KEYS_DIR": str(tmp_path / "keys")}
    runner = CliRunner()
    assert runner.invoke(main, ["keys", "init"], env=env).exit_code == 0
    added = runner.invoke(
        main,
        [
            "accounts",
            "add",
            "kato",
            "--role",
            "officer",
            "--role",
            "supervisor",
            "--password-stdin",
        ],
        input="a-long-enough-passphrase\n",
        env=env,
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["accounts", "list"], env=env)
    assert "kato" in listed.output and "officer, supervisor" in listed.output
    short = runner.invoke(
        main, ["accounts", "passwd", "kato", "--password-stdin"], input="short\n", env=env
    )
    assert short.exit_code != 0 and "at least 12" in short.output
    assert runner.invoke(main, ["accounts", "disable", "kato"], env=env).exit_code == 0
    assert "(disabled)" in runner.invoke(main, ["accounts", "list"], env=env).output
