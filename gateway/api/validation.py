"""How connexion checks requests before a handler runs, where the gateway departs from its defaults.

* Message bodies are signed: :class:`SignedBodyPassThrough` leaves them alone, so nothing parses a
  body before its signature verifies (:mod:`gateway.documents` then checks it against the schemas
  of this same spec).
* Parameters (path, query, headers) are checked as connexion checks them (``pattern`` as ECMA-262
  reads it), with each parameter's validator built once: connexion 3.3 deep-copies the parameter
  and builds a new ``Draft4Validator`` for every value of every request (a tenth of a partner
  call's CPU).
"""

from __future__ import annotations

from typing import Any

from connexion.utils import is_null, is_nullable
from connexion.validators import AbstractRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError
from starlette.types import Receive, Scope

from gateway.documents.schemas import with_ecma_patterns

#: connexion's parameter draft, its patterns read as ECMA-262 reads them (a trailing newline does
#: not meet "^[A-Z]{2}$").
_Draft4Validator = with_ecma_patterns(Draft4Validator)


class SignedBodyPassThrough(AbstractRequestBodyValidator):  # type: ignore[misc]
    """Message bodies are signed: they are verified first and only then parsed and validated
    (by :mod:`gateway.documents`, against the schemas of this same spec). connexion must not
    parse them before the signature is checked."""

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        return receive, scope


#: id(parameter) → (parameter, its validator). connexion builds a parameter validator for every
#: request from the operation's own parameter dicts; holding each dict here keeps its id from
#: being reused while its entry exists.
_VALIDATORS: dict[int, tuple[dict[str, Any], Draft4Validator]] = {}


def _validator_for(param: dict[str, Any]) -> Draft4Validator:
    entry = _VALIDATORS.get(id(param))
    if entry is None or entry[0] is not param:
        entry = (
            param,
            _Draft4Validator(
                param.get("schema", param), format_checker=Draft4Validator.FORMAT_CHECKER
            ),
        )
        _VALIDATORS[id(param)] = entry
    return entry[1]


class CompiledParameterValidator(ParameterValidator):  # type: ignore[misc]
    """connexion's parameter validation with one validator per declared parameter, built on its
    first use. Same checks, same messages (tests/unit/test_validation.py)."""

    def validate_parameter(
        self,
        parameter_type: str,
        value: Any,
        param: dict[str, Any],
        param_name: str | None = None,
    ) -> str | None:
        if is_nullable(param) and is_null(value):
            return None
        if value is not None:
            try:
                _validator_for(param).validate(value)
            except ValidationError as exception:
                return str(exception)
            return None
        if param.get("required"):
            return f"Missing {parameter_type} parameter '{param['name']}'"
        return None
