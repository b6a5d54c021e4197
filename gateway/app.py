"""``create_app(settings)``: the one place where the gateway is wired together.

No application exists at import time; ``gateway serve`` builds one per worker process with
:func:`asgi_app_from_environment`.
"""

from __future__ import annotations

import copy
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import connexion
import flask
from connexion.datastructures import MediaTypeDict
from connexion.middleware import MiddlewarePosition
from openapi_spec_validator import validate as validate_openapi

from gateway.api.context import EXTENSION_KEY
from gateway.api.edge import RequestEdge
from gateway.api.lifespan import worker_lifespan
from gateway.api.operators import parse_operator_tokens
from gateway.api.problems import ProblemResponder
from gateway.api.rate_limits import Allowance, RateLimiter, parse_overrides
from gateway.api.validation import CompiledParameterValidator, SignedBodyPassThrough
from gateway.audit.reads import ReadLog
from gateway.documents.certificate_of_origin import CertificateReader
from gateway.documents.schemas import JsonSchemas, XmlSchemas, load_spec
from gateway.documents.seizure_report import SeizureReportReader
from gateway.errors import ConfigurationError
from gateway.exchange.inbound import Inbound
from gateway.exchange.outbound import Outbound
from gateway.exchange.refusals import RefusalLog
from gateway.files import write_private
from gateway.origin.register import OriginRegister
from gateway.origin.service import Origin
from gateway.people import Accounts
from gateway.policy.loader import load_policies
from gateway.policy.model import PolicySet
from gateway.registry import Registry
from gateway.review.cases import Cases
from gateway.rilo.feed import Feed
from gateway.rilo.hub import Hub
from gateway.rilo.releases import Releases
from gateway.sessions import Sessions
from gateway.settings import Settings, load_settings
from gateway.store.db import Database
from gateway.trust.keys import Keyring
from gateway.web import create_blueprint

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """Everything a request may need, built once per process."""

    settings: Settings
    registry: Registry
    policies: PolicySet
    keyring: Keyring
    database: Database
    json_schemas: JsonSchemas
    inbound: Inbound
    outbound: Outbound
    refusals: RefusalLog
    #: Digest → (name, role) of the gateway's own systems and auditors (parsed once).
    operator_tokens: Mapping[str, tuple[str, str]]
    origin: Origin
    accounts: Accounts
    cases: Cases
    #: The RILO A/P hub's ingest and reports, on the hub's own gateway only.
    hub: Hub | None
    #: This member gateway's feed to the hub (``hub_feed``).
    feed: Feed | None
    #: Partners' allowances of calls, counted after authentication.
    rate_limiter: RateLimiter
    #: Sign-in attempts on the pages, per account name.
    sign_in_limiter: RateLimiter
    #: Sign-in attempts on the pages, per client address.
    sign_in_address_limiter: RateLimiter
    #: Who is signed in where (pages, CLI, officers on the operator API).
    sessions: Sessions
    #: Who read what (cases, searches), batched per person.
    reads: ReadLog
    #: The hub's releases to members and the public (the ledger), on the hub only.
    releases: Releases | None


def build_reader(
    settings: Settings, json_schemas: JsonSchemas | None = None
) -> SeizureReportReader:
    return SeizureReportReader(
        json_schemas or JsonSchemas(load_spec(settings.spec_path)),
        XmlSchemas(settings.xsd_dir),
        max_bytes=settings.max_body_bytes,
        max_xml_depth=settings.max_xml_depth,
        max_json_depth=settings.max_json_depth,
    )


def build_services(settings: Settings) -> Services:
    registry = Registry.load(settings.registry_dir, settings.key_pins_dir)
    policies = load_policies(settings.policy_dir, registry)
    operator_tokens = parse_operator_tokens(settings.operator_tokens)  # malformed: no start
    allowance = Allowance(settings.rate_limit_per_minute, settings.rate_limit_burst)
    rate_limiter = RateLimiter(
        allowance, parse_overrides(settings.rate_limits, allowance), share=settings.workers
    )
    try:
        keyring = Keyring.load(settings.keys_dir, settings.gateway_id, settings.key_passphrase())
    except ConfigurationError as error:
        raise ConfigurationError(
            f"{error.detail} (generate development keys with `gateway keys init`)"
        ) from error
    database = Database(
        settings.database_url, statement_timeout_seconds=settings.database_statement_timeout_seconds
    )
    json_schemas = JsonSchemas(load_spec(settings.spec_path))
    reader = build_reader(settings, json_schemas)
    outbound = Outbound(
        gateway_id=settings.gateway_id,
        registry=registry,
        policies=policies,
        keyring=keyring,
        database=database,
        schemas=json_schemas,
    )
    certificates = CertificateReader(
        XmlSchemas(settings.xsd_dir),
        max_bytes=settings.max_body_bytes,
        max_depth=settings.max_xml_depth,
    )
    register = OriginRegister(gateway_id=settings.gateway_id, registry=registry, policies=policies)
    cases = Cases(
        gateway_id=settings.gateway_id,
        registry=registry,
        policies=policies,
        database=database,
        outbound=outbound,
    )
    hub = (
        Hub(
            hub_id=settings.gateway_id,
            registry=registry,
            database=database,
            json_schemas=json_schemas,
            max_batch=settings.hub_max_batch,
            accepted=policies.hub.trees["seizure-report"],
        )
        if settings.gateway_id == policies.hub.hub_id
        else None
    )
    feed = (
        Feed(
            gateway_id=settings.gateway_id,
            registry=registry,
            policies=policies,
            database=database,
            outbound=outbound,
            batch_size=settings.hub_max_batch,
        )
        if settings.hub_feed and hub is None
        else None
    )
    inbound = Inbound(
        gateway_id=settings.gateway_id,
        registry=registry,
        policies=policies,
        keyring=keyring,
        reader=reader,
        json_schemas=json_schemas,
        database=database,
        clock_skew=timedelta(seconds=settings.clock_skew_seconds),
        outbound=outbound,
        certificates=certificates,
        origin=register,
        review=cases,
        hub=hub,
        feed=feed,
    )
    origin = Origin(
        gateway_id=settings.gateway_id,
        registry=registry,
        database=database,
        outbound=outbound,
        register=register,
        reader=certificates,
    )
    return Services(
        settings,
        registry,
        policies,
        keyring,
        database,
        json_schemas,
        inbound,
        outbound,
        RefusalLog(
            database,
            admits=RateLimiter(
                Allowance(settings.refusal_audit_per_minute, settings.refusal_audit_burst),
                share=settings.workers,
            ).admits,
            summary_seconds=settings.refusal_summary_seconds,
        ),
        operator_tokens,
        origin,
        Accounts(database),
        cases,
        hub,
        feed,
        rate_limiter,
        RateLimiter(
            Allowance(settings.sign_in_per_minute, settings.sign_in_burst), share=settings.workers
        ),
        RateLimiter(
            Allowance(settings.sign_in_per_address_per_minute, settings.sign_in_per_address_burst),
            share=settings.workers,
        ),
        Sessions(
            database,
            idle_seconds=settings.session_idle_seconds,
            lifetime_seconds=settings.session_lifetime_seconds,
        ),
        ReadLog(database, flush_seconds=settings.read_audit_seconds),
        Releases(database) if hub is not None else None,
    )


def connexion_view(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as connexion 3 accepts it.

    The document is OpenAPI 3.1 and is validated as such here; connexion 3.3 has no 3.1 loader
    (spec-first/connexion#1396), so it is handed the same document labelled 3.0.3. The spec keeps
    to the subset both versions read alike (no type arrays, no numeric exclusive bounds, no
    siblings beside ``$ref``); tests/unit/test_spec.py holds it there.
    """
    validate_openapi(spec)
    view = copy.deepcopy(spec)
    view["openapi"] = "3.0.3"
    return view


def create_app(
    settings: Settings | None = None, services: Services | None = None
) -> connexion.FlaskApp:
    """A connexion FlaskApp serving the spec, with problem handling and the request edge."""
    settings = settings or load_settings()
    services = services or build_services(settings)
    app = connexion.FlaskApp(__name__, lifespan=worker_lifespan(services))
    app.app.extensions[EXTENSION_KEY] = services
    _configure_web(app.app, settings)
    app.add_api(
        connexion_view(load_spec(settings.spec_path)),
        strict_validation=True,
        validate_responses=settings.validate_responses,
        validator_map={
            "body": MediaTypeDict(
                {"*/*json": SignedBodyPassThrough, "*/*xml": SignedBodyPassThrough}
            ),
            "parameter": CompiledParameterValidator,
        },
        swagger_ui_options=connexion.options.SwaggerUIOptions(
            swagger_ui=settings.swagger_ui, swagger_ui_path="/ui"
        ),
    )
    responder = ProblemResponder(services)
    for error_class, handler in responder.handlers():
        app.add_error_handler(error_class, handler)
    app.add_middleware(RequestEdge, position=MiddlewarePosition.BEFORE_SWAGGER, services=services)
    return app


def _web_secret(path: Path) -> bytes:
    """The session-signing secret, created on first use (0600, its missing directories 0700,
    whatever the umask)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        secret = secrets.token_bytes(32)
        try:
            write_private(path, secret, exclusive=True)
        except FileExistsError:  # another worker made it a moment ago
            return path.read_bytes()
        return secret


def _configure_web(flask_app: flask.Flask, settings: Settings) -> None:
    flask_app.secret_key = _web_secret(settings.web_secret_file)
    flask_app.config.update(
        SESSION_COOKIE_NAME="gateway_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
    )
    flask_app.register_blueprint(create_blueprint())


def asgi_app_from_environment() -> connexion.FlaskApp:
    """uvicorn factory for ``gateway serve``: settings from the environment (and GATEWAY_CONFIG)."""
    settings = load_settings()
    logging.basicConfig(level=settings.log_level)
    # connexion warns on every request to an operation with several media types (JSON and XML
    # here, by design); the warning says nothing an operator can act on.
    logging.getLogger("connexion.operations.openapi3").setLevel(logging.ERROR)
    return create_app(settings)
