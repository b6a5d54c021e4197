"""docs/protocol.md is the normative protocol: every section the code cites exists in it, and its
examples are what the gateway itself makes and accepts."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import jwt
import pytest

from gateway import errors
from gateway.documents.schemas import JsonSchemas, load_spec
from gateway.settings import PROJECT_ROOT
from gateway.trust.jws import sign_detached
from gateway.trust.keys import SigningKey, generate_jwk

PROTOCOL = (PROJECT_ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
SCHEMAS = JsonSchemas(load_spec(PROJECT_ROOT / "specs" / "openapi.yaml"))
EXAMPLES = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", PROTOCOL, flags=re.S)]


def _sections() -> set[str]:
    return set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\. ", PROTOCOL, flags=re.M))


def test_every_section_the_code_cites_is_in_the_protocol():
    cited: dict[str, list[str]] = {}
    for path in [
        *PROJECT_ROOT.joinpath("gateway").rglob("*.py"),
        PROJECT_ROOT / "specs" / "openapi.yaml",
    ]:
        for number in re.findall(r"PROTOCOL §(\d+(?:\.\d+)?)", path.read_text(encoding="utf-8")):
            cited.setdefault(number, []).append(str(path.relative_to(PROJECT_ROOT)))
    assert cited, "the code cites the protocol"
    missing = {n: where for n, where in cited.items() if n not in _sections()}
    assert not missing, missing


def _example(*members: str) -> dict:
    found = [e for e in EXAMPLES if set(members) <= set(e)]
    assert len(found) == 1, members
    return found[0]


@pytest.mark.parametrize(
    ("component", "members"),
    [
        ("Receipt", ("message_id", "leaf_hash")),
        ("MarkingChange", ("changes", "markings")),
        ("Problem", ("type", "rule")),
    ],
)
def test_each_body_example_follows_the_spec(component, members):
    SCHEMAS.check(component, _example(*members))


def test_the_problem_example_is_a_kind_the_gateway_raises():
    problem = _example("type", "rule")
    kind = problem["type"].rsplit("/", 1)[-1]
    classes = [
        c
        for c in vars(errors).values()
        if isinstance(c, type) and issubclass(c, errors.GatewayError)
    ]
    raised = {(c.kind, c.title, _status(c)) for c in classes}
    assert (kind, problem["title"], problem["status"]) in raised
    section = PROTOCOL.split("## 6. Errors", 1)[1].split("## 7.", 1)[0]
    named = set(re.findall(r"`([a-z]+(?:-[a-z]+)*)`", section)) - {
        "type",
        "title",
        "status",
        "detail",
        "msgtype",
        "problem",
        "rule",
    }
    assert named <= {c.kind for c in classes}, named - {c.kind for c in classes}


def _status(error: type[errors.GatewayError]) -> int | None:
    from gateway.api.problems import STATUS_BY_ERROR

    return next((STATUS_BY_ERROR[c] for c in error.__mro__ if c in STATUS_BY_ERROR), None)


def test_the_header_example_names_what_the_gateway_signs():
    example = _example("msgid", "msgtype")
    signature = sign_detached(
        b"{}",
        SigningKey.from_jwk(generate_jwk("Ed25519")),
        content_type="application/json",
        message_id=example["msgid"],
        issuer="JP",
        audience="KR",
        message_type="seizure-report",
        issued_at=datetime.now(UTC),
        withheld=_example("withheld")["withheld"],
    )
    header = jwt.get_unverified_header(signature)
    assert set(header) == {*example, "withheld"}
    assert {k: header[k] for k in ("typ", "b64", "crit", "alg")} == {
        k: example[k] for k in ("typ", "b64", "crit", "alg")
    }


def test_the_assertion_example_has_the_claims_the_gateway_requires():
    from gateway.trust.assertions import REQUIRED_CLAIMS

    claims = _example("htm", "htu")
    assert set(claims) == set(REQUIRED_CLAIMS)
    assert claims["exp"] - claims["iat"] <= 300
