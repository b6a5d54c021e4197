"""Bad policy files: a clear error with file and line, and no start."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.errors import ConfigurationError
from gateway.policy.loader import load_policies
from gateway.registry import Registry
from gateway.settings import PROJECT_ROOT

REGISTRY = Registry.load(PROJECT_ROOT / "partners")


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_shipped_policies_are_valid_and_digest_is_stable():
    first = load_policies(PROJECT_ROOT / "policies", REGISTRY)
    assert first.digest == load_policies(PROJECT_ROOT / "policies", REGISTRY).digest


def test_unknown_field_is_reported_with_its_line(policy_dir):
    edit(
        policy_dir / "frameworks.yaml",
        "    retention_days: 3650\n    answer_deadline_days: 60\n  AA:",
        "    retention_days: 3650\n    answer_deadline_days: 60\n    retension_days: 1\n  AA:",
    )
    with pytest.raises(ConfigurationError, match=r"frameworks\.yaml:\d+: .*retension_days"):
        load_policies(policy_dir, REGISTRY)


def test_malformed_yaml_is_reported_with_its_line(policy_dir):
    (policy_dir / "hub.yaml").write_text("version: 1\nkind: hub\naccepts: [seizure-report\n")
    with pytest.raises(ConfigurationError, match=r"hub\.yaml:\d+"):
        load_policies(policy_dir, REGISTRY)


def test_contradiction_personal_data_purpose_not_a_purpose(policy_dir):
    edit(
        policy_dir / "partners" / "TW.yaml",
        "    personal_data_purposes: []",
        "    personal_data_purposes: [evidence]",
    )
    with pytest.raises(
        ConfigurationError,
        match=r"TW\.yaml: frameworks/OTHER: personal_data_purposes \['evidence'\]",
    ):
        load_policies(policy_dir, REGISTRY)


def test_override_for_a_framework_the_partner_does_not_hold(policy_dir):
    edit(policy_dir / "partners" / "TW.yaml", "  OTHER:", "  CMAA:")
    with pytest.raises(ConfigurationError, match="TW holds no CMAA framework"):
        load_policies(policy_dir, REGISTRY)


def test_unknown_message_type_is_refused(policy_dir):
    edit(
        policy_dir / "frameworks.yaml",
        "      seizure-report: [in, out]\n      assistance-request: [in, out]\n      assistance-answer: [in, out]\n    purposes: [intelligence, evidence, revenue]",
        "      seizure-report: [in, out]\n      gossip: [in, out]\n      assistance-answer: [in, out]\n    purposes: [intelligence, evidence, revenue]",
    )
    with pytest.raises(ConfigurationError, match=r"frameworks\.yaml:\d+"):
        load_policies(policy_dir, REGISTRY)


def test_policy_check_command_reports_the_location(policy_dir):
    edit(policy_dir / "hub.yaml", "retention_days: 3650", "retention_days: forever")
    result = CliRunner().invoke(
        main, ["policy", "check"], env={"GATEWAY_POLICY_DIR": str(policy_dir)}
    )
    assert result.exit_code != 0
    assert "hub.yaml:" in result.output and "retention_days" in result.output


def test_gateway_does_not_start_with_an_invalid_policy(policy_dir, tmp_path):
    from gateway.app import build_services
    from gateway.settings import load_settings

    (policy_dir / "partners" / "TW.yaml").write_text(
        "version: 1\nkind: partner\npartner: TW\nfrmeworks: {}\n"
    )
    settings = load_settings(
        environ={}, policy_dir=policy_dir, database_url=f"sqlite:///{tmp_path}/x.db"
    )
    with pytest.raises(ConfigurationError, match=r"TW\.yaml"):
        build_services(settings)
