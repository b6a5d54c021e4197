"""The compiled validator (fastjsonschema) that answers first for seizure reports, on the inbound
path and the hub's bulk feeds, and the reference validator (jsonschema, Draft 2020-12) give the
same answer on the same schema: above all, the compiled one never accepts what the reference
refuses (``check_compiled_first`` trusts its acceptance)."""

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
    "impossible-date": lambda d: d.update(seizure_date="2026-02-30"),
    "amount-as-text": lambda d: d["quantity"].update(amount="12"),
    "extra-member-nested": lambda d: d["quantity"].update(colour="red"),
    "unknown-tlp": lambda d: d["markings"].update(tlp="TLP:PURPLE"),
    "unknown-handling-code": lambda d: d["markings"].update(handling_code="H9"),
    "detection-not-text": lambda d: d.update(detection_methods=[1]),
    "long-office-name": lambda d: d["office"].update(name="O" * 1000),
    "commodity-without-type": lambda d: d["commodity"].pop("type"),
    "report-id-empty": lambda d: d.update(report_id=""),
    "route-not-an-object": lambda d: d.update(route=["KR"]),
    # Python's $ matches before a final newline; ECMA-262's, and fastjsonschema's, does not
    "country-with-a-trailing-newline": lambda d: d["route"].update(origin="MX\n"),
    "originator-with-a-trailing-newline": lambda d: d["markings"].update(originator="KR\n"),
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


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_compiled_first_refuses_with_the_reference_validators_reason(name):
    broken = copy.deepcopy(GENERATED[0])
    MUTATIONS[name](broken)
    with pytest.raises(DocumentError) as reference:
        SCHEMAS.check("SeizureReport", broken)
    with pytest.raises(DocumentError) as compiled_first:
        SCHEMAS.check_compiled_first("SeizureReport", broken)
    assert compiled_first.value.detail == reference.value.detail


def test_compiled_first_accepts_what_the_reference_accepts():
    for document in GENERATED:
        SCHEMAS.check_compiled_first("SeizureReport", document)
