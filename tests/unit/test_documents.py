from __future__ import annotations

import json
import re

import pytest
import xmlschema

from gateway.documents.hardened import (
    MAX_EXACT_INTEGER,
    exact_integer,
    finite_number,
    parse_json,
    parse_xml,
)
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
        JsonSchemas(spec),
        XmlSchemas(XSD.parent),
        max_bytes=1_000_000,
        max_xml_depth=64,
        max_json_depth=32,
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
        parse_json(b'{"a": NaN}', max_bytes=100, max_depth=8)
    with pytest.raises(MalformedBodyError, match="twice"):
        parse_json(b'{"a": 1, "a": 2}', max_bytes=100, max_depth=8)


def test_json_numbers_keep_to_i_json_and_their_values():
    """Within the bounds the values are exactly what the default parser gives."""
    text = f"[{MAX_EXACT_INTEGER}, -{MAX_EXACT_INTEGER}, 0, -0, 1.5e308, 5e-324, 1E2, 0.1]"
    assert parse_json(text.encode(), max_bytes=1000, max_depth=8) == json.loads(text)
    for beyond in (f"{MAX_EXACT_INTEGER + 1}", f"-{MAX_EXACT_INTEGER + 1}", "1e309", "-1e309"):
        with pytest.raises(DocumentError, match="out of range"):
            parse_json(f"[{beyond}]".encode(), max_bytes=1000, max_depth=8)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("+42", 42),
        ("-42", -42),
        ("0", 0),
        ("-0", 0),
        (" 7 ", 7),
        ("0" * 5000 + "1", 1),
        (str(MAX_EXACT_INTEGER), MAX_EXACT_INTEGER),
    ],
)
def test_exact_integer_reads_what_xsd_integers_allow(text, value):
    """Signs and leading zeros (xs:integer allows both) do not count against the bound."""
    assert exact_integer(text) == value


@pytest.mark.parametrize("text", [str(MAX_EXACT_INTEGER + 1), "9" * 5000, "-" + "9" * 17])
def test_exact_integer_refuses_magnitudes_beyond_a_double_without_converting_them(text):
    with pytest.raises(DocumentError, match="out of range"):
        exact_integer(text)


@pytest.mark.parametrize("text", ["INF", "-INF", "NaN", "1e999", "9" * 400])
def test_finite_number_refuses_what_is_not_a_finite_double(text):
    """xs:double's INF and NaN, and decimals that overflow a double (xs:decimal is unbounded)."""
    with pytest.raises(DocumentError, match="out of range"):
        finite_number(text)
    assert finite_number("1e308") == 1e308


def test_json_nesting_is_limited_before_and_beyond_the_interpreters_stack():
    """Level 1 is the outermost array or object; far beyond the limit the parser itself would
    overflow Python's stack (a RecursionError, once a 500): the same refusal either way."""
    assert parse_json(b"[" * 8 + b"]" * 8, max_bytes=1000, max_depth=8) == [[[[[[[[]]]]]]]]
    assert parse_json(b'{"a": [1, {"b": [2]}], "c": 3}', max_bytes=1000, max_depth=4)
    for depth in (9, 100_000):
        with pytest.raises(MalformedBodyError, match="nested deeper than 8 levels"):
            parse_json(b"[" * depth + b"]" * depth, max_bytes=10**6, max_depth=8)
    with pytest.raises(MalformedBodyError, match="nested deeper than 3 levels"):
        parse_json(b'{"a": [1, {"b": [2]}]}', max_bytes=1000, max_depth=3)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (b'{"a": "x\\ud800y"}', "U+D800, a lone surrogate"),
        (b'{"\\udfff": 1}', "U+DFFF, a lone surrogate"),
        (b'["\\ude00\\ud83d"]', "U+DE00, a lone surrogate"),  # a pair in the wrong order
        ('["\ufffe"]'.encode(), "U+FFFE, a noncharacter"),  # raw, in UTF-8
        (b'["\\ufdd0"]', "U+FDD0, a noncharacter"),
        ('[["\U0010ffff"]]'.encode(), "U+10FFFF, a noncharacter"),
        (b'{"a": ["\\u0000"]}', "NUL"),
    ],
)
def test_json_text_that_is_not_unicode_text_is_refused(text, named):
    with pytest.raises(MalformedBodyError, match=re.escape(named)):
        parse_json(text, max_bytes=1000, max_depth=8)


def test_json_text_with_escapes_and_astral_characters_is_kept():
    text = '{"a": "caf\\u00e9 \\ud83d\\ude00 \U0001f600 \u6771\u4eac"}'.encode()
    assert parse_json(text, max_bytes=1000, max_depth=8) == {"a": "café 😀 😀 東京"}


def test_size_limit_comes_before_parsing():
    with pytest.raises(PayloadTooLargeError):
        parse_json(b"[" * 200, max_bytes=100, max_depth=8)
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
