"""Seizure reports in their two wire forms, JSON and XML, to and from the one model.

The XML form mirrors the JSON one (``specs/xsd/seizure-report.xsd``): member names in PascalCase,
arrays as a container element with one item element per entry. Reading goes: hardened parse →
schema (JSON schema from the spec, or XSD) → model.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from gateway.documents.hardened import parse_json, parse_xml
from gateway.documents.schemas import JsonSchemas, XmlSchemas
from gateway.errors import DocumentError, UnsupportedMediaTypeError
from gateway.model.seizure_report import SeizureReport

XML_NAMESPACE = "urn:customs-gateway:seizure-report:1"
JSON_COMPONENT = "SeizureReport"
XSD_NAME = "seizure-report"
#: JSON array member → XML item element name.
LIST_ITEMS = {
    "transit": "Country",
    "concealment_methods": "Method",
    "detection_methods": "Method",
    "persons": "Person",
    "companies": "Company",
}
#: Members that are JSON objects (an XML element of theirs may be empty, as ``<Route/>``).
OBJECT_MEMBERS = frozenset(
    {
        "office",
        "commodity",
        "quantity",
        "estimated_value",
        "transport",
        "route",
        "document",
        "markings",
    }
)
#: Leaves that are numbers in JSON.
NUMERIC_LEAVES = frozenset({"amount"})


def media_kind(content_type: str) -> str:
    """``json`` or ``xml`` for a Content-Type header value."""
    essence = content_type.split(";", 1)[0].strip().lower()
    if essence == "application/json":
        return "json"
    if essence == "application/xml":
        return "xml"
    raise UnsupportedMediaTypeError(f"{essence!r} is not accepted; use application/json or /xml")


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def xml_to_dict(element: etree._Element) -> dict[str, Any]:
    """The JSON form of an XML element that already passed the XSD."""
    result: dict[str, Any] = {}
    for child in element:
        key = _snake(_local(child))
        if key in LIST_ITEMS:
            result[key] = [xml_to_dict(item) if len(item) else (item.text or "") for item in child]
        elif len(child) or key in OBJECT_MEMBERS:
            result[key] = xml_to_dict(child)
        elif key in NUMERIC_LEAVES:
            result[key] = float(child.text or "0")
        else:
            result[key] = child.text or ""
    return result


def _append(parent: etree._Element, key: str, value: Any) -> None:
    element = etree.SubElement(parent, f"{{{XML_NAMESPACE}}}{_pascal(key)}")
    if key in LIST_ITEMS:
        for item in value:
            _append_item(element, LIST_ITEMS[key], item)
    elif isinstance(value, dict):
        for child_key, child_value in value.items():
            _append(element, child_key, child_value)
    else:
        element.text = repr(value) if isinstance(value, float) else str(value)


def _append_item(parent: etree._Element, name: str, item: Any) -> None:
    element = etree.SubElement(parent, f"{{{XML_NAMESPACE}}}{name}")
    if isinstance(item, dict):
        for key, value in item.items():
            _append(element, key, value)
    else:
        element.text = str(item)


def to_xml(report: SeizureReport) -> bytes:
    """The XML form of ``report`` (member order follows the model, which follows the XSD)."""
    nsmap: Any = {None: XML_NAMESPACE}  # the default namespace; lxml-stubs want str keys
    root = etree.Element(f"{{{XML_NAMESPACE}}}SeizureReport", nsmap=nsmap)
    for key, value in report.to_dict().items():
        _append(root, key, value)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


class SeizureReportReader:
    """Reads a seizure report from bytes in either form; raises a DocumentError subclass."""

    def __init__(
        self, json_schemas: JsonSchemas, xml_schemas: XmlSchemas, *, max_bytes: int, max_depth: int
    ) -> None:
        self._json = json_schemas
        self._xml = xml_schemas
        #: Largest body read (the inbound path applies it to every message type).
        self.max_bytes = max_bytes
        self._max_depth = max_depth

    def read(self, body: bytes, content_type: str) -> SeizureReport:
        if media_kind(content_type) == "json":
            document = parse_json(body, max_bytes=self.max_bytes)
            self._json.check(JSON_COMPONENT, document)
        else:
            root = parse_xml(body, max_bytes=self.max_bytes, max_depth=self._max_depth)
            if etree.QName(root).namespace != XML_NAMESPACE:
                raise DocumentError(f"the root element must be in namespace {XML_NAMESPACE}")
            self._xml.check(XSD_NAME, root)
            document = xml_to_dict(root)
        return SeizureReport.from_dict(document)
