"""The compiled validator used for the hub's bulk feeds and the reference validator (jsonschema,
Draft 2020-12) give the same answer on the same schema."""

from __future__ import annotations

import copy

import pytest

from gateway.documents.schemas import JsonSchemas, load_spec
from gateway.errors import DocumentError
from gateway.rilo.synthetic import reports
from gateway.settings import load_settings

SCHEMAS = JsonSchemas(load_spec(load_settings(environ={}).spec_path))
GENERATED = list(reports(300, seed=11))

MUTATIONS = {
    "negative-amount": lambda d: d["quantity"].update(amount=-1),
    "unknown-unit": lambda d: d["quantity"].update(unit="bags"),
    "bad-date": lambda d: d.update(seizure_date="2026-02-30x"),
    "extra-member": lambda d: d.update(colour="red"),
    "no-markings": lambda d: d.pop("markings"),
    "lower-case-country": lambda d: d["route"].update(origin="jp"),
    "empty-detection": lambda d: d.update(detection_methods=[]),
    "bad-category": lambda d: d["commodity"].update(category="weapons"),
    "long-report-id": lambda d: d.update(report_id="R" * 65),
    "person-without-role": lambda d: d.update(persons=[{"name": "Synthetic"}]),
}


def reference_valid(document) -> bool:
    try:
        SCHEMAS.check("SeizureReport", document)
    except DocumentError:
        return False
    return True


def test_generated_reports_are_valid_for_both():
    for document in GENERATED:
        assert SCHEMAS.is_valid("SeizureReport", document) and reference_valid(document)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_broken_reports_are_invalid_for_both(name):
    for document in GENERATED[:20]:
        broken = copy.deepcopy(document)
        MUTATIONS[name](broken)
        assert SCHEMAS.is_valid("SeizureReport", broken) is reference_valid(broken) is False
