"""Gateway settings: defaults, then an optional TOML file, then ``GATEWAY_*`` environment variables.

The settings object is a frozen dataclass passed to :func:`gateway.app.create_app`; nothing in the
gateway reads the environment elsewhere. Every field can be set in the TOML file under its own name
or in the environment as ``GATEWAY_<NAME>`` (upper case). Unknown keys in the file are an error, so
a typo cannot silently leave a default in force.

Example::

    settings = load_settings(toml_path="gateway.toml", environ=os.environ)
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from gateway.errors import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Everything the gateway needs to run; see README "Configuration" for each field."""

    #: The administration this gateway speaks for (ISO 3166-1 alpha-2, ``EU`` or ``RILO-AP``).
    gateway_id: str = "JP"
    #: SQLAlchemy URL. SQLite by default; PostgreSQL in production.
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'gateway.sqlite3'}"
    #: Directory with one YAML file per administration (committed configuration).
    registry_dir: Path = PROJECT_ROOT / "partners"
    #: Directory of sharing-policy files (schema-checked; the gateway will not start without them).
    policy_dir: Path = PROJECT_ROOT / "policies"
    #: Machine-local trust store: ``<ID>.jwks.json`` files with keys pinned on this installation,
    #: added to those in the registry files (``gateway partners add-key`` writes here).
    key_pins_dir: Path = PROJECT_ROOT / "var" / "pins"
    #: The secret that signs web session cookies (created, mode 0600, if missing).
    web_secret_file: Path = PROJECT_ROOT / "var" / "web-secret"
    #: Directory with this gateway's private signing keys (``<ID>.private.jwk``, mode 0600, or
    #: ``<ID>.private.pem`` encrypted with the passphrase in ``key_passphrase_file``).
    keys_dir: Path = PROJECT_ROOT / "var" / "keys"
    #: A file (0600) holding the passphrase of an encrypted private key; empty: none.
    key_passphrase_file: str = ""
    #: The OpenAPI document (single source of truth for routes, bodies and problems).
    spec_path: Path = PROJECT_ROOT / "specs" / "openapi.yaml"
    #: Directory of XML schemas.
    xsd_dir: Path = PROJECT_ROOT / "specs" / "xsd"
    #: Base URL partners use to reach this gateway; ``htu`` claims are checked against it.
    #: Empty: the URL of the incoming request is used (fine on loopback, not behind a proxy).
    public_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    #: Serve HTTPS with this certificate chain and key (PEM); both or neither.
    tls_cert_file: str = ""
    tls_key_file: str = ""
    #: uvicorn worker processes for ``gateway serve``.
    workers: int = 1
    #: Largest request body accepted, checked before anything is parsed.
    max_body_bytes: int = 1_048_576
    #: Deepest XML element nesting accepted.
    max_xml_depth: int = 64
    #: Deepest JSON nesting of arrays and objects accepted (a message needs under ten).
    max_json_depth: int = 32
    #: Clock skew tolerated on assertions and signatures (PROTOCOL §3).
    clock_skew_seconds: int = 60
    #: Longest assertion lifetime accepted, ``exp - iat`` (PROTOCOL §3).
    max_assertion_lifetime_seconds: int = 300
    #: Validate every response against the spec (on in tests; costs time in production).
    validate_responses: bool = False
    #: Serve the Swagger UI at /v1/ui/.
    swagger_ui: bool = True
    log_level: str = "INFO"
    #: Where partners' gateways listen, ``ID=URL,…``; overrides ``endpoint`` in partners/ (for
    #: onboarding tests and the demo).
    partner_endpoints: str = ""
    #: Delivery: attempts before a dead letter, exponential backoff (with jitter) base and cap,
    #: a worker's lease on a claimed message, and the HTTP timeout of one attempt. A partner's
    #: registry entry may set its own attempts and backoff.
    delivery_max_attempts: int = 8
    delivery_backoff_base_seconds: int = 2
    delivery_backoff_cap_seconds: int = 600
    delivery_lease_seconds: int = 60
    delivery_timeout_seconds: int = 20
    #: The gateway's own systems allowed to call the operator API: ``name=sha256hex`` pairs,
    #: comma-separated (``gateway operators new-token NAME`` makes one). Empty: none.
    operator_tokens: str = ""
    #: Tree heads are signed on this cadence, not per call: ``GET /v1/audit/tree-head`` answers
    #: the latest head while it is younger, so polling shows the log's size at most this often
    #: (PROTOCOL §8). 0: a head of the log as it is at every call.
    tree_head_interval_seconds: int = 300
    #: The most seizure reports the hub takes in one signed batch.
    hub_max_batch: int = 1000
    #: Feed the RILO A/P hub: every seizure report stored is decided for the hub and, if the
    #: hub policy allows it, queued to it sanitised.
    hub_feed: bool = False
    #: A header set by a single-sign-on reverse proxy naming the signed-in account (empty: off).
    identity_header: str = ""
    #: The proxies (peer addresses) whose identity header is believed.
    identity_header_proxies: str = "127.0.0.1,::1"
    #: Calls a minute each partner may make (0: unlimited), and the burst admitted at once;
    #: ``rate_limits`` sets other allowances for some partners: ``KR=1200:200,US=300``.
    rate_limit_per_minute: int = 600
    rate_limit_burst: int = 120
    rate_limits: str = ""
    #: Sign-in attempts on the pages, per account: at once, then one more a minute (after that
    #: the page answers 429 without trying the password).
    sign_in_burst: int = 5
    sign_in_per_minute: int = 1
    #: Sign-in attempts from one client address, whatever the account: at once, then a minute.
    sign_in_per_address_burst: int = 30
    sign_in_per_address_per_minute: int = 30
    #: Sessions (pages, ``gateway login``, officers' tokens on the operator API): ended after this
    #: many seconds without use, and at the latest this many seconds after sign-in.
    session_idle_seconds: int = 1800
    session_lifetime_seconds: int = 8 * 3600
    #: Longest a person's reads (cases opened, searches) wait in memory before their batch is
    #: written to the audit log (at most 100 reads a batch; all are written when a worker stops).
    read_audit_seconds: int = 60
    #: Where ``gateway login`` keeps its token (mode 0600, in a 0700 directory).
    cli_session_file: Path = Path.home() / ".config" / "customs-gateway" / "session.json"
    #: Refusals recorded one by one for each source nobody answers for (an unauthenticated
    #: address, a partner over its rate limit): at once, then a minute (0: every one); beyond,
    #: they are counted, and the counts written every ``refusal_summary_seconds``.
    refusal_audit_burst: int = 20
    refusal_audit_per_minute: int = 60
    refusal_summary_seconds: int = 60
    #: Seconds a connection has to send a request's line and headers (closed after: Slowloris).
    header_timeout_seconds: int = 10
    #: Seconds a caller has to send its body (408 after), and the gateway to answer (503 after).
    body_timeout_seconds: int = 10
    request_timeout_seconds: int = 30
    #: Longest one database statement may run on PostgreSQL before it is cancelled (0: none).
    database_statement_timeout_seconds: int = 60
    #: ``gateway serve`` refuses to start with less free space than this where it writes.
    min_free_disk_mb: int = 100
    #: Marks this installation as production: ``check-config`` refuses development keys then.
    production: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def key_passphrase(self) -> bytes | None:
        """The private key's passphrase (the file's first line), or None if none is set."""
        if not self.key_passphrase_file:
            return None
        try:
            text = Path(self.key_passphrase_file).expanduser().read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigurationError(f"cannot read key_passphrase_file: {error}") from error
        return text.splitlines()[0].encode() if text.strip() else None


def _coerce(name: str, annotation: str, raw: Any) -> Any:
    """Turn a TOML or environment value into the field's type, or raise ConfigurationError."""
    try:
        if annotation == "int":
            return int(raw)
        if annotation == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if annotation == "Path":
            return Path(str(raw)).expanduser()
        return str(raw)
    except ValueError as error:
        raise ConfigurationError(
            f"setting {name!r}: cannot read {raw!r} as {annotation}"
        ) from error


def load_settings(
    toml_path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build settings from defaults, an optional TOML file, the environment, then ``overrides``.

    The TOML file may also be named by ``GATEWAY_CONFIG``. Raises ConfigurationError on an
    unknown key or a value of the wrong type.
    """
    environ = os.environ if environ is None else environ
    known = {f.name: str(f.type) for f in fields(Settings) if f.name != "extra"}
    values: dict[str, Any] = {}

    path = toml_path or environ.get("GATEWAY_CONFIG")
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigurationError(f"cannot read settings file {path}: {error}") from error
        for key, raw in data.items():
            if key not in known:
                raise ConfigurationError(f"{path}: unknown setting {key!r}")
            values[key] = _coerce(key, known[key], raw)

    for name, annotation in known.items():
        env_key = f"GATEWAY_{name.upper()}"
        if env_key in environ:
            values[name] = _coerce(name, annotation, environ[env_key])

    for key, raw in overrides.items():
        if key not in known:
            raise ConfigurationError(f"unknown setting {key!r}")
        values[key] = raw if not isinstance(raw, str) else _coerce(key, known[key], raw)

    settings = Settings(**values)
    if not settings.gateway_id or settings.gateway_id != settings.gateway_id.upper():
        raise ConfigurationError("gateway_id must be an upper-case administration id, e.g. JP")
    return settings


def replace(settings: Settings, **changes: Any) -> Settings:
    """A copy of ``settings`` with ``changes`` applied (for tests and sub-commands)."""
    return dataclasses.replace(settings, **changes)
