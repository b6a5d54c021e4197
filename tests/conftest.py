"""Shared fixtures: keys, registries, databases built by the migrations, apps and partner clients.

Storage-touching tests run once on SQLite and once on PostgreSQL (``GATEWAY_TEST_POSTGRES_URL``).
Without that variable the PostgreSQL half is skipped locally; with ``GATEWAY_TEST_REQUIRE_ALL=1``
(set by .ci/run) its absence is a failure, and .ci/run also fails on any skipped test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from gateway.app import Services, build_services, create_app
from gateway.client.partner import PartnerClient
from gateway.origin.synthetic import authority_name
from gateway.registry import add_authority_certificate, add_pinned_key
from gateway.settings import PROJECT_ROOT, Settings, load_settings
from gateway.store import migrate
from gateway.store.db import normalise_url
from gateway.trust.keys import PinnedKey, SigningKey, generate_jwk, public_part, write_private_jwk
from gateway.trust.xmldsig import AuthorityCertificate, generate_authority
from tests import standalone

# Nothing the suite runs may read a path beside the repository (tests/standalone.py).
standalone.install(PROJECT_ROOT)

ASSETS = Path(__file__).parent / "assets"
SAMPLES = PROJECT_ROOT / "specs" / "samples"
POSTGRES_URL = os.environ.get("GATEWAY_TEST_POSTGRES_URL")
REQUIRE_ALL = os.environ.get("GATEWAY_TEST_REQUIRE_ALL") == "1"
#: Partners with generated keys in every test: KR and US have frameworks in force, QZ does not;
#: NO carries the FY2012 provisions (personal data and free text may go to it).
PARTNER_IDS = ("KR", "US", "QZ", "ID", "TH", "NO")
#: The operator API token of the test gateway (only its digest is configured).
OPERATOR_TOKEN = "test-operator-token-not-secret"
#: An auditor's token (role auditor).
AUDITOR_TOKEN = "test-auditor-token-not-secret"
#: A second integrating system's token (an officer's session is bound to the system it was opened
#: through).
OTHER_SYSTEM_TOKEN = "test-other-system-token-not-secret"


# --- keys and registry ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def private_jwks() -> dict[str, dict[str, Any]]:
    """One generated Ed25519 key per administration, for the whole session."""
    return {admin: generate_jwk("Ed25519") for admin in ("JP", *PARTNER_IDS)}


@pytest.fixture(scope="session")
def signing_keys(private_jwks: dict[str, dict[str, Any]]) -> dict[str, SigningKey]:
    return {admin: SigningKey.from_jwk(jwk) for admin, jwk in private_jwks.items()}


@pytest.fixture(scope="session")
def authorities() -> dict[str, tuple[bytes, AuthorityCertificate]]:
    """A development issuing authority (private key PEM, certificate) per EPA administration."""
    return {admin: generate_authority(authority_name(admin), admin) for admin in ("JP", "ID", "TH")}


@pytest.fixture(scope="session")
def registry_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed registry plus the test-only partner QZ."""
    directory = tmp_path_factory.mktemp("registry")
    for path in (PROJECT_ROOT / "partners").iterdir():
        shutil.copy(path, directory / path.name)
    shutil.copy(ASSETS / "registry" / "QZ.yaml", directory / "QZ.yaml")
    # US takes its messages by pull (GET /v1/inbox) in the tests
    us = directory / "US.yaml"
    us.write_text(us.read_text() + "delivery:\n  mode: pull\n")
    return directory


# --- databases --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file built once by the migrations; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this session, built by the migrations, dropped after."""
    if not POSTGRES_URL:
        if REQUIRE_ALL:
            pytest.fail(
                "GATEWAY_TEST_POSTGRES_URL is not set, but CI requires the PostgreSQL tests"
            )
        pytest.skip("GATEWAY_TEST_POSTGRES_URL is not set")
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"gateway_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset_postgres(url: str) -> None:
    """Empty every table of the schema (the one migrated database is shared by a worker's tests),
    but for the audit log's head row, which is reset."""
    from gateway.store.models import Base

    tables = [t.name for t in Base.metadata.sorted_tables if t.name != "audit_head"]
    engine = create_engine(normalise_url(url))
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(tables)}"))
        connection.execute(
            text("UPDATE audit_head SET size = 0, chain_hash = :zero"), {"zero": bytes(32)}
        )
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "gateway.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _reset_postgres(url)
    return url


# --- settings, app and clients ----------------------------------------------------------------


@pytest.fixture
def settings(
    tmp_path: Path,
    database_url: str,
    registry_dir: Path,
    private_jwks: dict[str, dict[str, Any]],
    authorities: dict[str, tuple[bytes, AuthorityCertificate]],
) -> Settings:
    keys_dir, pins_dir = tmp_path / "keys", tmp_path / "pins"
    write_private_jwk(keys_dir / "JP.private.jwk", private_jwks["JP"])
    for admin, jwk in private_jwks.items():
        add_pinned_key(pins_dir, admin, public_part(jwk))
    for admin, (_, certificate) in authorities.items():
        add_authority_certificate(pins_dir, admin, certificate)
    return load_settings(
        environ={},
        gateway_id="JP",
        database_url=database_url,
        registry_dir=registry_dir,
        key_pins_dir=pins_dir,
        keys_dir=keys_dir,
        validate_responses=True,
        web_secret_file=tmp_path / "web-secret",
        operator_tokens=(
            f"review-ui={hashlib.sha256(OPERATOR_TOKEN.encode()).hexdigest()},"
            f"compliance:auditor={hashlib.sha256(AUDITOR_TOKEN.encode()).hexdigest()},"
            f"intake={hashlib.sha256(OTHER_SYSTEM_TOKEN.encode()).hexdigest()}"
        ),
    )


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.database.dispose()


#: The password of every test account (generated people, no real person).
PASSWORD = "correct-horse-battery-staple"
PEOPLE = {
    "tanaka": ("officer",),
    "suzuki": ("officer", "supervisor"),
    "sato": ("supervisor",),
    "yamada": ("analyst",),
    "ito": ("auditor",),
}


def create_accounts(services: Services, accounts: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """Accounts with the test password, by username."""
    from datetime import UTC, datetime

    return {
        name: services.accounts.create(
            name,
            roles=roles,
            display_name=f"Test {name.title()}",
            password=PASSWORD,
            actor="admin:test",
            now=datetime.now(UTC),
        )
        for name, roles in accounts.items()
    }


def acting_headers(client: Any, username: str) -> dict[str, str]:
    """The operator API's headers for the test system acting for ``username``: the system's
    token and the session ``username`` opened through it (signed in once per client)."""
    sessions = client.__dict__.setdefault("_account_sessions", {})
    if username not in sessions:
        opened = client.post(
            "/v1/account-sessions",
            json={"username": username, "password": PASSWORD},
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        )
        sessions[username] = opened.json()["session"] if opened.status_code == 201 else "none"
    return {"Authorization": f"Bearer {OPERATOR_TOKEN}", "X-Account-Session": sessions[username]}


@pytest.fixture
def people(services: Services) -> dict[str, Any]:
    """Accounts of the review workflow's tests, by username."""
    return create_accounts(services, PEOPLE)


@pytest.fixture
def client(settings: Settings, services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(settings, services)) as test_client:
        yield test_client


def partner_client(
    http: TestClient, signing_keys: dict[str, SigningKey], admin: str = "KR"
) -> PartnerClient:
    """A PartnerClient speaking for ``admin`` to JP through ``http`` (a TestClient)."""
    return PartnerClient(
        base_url="http://testserver",
        caller=admin,
        receiver="JP",
        key=signing_keys[admin],
        receiver_keys=[PinnedKey.from_jwk(signing_keys["JP"].pinned.public_jwk)],
        http=http,
    )


def stored_counts(services: Services) -> dict[str, int]:
    """Messages, consumed assertions and audit events: what a refusal must leave unchanged
    (but for its own audit event)."""
    from sqlalchemy import func, select

    from gateway.store.models import AuditEvent, Message, SeenAssertion

    with services.database.transaction() as session:
        return {
            "messages": session.scalar(select(func.count()).select_from(Message)) or 0,
            "assertions": session.scalar(select(func.count()).select_from(SeenAssertion)) or 0,
            "events": session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        }


@pytest.fixture
def partner(client: TestClient, signing_keys: dict[str, SigningKey]) -> Any:
    """``partner("KR")``: a PartnerClient speaking for KR to the gateway under test."""

    def make(admin: str = "KR") -> PartnerClient:
        return partner_client(client, signing_keys, admin)

    return make


@pytest.fixture
def sample_json() -> bytes:
    return (SAMPLES / "seizure-report.json").read_bytes()


@pytest.fixture
def sample_xml() -> bytes:
    return (SAMPLES / "seizure-report.xml").read_bytes()
