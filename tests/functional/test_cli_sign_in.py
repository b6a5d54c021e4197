"""The CLI acts as a signed-in account (issue 20, item 2): `gateway login`, then every
officer-facing command is that person, and gateway.duties decides what they may do. Run as real
`gateway` processes against a database of their own."""

from __future__ import annotations

import json
import os
import stat

import pytest

from gateway.settings import PROJECT_ROOT
from tests.processes import TEST_PASSWORD, gateway_environment, run, run_input, sign_in

pytestmark = pytest.mark.functional
SAMPLE = PROJECT_ROOT / "specs" / "samples" / "seizure-report.json"


@pytest.fixture
def env(tmp_path, database_url):
    environment = gateway_environment(tmp_path, database_url)
    assert run(environment, "migrate").returncode == 0
    return environment


def h2_report(tmp_path):
    """A report to KR whose H2 marking asks for a second officer."""
    document = json.loads(SAMPLE.read_text())
    document["reporting_administration"] = "JP"
    document["markings"] = {"originator": "JP", "handling_code": "H2", "tlp": "TLP:AMBER"}
    path = tmp_path / "h2.json"
    path.write_text(json.dumps(document))
    return path


def try_disclose(env, path, *extra: str):
    """``gateway disclose seizure-report PATH --to KR --purpose intelligence EXTRA``."""
    args = ("disclose", "seizure-report", str(path), "--to", "KR", "--purpose", "intelligence")
    return run(env, *args, *extra)


def disclose(env, path) -> str:
    result = try_disclose(env, path)
    assert result.returncode == 0, result.stderr
    assert "awaiting-review" in result.stdout
    return result.stdout.split()[0]


def test_typed_officer_names_are_no_longer_taken(env, tmp_path):
    """The old trick: --officer Officer1 to draft, --officer officer1 to approve."""
    result = try_disclose(env, h2_report(tmp_path), "--officer", "Officer1")
    assert result.returncode == 2 and "No such option '--officer'" in result.stderr
    approved = run(
        env, "outbox", "approve", "00000000-0000-4000-8000-000000000000", "--officer", "officer1"
    )
    assert approved.returncode == 2


def test_nobody_signed_in_acts_as_nobody(env, tmp_path):
    result = try_disclose(env, h2_report(tmp_path))
    assert result.returncode == 1
    assert "gateway login" in result.stderr


def test_drafter_signed_in_on_the_cli_cannot_approve_own_disclosure(env, tmp_path):
    sign_in(env, "officer1", "officer", "supervisor")
    message_id = disclose(env, h2_report(tmp_path))
    own = run(env, "outbox", "approve", message_id)
    assert own.returncode == 1 and "drafter" in own.stderr
    sign_in(env, "clerk", "officer")
    clerk = run(env, "outbox", "approve", message_id)
    assert clerk.returncode == 1 and "supervisor" in clerk.stderr
    sign_in(env, "chief", "supervisor")
    chief = run(env, "outbox", "approve", message_id)
    assert chief.returncode == 0, chief.stderr
    assert "queued" in chief.stdout


def test_a_wrong_password_signs_nobody_in(env):
    run_input(
        env,
        TEST_PASSWORD + "\n",
        "accounts",
        "add",
        "tanaka",
        "--role",
        "officer",
        "--password-stdin",
    )
    wrong = run_input(env, "not-the-password\n", "login", "tanaka", "--password-stdin")
    assert wrong.returncode == 1 and "do not match" in wrong.stderr
    assert not os.path.exists(env["GATEWAY_CLI_SESSION_FILE"])
    assert run(env, "whoami").returncode == 1


def test_the_cli_token_is_kept_readable_by_its_owner_only(env, tmp_path):
    os.umask(0o000)  # the most permissive a user could have
    try:
        sign_in(env, "tanaka", "officer")
    finally:
        os.umask(0o022)
    path = env["GATEWAY_CLI_SESSION_FILE"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert "tanaka" in run(env, "whoami").stdout


def test_logout_ends_the_cli_session_on_the_server_too(env, tmp_path):
    sign_in(env, "tanaka", "officer")
    with open(env["GATEWAY_CLI_SESSION_FILE"]) as kept:
        copied = kept.read()
    assert run(env, "logout").returncode == 0
    with open(env["GATEWAY_CLI_SESSION_FILE"], "w") as restored:  # a copy kept from before
        restored.write(copied)
    result = try_disclose(env, h2_report(tmp_path))
    assert result.returncode == 1 and "has ended" in result.stderr


def test_a_password_change_ends_the_cli_sign_in(env):
    sign_in(env, "tanaka", "officer")
    changed = run_input(
        env, "another-long-password\n", "accounts", "passwd", "tanaka", "--password-stdin"
    )
    assert changed.returncode == 0
    assert run(env, "whoami").returncode == 1


def test_admin_lists_and_ends_sessions(env):
    sign_in(env, "tanaka", "officer")
    listed = run(env, "accounts", "sessions")
    assert listed.returncode == 0 and "tanaka" in listed.stdout and " cli " in listed.stdout
    session_id = listed.stdout.split()[0]
    assert run(env, "accounts", "end-session", session_id).returncode == 0
    assert run(env, "whoami").returncode == 1
    assert "no sessions" in run(env, "accounts", "sessions").stdout
    ended = run(env, "accounts", "sessions", "--all").stdout
    assert "ended-by-admin" in ended


def test_an_analyst_signed_in_cannot_disclose(env, tmp_path):
    sign_in(env, "yamada", "analyst")
    result = try_disclose(env, h2_report(tmp_path))
    assert result.returncode == 1 and "officer or supervisor" in result.stderr


def test_explaining_a_stored_message_is_a_read_by_the_signed_in_account(env):
    unknown = "00000000-0000-4000-8000-000000000000"
    args = (
        "policy",
        "explain",
        "--message",
        unknown,
        "--partner",
        "US",
        "--purpose",
        "intelligence",
    )
    anonymous = run(env, *args)
    assert anonymous.returncode == 1 and "gateway login" in anonymous.stderr
    sign_in(env, "tanaka", "officer")
    signed = run(env, *args)
    assert signed.returncode == 1 and "gateway login" not in signed.stderr
    assert unknown in signed.stderr  # past the sign-in: the message is not there


def test_account_changes_are_logged_as_the_host_account_not_a_typed_name(env):
    added = run_input(
        env,
        TEST_PASSWORD + "\n",
        "accounts",
        "add",
        "tanaka",
        "--role",
        "officer",
        "--password-stdin",
        "--by",
        "somebody",
    )
    assert added.returncode == 2  # there is no --by to type
    added = run_input(
        env,
        TEST_PASSWORD + "\n",
        "accounts",
        "add",
        "tanaka",
        "--role",
        "officer",
        "--password-stdin",
    )
    assert added.returncode == 0


def test_guessing_passwords_on_the_cli_is_stopped_like_on_the_pages(env):
    run_input(
        env,
        TEST_PASSWORD + "\n",
        "accounts",
        "add",
        "hank",
        "--role",
        "officer",
        "--password-stdin",
    )
    for _ in range(5):
        guess = run_input(env, "wrong-guess-of-hank\n", "login", "hank", "--password-stdin")
        assert guess.returncode == 1 and "do not match" in guess.stderr
    right = run_input(env, TEST_PASSWORD + "\n", "login", "hank", "--password-stdin")
    assert right.returncode == 1 and "too many failed sign-ins" in right.stderr
    assert run(env, "whoami").returncode == 1


def test_answers_to_requests_go_through_their_case_not_the_cli(env, tmp_path):
    sign_in(env, "tanaka", "officer")
    answer = tmp_path / "answer.json"
    answer.write_text("{}")
    result = run(
        env, "disclose", "assistance-answer", str(answer), "--to", "KR", "--purpose", "intelligence"
    )
    assert result.returncode == 2 and "assistance-answer" in result.stderr
