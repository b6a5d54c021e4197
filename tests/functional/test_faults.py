"""Faults (issue 9): the database goes away, the disk fills, the gateway cannot start safely.

Each fault gets a clear problem (503 ``store-unavailable`` with ``Retry-After``), loses nothing
(no message, jti or audit leaf half-written), and the gateway recovers without a restart. A worker
that dies is tested in test_delivery.py (its claims expire and another worker takes them over).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from gateway.app import build_services, create_app
from gateway.audit.export import export_log
from gateway.audit.verify import verify_export
from gateway.client.partner import check_receipt
from gateway.settings import replace
from gateway.store.db import normalise_url
from gateway.store.models import AuditEvent, Message
from tests.conftest import REQUIRE_ALL, partner_client, stored_counts
from tests.processes import GATEWAY, gateway_environment, run

PROBLEMS = "https://customs.go.jp/gateway/problems/"
ON_POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


def send(partner, body: bytes, message_id: str):
    return partner.send(
        "/v1/seizure-reports",
        body,
        content_type="application/json",
        message_type="seizure-report",
        message_id=message_id,
    )


def log_verifies(services) -> bool:
    """The whole log, exported and verified offline against this gateway's keys."""
    data = export_log(
        services.database,
        services.registry,
        services.keyring,
        gateway_id="JP",
        start=datetime(2000, 1, 1, tzinfo=UTC),
        end=datetime(2100, 1, 1, tzinfo=UTC),
        actor="auditor:test",
        now=datetime.now(UTC),
    )
    report = verify_export(json.loads(json.dumps(data)), trusted_keys=services.keyring.published)
    assert report.ok, report.summary()
    return report.ok


def assert_store_unavailable(answer) -> None:
    assert answer.status == 503, answer.body
    assert answer.signature is not None, answer.signature_error
    assert answer.json()["type"] == PROBLEMS + "store-unavailable"
    assert answer.retry_after == 5


def admin_engine(database_url: str):
    """An engine on the server's maintenance database (to act on the test database)."""
    url = make_url(normalise_url(database_url))
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.mark.parametrize("database_url", [ON_POSTGRES], indirect=True)
def test_connection_lost_mid_request_leaves_nothing_half_written(
    services, partner, sample_json, settings
):
    """The database server drops the connection after the jti and the audit leaf were written
    in the transaction, as the message itself goes in."""
    engine = create_engine(normalise_url(settings.database_url))
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE FUNCTION drop_my_connection() RETURNS trigger AS $$ BEGIN "
                "PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$ "
                "LANGUAGE plpgsql"
            )
        )
        connection.execute(
            text(
                "CREATE TRIGGER lose_connection BEFORE INSERT ON message "
                "FOR EACH ROW EXECUTE FUNCTION drop_my_connection()"
            )
        )
    korea = partner("KR")
    message_id = str(uuid.uuid4())
    before = stored_counts(services)
    try:
        answer = send(korea, sample_json, message_id)
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TRIGGER lose_connection ON message"))
            connection.execute(text("DROP FUNCTION drop_my_connection()"))
        engine.dispose()

    assert_store_unavailable(answer)
    # nothing of the message stayed: only the refusal was recorded (through a new connection)
    assert stored_counts(services) == {**before, "events": before["events"] + 1}
    with services.database.transaction() as session:
        refusal = session.execute(
            select(AuditEvent).order_by(AuditEvent.log_index.desc()).limit(1)
        ).scalar_one()
    assert refusal.tag == "partner:seizure-report:refused"
    assert refusal.detail["problem"] == "store-unavailable"
    # the same gateway, not restarted, takes the resend as a first delivery
    again = send(korea, sample_json, message_id)
    assert again.status == 202
    check_receipt(again, sample_json, message_id)


@pytest.mark.parametrize("database_url", [ON_POSTGRES], indirect=True)
def test_database_unreachable_answers_503_and_recovers_without_a_restart(
    services, partner, client, sample_json, settings
):
    name = make_url(settings.database_url).database
    admin = admin_engine(settings.database_url)
    korea = partner("KR")
    assert client.get("/readyz").status_code == 200
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
    message_id = str(uuid.uuid4())
    try:
        down = send(korea, sample_json, message_id)
        readiness = client.get("/readyz")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()

    assert_store_unavailable(down)
    assert readiness.status_code == 503
    assert client.get("/readyz").status_code == 200
    back = send(korea, sample_json, message_id)
    assert back.status == 202  # nothing of the first attempt was kept
    check_receipt(back, sample_json, message_id)
    with services.database.transaction() as session:
        stored = session.scalars(select(Message.message_id)).all()
    assert stored == [message_id]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB file system of its own (tmpfs; mounting needs root)."""
    if os.geteuid() != 0:
        if REQUIRE_ALL:
            pytest.fail("the disk-full test mounts a tmpfs and needs root, as in CI")
        pytest.skip("mounting a small file system needs root")
    mount = tmp_path / "small-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path) -> Path:
    """Fill the file system of ``directory`` to the last byte."""
    filler = directory / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(descriptor)
    return filler


def test_disk_full_refuses_with_503_and_loses_nothing(
    small_disk, settings, sqlite_template, signing_keys, sample_json
):
    database = small_disk / "gateway.sqlite3"
    shutil.copy(sqlite_template, database)
    full_settings = replace(settings, database_url=f"sqlite:///{database}")
    services = build_services(full_settings)
    with TestClient(create_app(full_settings, services)) as client:
        korea = partner_client(client, signing_keys)
        first = str(uuid.uuid4())
        assert send(korea, sample_json, first).status == 202
        before = stored_counts(services)
        filler = fill(small_disk)
        message_id = str(uuid.uuid4())

        answer = send(korea, sample_json, message_id)

        filler.unlink()
        assert_store_unavailable(answer)
        after = stored_counts(services)
        assert after["messages"] == before["messages"]
        assert after["assertions"] == before["assertions"]
        # the refusal itself could not be written either; the log is still whole
        assert after["events"] in {before["events"], before["events"] + 1}
        assert log_verifies(services)
        again = send(korea, sample_json, message_id)
        assert again.status == 202  # space again, no restart
        check_receipt(again, sample_json, message_id)
    services.database.dispose()


def test_serve_refuses_to_start_with_too_little_free_disk(tmp_path, database_url):
    environment = gateway_environment(tmp_path, database_url, GATEWAY_MIN_FREE_DISK_MB=str(10**9))
    result = run(environment, "serve")
    assert result.returncode != 0
    assert "not starting: only" in result.stderr and "MB free" in result.stderr


def test_serve_in_production_refuses_development_keys_and_plaintext_http(tmp_path, database_url):
    environment = gateway_environment(
        tmp_path, database_url, GATEWAY_PRODUCTION="true", GATEWAY_HOST="0.0.0.0"
    )
    result = run(environment, "serve")
    assert result.returncode != 0
    assert "not starting" in result.stderr
    assert "plaintext HTTP on 0.0.0.0" in result.stderr
    assert "not protected by a passphrase" in result.stderr


def findings_of(environment: dict[str, str]) -> tuple[int, list[str]]:
    result = run(environment, "check-config")
    return result.returncode, result.stdout.splitlines()


def test_check_config_reports_unsafe_settings(tmp_path, database_url):
    environment = gateway_environment(
        tmp_path,
        database_url,
        GATEWAY_LOG_LEVEL="DEBUG",
        GATEWAY_HOST="0.0.0.0",
        GATEWAY_RATE_LIMIT_PER_MINUTE="0",
    )
    (tmp_path / "keys" / "JP.private.jwk").chmod(0o644)
    code, lines = findings_of(environment)
    assert code == 1
    assert any(line.startswith("error: host: plaintext HTTP on 0.0.0.0") for line in lines)
    assert any(line.startswith("error: keys_dir:") and "mode 644" in line for line in lines)
    assert any(line.startswith("warning: log_level: debug logging") for line in lines)
    assert any(line.startswith("warning: rate_limit_per_minute") for line in lines)
    assert lines[-1] == "2 errors, 2 warnings (development settings)"


def test_check_config_refuses_a_delivery_attempt_longer_than_the_lease(tmp_path, database_url):
    environment = gateway_environment(
        tmp_path,
        database_url,
        GATEWAY_DELIVERY_TIMEOUT_SECONDS="60",
        GATEWAY_DELIVERY_LEASE_SECONDS="60",
    )
    code, lines = findings_of(environment)
    assert code == 1
    assert any(
        line.startswith("error: delivery_timeout_seconds: an attempt may take 60 s")
        and "another worker would deliver the message again" in line
        for line in lines
    ), lines


def test_check_config_refuses_refusal_counts_written_without_pause(tmp_path, database_url):
    environment = gateway_environment(tmp_path, database_url, GATEWAY_REFUSAL_SUMMARY_SECONDS="0")
    code, lines = findings_of(environment)
    assert code == 1
    assert (
        "error: refusal_summary_seconds: 0 s between writes of the refusal counts: "
        "it must be at least 1"
    ) in lines, lines


def test_check_config_refuses_a_header_timeout_that_would_close_every_connection(
    tmp_path, database_url
):
    environment = gateway_environment(tmp_path, database_url, GATEWAY_HEADER_TIMEOUT_SECONDS="0")
    code, lines = findings_of(environment)
    assert code == 1
    assert any(line.startswith("error: header_timeout_seconds: 0 s") for line in lines), lines


def test_check_config_passes_a_production_setup(tmp_path, database_url):
    """Encrypted key outside the checkout, loopback behind a TLS proxy, https public URL."""
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("generated-test-passphrase\n")
    passphrase.chmod(0o600)
    environment = gateway_environment(
        tmp_path,
        database_url,
        GATEWAY_PRODUCTION="true",
        GATEWAY_KEY_PASSPHRASE_FILE=str(passphrase),
        GATEWAY_PUBLIC_URL="https://gateway.example.test",
        GATEWAY_SWAGGER_UI="false",
    )
    (tmp_path / "keys" / "JP.private.jwk").unlink()
    assert run(environment, "keys", "init", "--encrypt").returncode == 0
    assert (tmp_path / "keys" / "JP.private.pem").stat().st_mode & 0o777 == 0o600
    code, lines = findings_of(environment)
    expected_warnings = 1 if database_url.startswith("sqlite") else 0  # one writer
    assert lines[-1] == f"0 errors, {expected_warnings} warnings (production settings)", lines
    assert code == 0
    jwks = json.loads(run(environment, "keys", "jwks").stdout)
    assert len(jwks["keys"]) == 1 and "d" not in jwks["keys"][0]


def test_encrypted_key_without_its_passphrase_stops_the_gateway(tmp_path, database_url):
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("generated-test-passphrase\n")
    environment = gateway_environment(
        tmp_path, database_url, GATEWAY_KEY_PASSPHRASE_FILE=str(passphrase)
    )
    (tmp_path / "keys" / "JP.private.jwk").unlink()
    assert run(environment, "keys", "init", "--encrypt").returncode == 0
    passphrase.write_text("another-passphrase\n")
    wrong = run(environment, "serve")
    assert wrong.returncode != 0 and "wrong passphrase" in wrong.stderr
    del environment["GATEWAY_KEY_PASSPHRASE_FILE"]
    missing = run(environment, "serve")
    assert missing.returncode != 0 and "protected by a passphrase" in missing.stderr


def test_private_key_never_reaches_the_log(tmp_path, database_url, sample_json):
    """Served at DEBUG level through a whole exchange, the log holds no private key material."""
    from gateway.trust.keys import read_jwk_file
    from tests.processes import serving

    environment = gateway_environment(tmp_path, database_url, GATEWAY_LOG_LEVEL="DEBUG")
    secrets = {
        read_jwk_file(tmp_path / "keys" / f"{admin}.private.jwk")["d"] for admin in ("JP", "KR")
    }
    report = tmp_path / "report.json"
    report.write_bytes(sample_json)
    log = tmp_path / "serve.log"
    with serving(environment, log) as base:
        sent = run(environment, "send", "seizure-report", str(report), "--as", "KR", "--to", base)
        assert sent.returncode == 0, sent.stderr
    text_of_log = log.read_text() + sent.stdout + sent.stderr
    assert "DEBUG" in text_of_log  # the log level was in force
    for secret in secrets:
        assert secret not in text_of_log
    assert "PRIVATE KEY" not in text_of_log


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (generated, test only)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gateway test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now.replace(year=now.year + 1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "tls.cert.pem", directory / "tls.key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def test_serve_over_tls_when_given_a_certificate(tmp_path, database_url):
    import ssl
    import time

    import httpx

    cert_path, key_path = self_signed_certificate(tmp_path)
    environment = gateway_environment(
        tmp_path,
        database_url,
        GATEWAY_TLS_CERT_FILE=str(cert_path),
        GATEWAY_TLS_KEY_FILE=str(key_path),
    )
    base = f"https://127.0.0.1:{environment['GATEWAY_PORT']}"
    trust = ssl.create_default_context(cafile=str(cert_path))
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [*GATEWAY, "serve"], env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        for _ in range(150):
            try:
                answer = httpx.get(f"{base}/readyz", verify=trust, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail((tmp_path / "serve.log").read_text())
        assert answer.status_code == 200
        with pytest.raises(httpx.HTTPError):  # no plaintext beside it
            httpx.get(base.replace("https", "http") + "/readyz", timeout=2)
    finally:
        server.terminate()
        server.wait(timeout=10)
