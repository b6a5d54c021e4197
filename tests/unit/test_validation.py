"""The gateway's parameter validator answers exactly as connexion's own, which it replaces to build
each parameter's validator once (gateway/api/validation.py), but for a pattern's ``$``: it ends
the string, as ECMA-262 reads it, where Python's also matches before a final newline."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from connexion.validators import ParameterValidator

from gateway.api.validation import CompiledParameterValidator, _validator_for
from gateway.documents.schemas import load_spec
from gateway.settings import load_settings

SPEC_PARAMETERS = [
    parameter
    for path in load_spec(load_settings(environ={}).spec_path)["paths"].values()
    for operation in path.values()
    if isinstance(operation, dict)
    for parameter in operation.get("parameters", [])
    if "$ref" not in json.dumps(parameter)  # connexion resolves references before validating
]

PARAMETERS: list[dict[str, Any]] = [
    {"name": "X-JWS-Signature", "in": "header", "required": True,
     "schema": {"type": "string", "minLength": 16, "maxLength": 4096, "pattern": "^[A-Za-z0-9_.-]+$"}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
    {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["open", "closed"]}},
    {"name": "since", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "note", "in": "query", "schema": {"type": "string", "nullable": True}},
    {"name": "case_id", "in": "path", "required": True,
     "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647}},
]  # fmt: skip

VALUES = [None, "", "null", "abc", "a" * 20, "a.b-c_d" * 3, "bad chars !", 0, 1, 500, 501, -3,
          2147483648, "open", "shut", "2026-12-01", "2026-13-45", 1.5, True]  # fmt: skip


@pytest.mark.parametrize("parameter", PARAMETERS + SPEC_PARAMETERS, ids=lambda p: p["name"])
def test_same_answer_as_connexion_for_every_value(parameter):
    ours = CompiledParameterValidator([parameter], uri_parser=None)
    for value in VALUES:
        theirs = ParameterValidator.validate_parameter(
            parameter["in"], value, copy.deepcopy(parameter)
        )
        assert ours.validate_parameter(parameter["in"], value, parameter) == theirs, value


def test_a_parameter_validator_is_built_once():
    parameter = copy.deepcopy(PARAMETERS[1])
    assert _validator_for(parameter) is _validator_for(parameter)
    assert _validator_for(copy.deepcopy(parameter)) is not _validator_for(parameter)


def test_a_pattern_lets_no_trailing_newline_through_where_connexions_own_did():
    parameter = {
        "name": "partner",
        "in": "query",
        "schema": {"type": "string", "pattern": "^[A-Z]{2}$"},
    }
    ours = CompiledParameterValidator([parameter], uri_parser=None)
    assert ours.validate_parameter("query", "KR", parameter) is None
    theirs = ParameterValidator.validate_parameter("query", "KR\n", copy.deepcopy(parameter))
    assert theirs is None  # Python's $
    refusal = ours.validate_parameter("query", "KR\n", parameter)
    assert refusal is not None and refusal.startswith("'KR\\n' does not match '^[A-Z]{2}$'")
