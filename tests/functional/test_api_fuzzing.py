"""Schemathesis over every operation of the spec (issue 9): no 5xx, every answer as the spec says.

Generated calls carry valid credentials, so they reach past authentication: a partner call gets a
fresh assertion bound to its method and URL and a detached JWS over the exact body bytes it
sends (hence the calls are made here, not by schemathesis' own transport: the signature must
cover the serialised body); operator calls get an operator or auditor token and the account of
an officer who holds every role. Both positive (valid by the schema) and negative (invalid)
inputs are generated, with a fixed seed so a run can be repeated. Each finding becomes a
regression test in test_fuzzing_findings.py.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from gateway.app import build_services, create_app
from gateway.client.partner import PartnerClient
from gateway.documents.schemas import load_spec
from gateway.exchange.delivery import PATHS
from gateway.settings import Settings, replace
from tests.conftest import AUDITOR_TOKEN, OPERATOR_TOKEN, create_accounts, partner_client

pytestmark = pytest.mark.functional

#: Calls generated per operation and mode; 32 operations x 2 modes x this, per database.
EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MESSAGE_TYPE_BY_PATH = {path: message_type for message_type, path in PATHS.items()}
ALL_ROLES = ("officer", "supervisor", "analyst", "auditor", "admin")


def spec_schema(settings: Settings) -> Any:
    return schemathesis.openapi.from_dict(load_spec(settings.spec_path))


SCHEMA = spec_schema(replace(Settings()))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


def takes_input(operation: Any) -> bool:
    """Whether there is anything to make invalid (an operation without input has no negative)."""
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody"))


CASES = [
    pytest.param(operation, mode, id=f"{operation.method.upper()} {operation.path} {mode.value}")
    for operation in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or takes_input(operation)
]


def security_of(operation: Any) -> set[str]:
    requirements = operation.definition.raw.get("security", SCHEMA.raw_schema.get("security", []))
    return {name for requirement in requirements for name in requirement}


def body_bytes(arguments: dict[str, Any]) -> bytes | None:
    if "json" in arguments:
        return json.dumps(arguments["json"]).encode()
    data = arguments.get("data")
    if isinstance(data, str):
        return data.encode()
    return data


class SignedCaller:
    """Sends a generated case as KR (partner calls) or as IIO's systems (operator calls)."""

    def __init__(self, client: TestClient, partner: PartnerClient) -> None:
        self.client = client
        self.partner = partner

    def send(self, operation: Any, case: Any) -> Any:
        arguments = case.as_transport_kwargs(base_url="http://testserver")
        headers = {k: v for k, v in (arguments.get("headers") or {}).items() if v is not None}
        body = body_bytes(arguments)
        path = arguments["url"].removeprefix("http://testserver")
        security = security_of(operation)
        if "partnerAssertion" in security:
            headers["Authorization"] = "Bearer " + self.partner.assertion(
                operation.method.upper(), path
            )
            message_type = MESSAGE_TYPE_BY_PATH.get(operation.path)
            if message_type is None and operation.method == "post":
                message_type = "inbox-acknowledgement"
            if body is not None and message_type is not None:
                headers["X-JWS-Signature"] = self.partner.sign(
                    body,
                    content_type=headers.get("Content-Type", "application/json"),
                    message_type=message_type,
                    message_id=str(uuid.uuid4()),
                )
        elif "operatorToken" in security:
            token = AUDITOR_TOKEN if operation.path.startswith("/v1/audit/") else OPERATOR_TOKEN
            headers["Authorization"] = f"Bearer {token}"
            headers["X-Account-Session"] = "fuzz"
        return self.client.request(
            operation.method.upper(),
            path,
            params=arguments.get("params"),
            headers=headers,
            content=body,
        )


@pytest.fixture
def caller(settings: Settings, signing_keys) -> Any:
    fuzz_settings = replace(settings, rate_limit_per_minute=0)  # reach every operation
    services = build_services(fuzz_settings)
    create_accounts(services, {"fuzz": ALL_ROLES})
    with TestClient(create_app(fuzz_settings, services)) as client:
        yield SignedCaller(client, partner_client(client, signing_keys))
    services.database.dispose()


@pytest.mark.parametrize(("operation", "mode"), CASES)
def test_operation_answers_within_the_spec(caller, operation, mode):
    @seed(2026)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: Any) -> None:
        response = caller.send(operation, case)
        case.validate_response(response, checks=CHECKS)

    call()
