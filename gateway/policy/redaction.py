"""Derivations the release makes before it withholds (pure): an age band for a date of birth.

What is withheld is decided by allow-list (:mod:`gateway.policy.release`); this module only adds
what a withheld field leaves behind on purpose: a person's age band, where the date of birth
may not go.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

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


def add_age_bands(document: Mapping[str, Any], on: date) -> dict[str, Any]:
    """A copy of ``document`` whose persons with a date of birth and no age band have one."""
    persons = document.get("persons")
    if not isinstance(persons, list) or not any(
        isinstance(p, Mapping) and p.get("date_of_birth") and "age_band" not in p for p in persons
    ):
        return dict(document)
    banded = []
    for person in persons:
        if isinstance(person, Mapping) and person.get("date_of_birth") and "age_band" not in person:
            try:
                band = age_band(date.fromisoformat(person["date_of_birth"]), on)
            except (TypeError, ValueError):
                band = None  # not a date: nothing to derive, and the date itself stays withheld
            person = {**person, **({"age_band": band} if band else {})}
        banded.append(person)
    return {**document, "persons": banded}
