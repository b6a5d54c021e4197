"""Seizure reports in their two wire forms, JSON and XML, to and from the one model.

The XML form mirrors the JSON one (``specs/xsd/seizure-report.xsd``): member names in PascalCase,
arrays as a container element with one item element per entry. Reading goes: hardened parse →
schema (JSON schema from the spec, or XSD) → model.
"""

from __future__ import annotations

from lxml import etree

from gateway.documents.hardened import parse_json, parse_xml
from gateway.documents.schemas import JsonSchemas, XmlSchemas
from gateway.documents.xmlform import XmlForm
from gateway.errors import DocumentError, UnsupportedMediaTypeError
from gateway.model.seizure_report import SeizureReport

XML_NAMESPACE = "urn:customs-gateway:seizure-report:1"
JSON_COMPONENT = "SeizureReport"
XSD_NAME = "seizure-report"
XML_FORM = XmlForm(
    namespace=XML_NAMESPACE,
    root="SeizureReport",
    list_items={
        "transit": "Country",
        "concealment_methods": "Method",
        "detection_methods": "Method",
        "persons": "Person",
        "companies": "Company",
    },
    object_members=frozenset(
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
    ),
    number_leaves=frozenset({"amount"}),
)


def media_kind(content_type: str) -> str:
    """``json`` or ``xml`` for a Content-Type header value; UnsupportedMediaTypeError for any
    other type, or for a charset other than UTF-8 (bodies are read as UTF-8: JSON is, RFC 8259
    §8.1, and a body declared otherwise would be read as other text than its sender meant)."""
    essence, *parameters = (part.strip() for part in content_type.split(";"))
    essence = essence.lower()
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaTypeError(
                f"charset={value.strip()} is not accepted: message bodies are UTF-8"
            )
    if essence == "application/json":
        return "json"
    if essence == "application/xml":
        return "xml"
    raise UnsupportedMediaTypeError(f"{essence!r} is not accepted; use application/json or /xml")


def to_xml(report: SeizureReport) -> bytes:
    """The XML form of ``report`` (member order follows the model, which follows the XSD)."""
    return XML_FORM.to_bytes(report.to_dict())


class SeizureReportReader:
    """Reads a seizure report from bytes in either form; raises a DocumentError subclass."""

    def __init__(
        self,
        json_schemas: JsonSchemas,
        xml_schemas: XmlSchemas,
        *,
        max_bytes: int,
        max_xml_depth: int,
        max_json_depth: int,
    ) -> None:
        self._json = json_schemas
        self._xml = xml_schemas
        #: Largest body and deepest JSON read (the inbound path applies them to every message type).
        self.max_bytes = max_bytes
        self.max_json_depth = max_json_depth
        self._max_xml_depth = max_xml_depth

    def read(self, body: bytes, content_type: str) -> SeizureReport:
        if media_kind(content_type) == "json":
            document = parse_json(body, max_bytes=self.max_bytes, max_depth=self.max_json_depth)
            self._json.check_compiled_first(JSON_COMPONENT, document)
        else:
            root = parse_xml(body, max_bytes=self.max_bytes, max_depth=self._max_xml_depth)
            if etree.QName(root).namespace != XML_NAMESPACE:
                raise DocumentError(f"the root element must be in namespace {XML_NAMESPACE}")
            self._xml.check(XSD_NAME, root)
            document = XML_FORM.to_dict(root)
        return SeizureReport.from_dict(document)
