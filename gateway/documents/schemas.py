"""Document schemas, compiled once: JSON schemas taken from the OpenAPI spec, XSDs from specs/xsd.

The OpenAPI document is the single source of truth for JSON bodies: a component schema is
validated (Draft 2020-12, as OpenAPI 3.1 prescribes, formats checked) with its ``$ref``\\ s resolved
inside the same document, and ``pattern`` read as ECMA-262 reads it (:func:`ecma_pattern`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
import yaml
from lxml import etree
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from gateway.errors import ConfigurationError, DocumentError

SPEC_URI = "urn:customs-gateway:openapi"
#: The spec's schema of each message type, and the member naming its sender.
COMPONENTS = {
    "seizure-report": "SeizureReport",
    "assistance-request": "AssistanceRequest",
    "assistance-answer": "AssistanceAnswer",
    "withdrawal": "Withdrawal",
    "marking-change": "MarkingChange",
    "certificate-of-origin": "CertificateOfOrigin",
    "certificate-status": "CertificateStatus",
    "origin-verification-request": "OriginVerificationRequest",
    "origin-verification-answer": "OriginVerificationAnswer",
    "seizure-report-batch": "SeizureReportBatch",
}
SENDER_MEMBERS = {
    "seizure-report": "reporting_administration",
    "assistance-request": "requesting_administration",
    "assistance-answer": "answering_administration",
    "certificate-of-origin": "exporting_party",
    "certificate-status": "administration",
    "origin-verification-request": "requesting_administration",
    "origin-verification-answer": "answering_administration",
    "seizure-report-batch": "member",
}


#: A ``$`` not escaped by a backslash (fastjsonschema finds them so: both validators read alike).
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")


@cache
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """``pattern`` as ECMA-262, which JSON Schema prescribes, reads it: ``$`` ends the string.
    Python's ``$`` also matches before a final newline, so "KR\\n" met "^[A-Z]{2}$" (and was stored;
    the XSD, whose patterns match whole values, refused the same in XML)."""
    return re.compile(_UNESCAPED_DOLLAR.sub(r"\\Z", pattern))


def _ecma_pattern_keyword(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    """jsonschema's ``pattern`` keyword, with :func:`ecma_pattern` (the same message)."""
    if validator.is_type(instance, "string") and not ecma_pattern(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def with_ecma_patterns(validator_class: Any) -> Any:
    """``validator_class`` (a jsonschema validator class) with ECMA-262's ``pattern``."""
    # jsonschema's extend() carries no annotations
    return jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        validator_class, {"pattern": _ecma_pattern_keyword}
    )


#: Draft 2020-12, its patterns read as ECMA-262 reads them.
Draft202012Validator = with_ecma_patterns(jsonschema.Draft202012Validator)


def load_spec(spec_path: Path) -> dict[str, Any]:
    try:
        spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigurationError(f"cannot read the OpenAPI spec {spec_path}: {error}") from error
    if not isinstance(spec, dict):
        raise ConfigurationError(f"{spec_path} is not an OpenAPI document")
    return spec


class JsonSchemas:
    """Validators for the spec's component schemas, built on first use and kept."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        resource = Resource.from_contents(dict(spec), default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self._validators: dict[str, jsonschema.Draft202012Validator] = {}
        self._components = spec.get("components", {}).get("schemas", {})
        self._compiled: dict[str, Callable[[Any], Any]] = {}

    def is_valid(self, component: str, document: Any) -> bool:
        """Whether ``document`` follows the component, checked by code fastjsonschema compiled
        from the same schema (some forty times faster than :meth:`check`, for bulk feeds; the
        spec keeps to keywords that read alike in both drafts). :meth:`check` says why not."""
        if component not in self._compiled:
            definitions = json.loads(
                json.dumps(self._components).replace("#/components/schemas/", "#/definitions/")
            )
            self._compiled[component] = fastjsonschema.compile(
                {
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "definitions": definitions,
                    "$ref": f"#/definitions/{component}",
                }
            )
        try:
            self._compiled[component](document)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    def validator(self, component: str) -> jsonschema.Draft202012Validator:
        if component not in self._validators:
            schema = {"$ref": f"{SPEC_URI}#/components/schemas/{component}"}
            self._validators[component] = Draft202012Validator(
                schema,
                registry=self._registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
        return self._validators[component]

    def check_compiled_first(self, component: str, document: Any) -> None:
        """:meth:`check`, answered by the compiled validator when it accepts (forty times faster),
        and by the reference validator otherwise (which decides, and names the problem). Only for
        components the compiled code is no laxer on: those whose keywords and formats both drafts
        read alike (not ``format: uuid``, which fastjsonschema ignores); tests/unit/
        test_fast_validation.py holds SeizureReport to it."""
        if not self.is_valid(component, document):
            self.check(component, document)

    def check(self, component: str, document: Any) -> None:
        """Raise DocumentError naming the first problem (with its JSON path)."""
        error = jsonschema.exceptions.best_match(self.validator(component).iter_errors(document))
        if error is not None:
            where = "/" + "/".join(map(str, error.absolute_path))
            raise DocumentError(f"{where}: {error.message}")


class XmlSchemas:
    """lxml XSD validators for specs/xsd/*.xsd, loaded with a parser that cannot fetch anything."""

    def __init__(self, xsd_dir: Path) -> None:
        self._dir = xsd_dir
        self._schemas: dict[str, etree.XMLSchema] = {}

    def schema(self, name: str) -> etree.XMLSchema:
        if name not in self._schemas:
            parser = etree.XMLParser(resolve_entities=False, no_network=True)
            try:
                tree = etree.parse(str(self._dir / f"{name}.xsd"), parser)
                self._schemas[name] = etree.XMLSchema(tree)
            except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as error:
                raise ConfigurationError(f"cannot load XSD {name}: {error}") from error
        return self._schemas[name]

    def check(self, name: str, root: etree._Element) -> None:
        schema = self.schema(name)
        if not schema.validate(root):
            log: Any = schema.error_log  # lxml-stubs do not describe _ListErrorLog
            first = log.last_error  # lxml stops validating at the first error
            raise DocumentError(f"line {first.line}: {first.message}")
