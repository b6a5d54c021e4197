from __future__ import annotations

import json

import pytest
import xmlschema

from gateway.documents.hardened import parse_json, parse_xml
from gateway.documents.schemas import JsonSchemas, XmlSchemas, load_spec
from gateway.documents.seizure_report import SeizureReportReader, to_xml
from gateway.errors import (
    DocumentError,
    ForbiddenXmlConstructError,
    MalformedBodyError,
    PayloadTooLargeError,
)
from gateway.model.seizure_report import SeizureReport
from gateway.settings import PROJECT_ROOT

XSD = PROJECT_ROOT / "specs" / "xsd" / "seizure-report.xsd"


@pytest.fixture(scope="module")
def reader() -> SeizureReportReader:
    spec = load_spec(PROJECT_ROOT / "specs" / "openapi.yaml")
    return SeizureReportReader(
        JsonSchemas(spec), XmlSchemas(XSD.parent), max_bytes=1_000_000, max_depth=64
    )


def test_json_and_xml_samples_parse_to_the_same_model(reader, sample_json, sample_xml):
    from_json = reader.read(sample_json, "application/json")
    from_xml = reader.read(sample_xml, "application/xml; charset=utf-8")
    assert from_json == from_xml
    assert from_json.persons[0].document is not None


def test_model_round_trips_through_both_forms(reader, sample_json):
    document = json.loads(sample_json)
    report = SeizureReport.from_dict(document)
    assert report.to_dict() == document
    assert reader.read(to_xml(report), "application/xml") == report


def test_xsd_and_sample_check_with_xmlschema_too(sample_xml):
    """An independent XSD processor agrees with lxml's: the schema is valid and the sample follows it."""
    schema = xmlschema.XMLSchema(str(XSD))
    schema.validate(sample_xml.decode())


def test_minimal_report_is_valid(reader):
    minimal = {
        "reporting_administration": "ID",
        "report_id": "DJBC-1",
        "seizure_date": "2026-01-02",
        "office": {"name": "Soekarno-Hatta"},
        "location_type": "airport",
        "direction": "inbound",
        "commodity": {"category": "environment", "type": "pangolin-scales"},
        "quantity": {"amount": 12, "unit": "kg"},
        "transport": {"mode": "air"},
        "route": {},
        "detection_methods": ["x-ray"],
        "markings": {"originator": "ID", "handling_code": "H0", "tlp": "TLP:GREEN"},
    }
    report = reader.read(json.dumps(minimal).encode(), "application/json")
    assert reader.read(to_xml(report), "application/xml") == report


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.pop("markings"), "markings"),
        (lambda d: d["markings"].update(handling_code="H9"), "/markings/handling_code"),
        (lambda d: d["markings"].update(tlp="TLP:WHITE"), "/markings/tlp"),
        (lambda d: d["markings"].pop("originator"), "originator"),
        (lambda d: d["commodity"].update(hs_code="29397"), "/commodity/hs_code"),
        (lambda d: d.update(seizure_date="2026-13-45"), "/seizure_date"),
        (lambda d: d.update(unexpected=True), "unexpected"),
        (lambda d: d["route"].update(origin="mx"), "/route/origin"),
    ],
)
def test_schema_violations_name_the_field(reader, sample_json, change, where):
    document = json.loads(sample_json)
    change(document)
    with pytest.raises(DocumentError) as raised:
        reader.read(json.dumps(document).encode(), "application/json")
    assert where in raised.value.detail


def test_hardened_json_refuses_nan_and_duplicates():
    with pytest.raises(MalformedBodyError):
        parse_json(b'{"a": NaN}', max_bytes=100)
    with pytest.raises(MalformedBodyError, match="twice"):
        parse_json(b'{"a": 1, "a": 2}', max_bytes=100)


def test_size_limit_comes_before_parsing():
    with pytest.raises(PayloadTooLargeError):
        parse_json(b"[" * 200, max_bytes=100)
    with pytest.raises(PayloadTooLargeError):
        parse_xml(b"<a>" * 200, max_bytes=100, max_depth=10)


def test_internal_dtd_without_entities_is_still_refused():
    with pytest.raises(ForbiddenXmlConstructError):
        parse_xml(
            b'<?xml version="1.0"?><!DOCTYPE a [<!ELEMENT a ANY>]><a/>',
            max_bytes=1000,
            max_depth=10,
        )


def test_depth_limit():
    deep = b"<a>" * 20 + b"</a>" * 20
    assert parse_xml(deep, max_bytes=1000, max_depth=20) is not None
    with pytest.raises(ForbiddenXmlConstructError):
        parse_xml(deep, max_bytes=1000, max_depth=19)
