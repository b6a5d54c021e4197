"""``gateway audit export`` and ``gateway audit verify`` as an auditor runs them."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gateway.cli import main


def run(settings, *args):
    env = {
        "GATEWAY_DATABASE_URL": settings.database_url,
        "GATEWAY_KEYS_DIR": str(settings.keys_dir),
        "GATEWAY_KEY_PINS_DIR": str(settings.key_pins_dir),
        "GATEWAY_REGISTRY_DIR": str(settings.registry_dir),
    }
    return CliRunner().invoke(main, list(args), env=env)


def test_export_then_verify_offline_with_pinned_keys_and_an_earlier_head(
    settings, services, partner, sample_json, tmp_path
):
    kr = partner("KR")
    kr.send(
        "/v1/seizure-reports",
        sample_json,
        content_type="application/json",
        message_type="seizure-report",
    )
    checkpoint = run(settings, "audit", "checkpoint")
    assert checkpoint.exit_code == 0, checkpoint.output
    (tmp_path / "head.jws").write_text(checkpoint.output.splitlines()[-1])
    kr.send(
        "/v1/seizure-reports",
        sample_json,
        content_type="application/json",
        message_type="seizure-report",
    )
    (tmp_path / "jp.jwks").write_text(json.dumps(services.keyring.jwks()))

    exported = run(
        settings,
        "audit",
        "export",
        "--from",
        "2000-01-01",
        "--to",
        "2100-01-01",
        "--out",
        str(tmp_path / "export.json"),
    )
    assert exported.exit_code == 0, exported.output
    verified = run(
        settings,
        "audit",
        "verify",
        str(tmp_path / "export.json"),
        "--jwks",
        str(tmp_path / "jp.jwks"),
        "--previous-head",
        str(tmp_path / "head.jws"),
    )
    assert verified.exit_code == 0, verified.output
    assert "VERIFIED" in verified.output and "warning" not in verified.output

    data = json.loads((tmp_path / "export.json").read_text())
    data["events"][1]["actor"] = "someone-else"
    (tmp_path / "tampered.json").write_text(json.dumps(data))
    failed = run(
        settings,
        "audit",
        "verify",
        str(tmp_path / "tampered.json"),
        "--jwks",
        str(tmp_path / "jp.jwks"),
    )
    assert failed.exit_code == 1 and "FAILED at index 1" in failed.output


def test_verify_of_a_file_that_is_not_json_says_so_in_one_line(settings, tmp_path):
    (tmp_path / "export.json").write_bytes(b"\xff\xfe not json")
    (tmp_path / "list.json").write_text("[1, 2]")
    broken = run(settings, "audit", "verify", str(tmp_path / "export.json"))
    assert broken.exit_code == 1
    assert "is not a JSON file" in broken.output and "Traceback" not in broken.output
    listed = run(settings, "audit", "verify", str(tmp_path / "list.json"))
    assert listed.exit_code == 1, listed.output
    assert "not an export of format customs-gateway-audit-export/1" in listed.output
