"""Which fields of the spec's message schemas the release lists decide, and which they do not.

``gateway policy check`` asks this: a field that no list names is withheld from everyone (deny
by default), but it should be a decision, not an oversight; a pointer that names no field of its
schema is a mistake in the policy (a typo would otherwise withhold silently).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.documents.schemas import COMPONENTS
from gateway.policy.model import PolicySet
from gateway.policy.release import compile_pointers, covers, mentions


@dataclass(frozen=True)
class Coverage:
    #: message type → fields of its schema no list names (withheld from everyone, undecided)
    unnamed: Mapping[str, tuple[str, ...]]
    #: "where" → pointers that name no field of the schema
    unknown: Mapping[str, tuple[str, ...]]

    @property
    def complete(self) -> bool:
        return not any(self.unnamed.values()) and not any(self.unknown.values())


def schema_fields(spec: Mapping[str, Any], component: str) -> tuple[str, ...]:
    """Every leaf field of ``component`` as a pointer (``*`` for list items), in schema order.
    A leaf is a value with no members of its own in the schema (a string, a number, an object
    the schema leaves open)."""
    schemas = spec.get("components", {}).get("schemas", {})
    return tuple(_leaves(schemas, schemas[component], "", frozenset({component})))


def _resolve(schemas: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    while True:
        if "$ref" in node:
            node = schemas[node["$ref"].rsplit("/", 1)[-1]]
        elif "allOf" in node and "properties" not in node and len(node["allOf"]) == 1:
            node = node["allOf"][0]
        else:
            return node


def _leaves(
    schemas: Mapping[str, Any], node: Mapping[str, Any], at: str, seen: frozenset[str]
) -> Iterator[str]:
    node = _resolve(schemas, node)
    if node.get("type") == "array" and isinstance(node.get("items"), Mapping):
        yield from _leaves(schemas, node["items"], f"{at}/*", seen)
    elif isinstance(node.get("properties"), Mapping) and node["properties"]:
        for name, child in node["properties"].items():
            yield from _leaves(schemas, child, f"{at}/{name}", seen)
    else:
        yield at


def check_coverage(policies: PolicySet, spec: Mapping[str, Any]) -> Coverage:
    """The fields no release list names and the pointers that name no field, per message type
    (partners' lists in release.yaml, the hub's in hub.yaml)."""
    unnamed: dict[str, tuple[str, ...]] = {}
    unknown: dict[str, tuple[str, ...]] = {}
    for kind, lists in policies.release.items():
        fields = schema_fields(spec, COMPONENTS[kind])
        named = compile_pointers((*lists.open, *lists.personal, *lists.never))
        unnamed[kind] = tuple(f for f in fields if not covers(named, f))
        known = compile_pointers(fields)
        for list_name, pointers in (
            ("open", lists.open),
            ("personal", lists.personal),
            ("never", lists.never),
            ("essential", lists.essential),
        ):
            stray = tuple(p for p in pointers if not mentions(known, p))
            if stray:
                unknown[f"release.yaml: messages/{kind}/{list_name}"] = stray
    for kind, pointers in policies.hub.release.items():
        known = compile_pointers(schema_fields(spec, COMPONENTS[kind]))
        stray = tuple(p for p in pointers if not mentions(known, p))
        if stray:
            unknown[f"hub.yaml: release/{kind}"] = stray
    return Coverage(unnamed, unknown)
