"""Redaction of a document's JSON form (pure). XML is redacted through the same form.

Paths are JSON-pointer-like; ``*`` stands for every element of a list. Every operation returns a
new document and the concrete paths it removed (``/persons/0/name``), for the decision's record.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import date
from typing import Any

#: Person fields that identify someone; what stays is role, nationality, sex and an age band.
IDENTIFYING_PERSON_FIELDS = ("name", "date_of_birth", "document")
AGE_BANDS = (
    (18, "under-18"),
    (25, "18-24"),
    (35, "25-34"),
    (45, "35-44"),
    (55, "45-54"),
    (65, "55-64"),
)


def age_band(born: date, on: date) -> str:
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return next((band for limit, band in AGE_BANDS if age < limit), "65-plus")


def _remove(node: Any, steps: list[str], prefix: str, removed: list[str]) -> None:
    head, rest = steps[0], steps[1:]
    if head == "*":
        if isinstance(node, list):
            for index, item in enumerate(node):
                _remove(item, rest, f"{prefix}/{index}", removed) if rest else None
        return
    if not isinstance(node, dict) or head not in node:
        return
    if rest:
        _remove(node[head], rest, f"{prefix}/{head}", removed)
    else:
        del node[head]
        removed.append(f"{prefix}/{head}")


def remove_paths(
    document: Mapping[str, Any], paths: tuple[str, ...]
) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``document`` without ``paths``; the concrete paths removed."""
    result = copy.deepcopy(dict(document))
    removed: list[str] = []
    for path in paths:
        _remove(result, path.strip("/").split("/"), "", removed)
    return result, removed


def reduce_persons(document: Mapping[str, Any], on: date) -> tuple[dict[str, Any], list[str]]:
    """Persons reduced to role, nationality, sex and an age band (from the date of birth)."""
    result = copy.deepcopy(dict(document))
    removed: list[str] = []
    for index, person in enumerate(result.get("persons", [])):
        born = person.get("date_of_birth")
        if born and "age_band" not in person:
            person["age_band"] = age_band(date.fromisoformat(born), on)
        for name in IDENTIFYING_PERSON_FIELDS:
            if name in person:
                del person[name]
                removed.append(f"/persons/{index}/{name}")
    return result, removed


def has_personal_data(document: Mapping[str, Any]) -> bool:
    """True if any person carries an identifying field, or there is free text (the summary)."""
    persons = document.get("persons", [])
    return bool(document.get("summary")) or any(
        name in person for person in persons for name in IDENTIFYING_PERSON_FIELDS
    )
