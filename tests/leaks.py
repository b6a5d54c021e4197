"""The leak harness's parts: documents with a canary in every free string, and the rule of what
may reach whom, stated here from the law and the issue rather than read from the policy files.

A canary is ``CNRY`` + four digits + ``Q``, unique within a document, so that finding one in
any byte a recipient receives names the field it was planted in.
"""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from hypothesis import strategies as st

from gateway.settings import PROJECT_ROOT

CANARY = re.compile(r"CNRY\d{4}Q")

#: Values for the spec's constrained strings (patterns and formats), by schema or format.
_PATTERNED = {
    "CountryCode": "MX",
    "AdministrationId": "JP",
    "Locode": "KRICN",
    "DocumentReference": "REF-0001",
}
_FORMATS = {"date": "2026-03-14", "uuid": "00000000-0000-4000-8000-00000000abcd"}
#: Patterns a bare canary meets (identifiers): those get one too.
_CANARY_PATTERNS = {"^[A-Za-z0-9][A-Za-z0-9._/-]*$"}
_PATTERN_SAMPLES = {
    "^[0-9]{4}(\\.[0-9]{2}){0,2}$": "2939.71",
    "^[A-Z]{3}$": "USD",
    "^[A-Z0-9][A-Z0-9-]{1,31}$": "JP-ID-EPA",
}

#: Pointers that name a person or hold free text (issue 19: "Free text (summary,
#: commodity.description, transport.conveyance, subject, questions, answers, reasons, notes) is
#: personal data for the policy's purposes"; names, dates of birth, identity documents; a
#: company may be a sole proprietor; an office name is free text).
PERSONAL = re.compile(
    r"^/(persons/\d+/(name|date_of_birth|document)(/.*)?"
    r"|companies(/.*)?|summary|subject|questions(/.*)?|answers(/.*)?|office/name"
    r"|commodity/description|transport/conveyance|reason)$"
)
#: What the hub may never receive at all: anything about a person, beyond the above.
HUB_NEVER = re.compile(r"^/(persons|companies)(/.*)?$")
#: Purposes for which personal data may go under each kind of framework (the project's legal
#: reading, stated independently of policies/frameworks.yaml).
PERSONAL_DATA_PURPOSES = {
    "CMAA": {"intelligence", "evidence"},
    "AA": {"intelligence"},
    "EPA": {"intelligence"},
    "CPTPP": set(),
    "OTHER": set(),
}


def _month(text: str) -> date | None:
    return date(int(text[:4]), int(text[5:7]), 1) if text else None


def frameworks() -> dict[str, list[dict[str, Any]]]:
    """data/agreements.csv by partner."""
    table: dict[str, list[dict[str, Any]]] = {}
    with (PROJECT_ROOT / "data" / "agreements.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            table.setdefault(row["partner"], []).append(
                {
                    "type": row["framework"],
                    "in_force": _month(row["in_force"]),
                    "fy2012_from": (_month(row["revised"]) or _month(row["in_force"]))
                    if row["fy2012_enhanced"] == "true"
                    else None,
                }
            )
    return table


FRAMEWORKS = frameworks()


def personal_data_may_go(partner: str, on: date, purpose: str | None) -> bool:
    """Whether some framework with ``partner`` carries the FY2012 provisions on ``on`` for
    ``purpose`` (a withdrawal has no purpose of its own: any)."""
    return any(
        f["fy2012_from"] is not None
        and f["fy2012_from"] <= on
        and f["in_force"] <= on
        and (purpose is None or purpose in PERSONAL_DATA_PURPOSES[f["type"]])
        for f in FRAMEWORKS.get(partner, ())
    )


def may_reach(
    pointer: str, partner: str, on: date, purpose: str | None, *, automatic: bool
) -> bool:
    """Whether a value planted at ``pointer`` may reach ``partner``."""
    if partner == "RILO-AP":
        return not PERSONAL.match(pointer) and not HUB_NEVER.match(pointer)
    if PERSONAL.match(pointer):
        return not automatic and personal_data_may_go(partner, on, purpose)
    return True


def planted(document: Any, at: str = "") -> Iterator[tuple[str, str]]:
    """(pointer, canary) for every canary in ``document``."""
    if isinstance(document, str):
        for canary in CANARY.findall(document):
            yield at, canary
    elif isinstance(document, Mapping):
        for name, value in document.items():
            yield from planted(value, f"{at}/{name}")
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from planted(value, f"{at}/{index}")


# --- documents from the spec --------------------------------------------------------------------


class _Counter:
    def __init__(self) -> None:
        self.next = 0

    def canary(self, min_length: int, max_length: int) -> str:
        self.next += 1
        text = f"CNRY{self.next:04d}Q"
        text = (text + " about SOMEONE") if max_length >= len(text) + 14 else text
        return text.ljust(min_length, "x")[:max_length]


def documents(spec: Mapping[str, Any], component: str) -> st.SearchStrategy[dict[str, Any]]:
    """Documents of ``component``: every optional member present or not, lists of one or two
    items, a canary in every string the schema leaves free."""
    schemas = spec["components"]["schemas"]

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        counter = _Counter()
        value = _value(draw, schemas, schemas[component], component, counter)
        assert isinstance(value, dict)
        return value

    return build()


def _value(
    draw: st.DrawFn, schemas: Mapping[str, Any], node: Mapping[str, Any], name: str, c: _Counter
) -> Any:
    if "$ref" in node:
        ref = node["$ref"].rsplit("/", 1)[-1]
        if ref in _PATTERNED:
            return _PATTERNED[ref]
        return _value(draw, schemas, schemas[ref], ref, c)
    if "allOf" in node and "properties" not in node:
        return _value(draw, schemas, node["allOf"][0], name, c)
    kind = node.get("type")
    if "enum" in node:
        return draw(st.sampled_from(node["enum"]))
    if kind == "object":
        properties = node.get("properties", {})
        required = set(node.get("required", ()))
        out = {}
        for member, child in properties.items():
            if member in required or draw(st.booleans()):
                out[member] = _value(draw, schemas, child, member, c)
        return out
    if kind == "array":
        count = draw(st.integers(max(1, node.get("minItems", 0)), 2))
        return [_value(draw, schemas, node["items"], name, c) for _ in range(count)]
    if kind == "string":
        if node.get("format") in _FORMATS:
            return (
                str(uuid.UUID(int=draw(st.integers(1, 2**60)), version=4))
                if node["format"] == "uuid"
                else _FORMATS[node["format"]]
            )
        if node.get("pattern") in _CANARY_PATTERNS:
            return c.canary(0, 9)
        if "pattern" in node:
            return _PATTERN_SAMPLES[node["pattern"]]
        return c.canary(node.get("minLength", 0), node.get("maxLength", 200))
    if kind in ("number", "integer"):
        return max(1, int(node.get("minimum", 1)))
    if kind == "boolean":
        return draw(st.booleans())
    raise AssertionError(f"no generator for {name}: {node}")
