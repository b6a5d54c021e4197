"""Certificates of origin and origin declarations: the signed XML wire form to the JSON form.

Reading goes, in order: media type (XML only: the authority's signature lives in the XML) →
hardened parse, whitespace kept (the signature covers it) → XSD → for an authority-issued
certificate, its enveloped XML Signature against the authority's pinned certificates
(:mod:`gateway.trust.xmldsig`) → the JSON form of exactly what was signed → the rules XSD 1.0
cannot state (:func:`check_rules`: the same as the spec's JSON schema states with ``oneOf``/
``anyOf``, plus those no schema states). The XSD and these rules together accept exactly what the
JSON schema accepts (tests/unit/test_certificate_documents.py holds them to it); running the
JSON schema as well would cost ten times the XSD on a 500-item certificate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from lxml import etree

from gateway.documents.hardened import parse_xml
from gateway.documents.schemas import XmlSchemas
from gateway.documents.seizure_report import media_kind
from gateway.documents.xmlform import XmlForm
from gateway.errors import DocumentError, UnsupportedMediaTypeError, XmlSignatureError
from gateway.trust.xmldsig import AuthorityCertificate, sign_enveloped, verify_enveloped

XML_NAMESPACE = "urn:customs-gateway:certificate-of-origin:1"
XSD_NAME = "certificate-of-origin"
JSON_COMPONENT = "CertificateOfOrigin"
MEDIA_TYPE = "application/xml"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
XML_FORM = XmlForm(
    namespace=XML_NAMESPACE,
    root="CertificateOfOrigin",
    list_items={"transit": "Country", "invoices": "Invoice", "items": "Item"},
    object_members=frozenset(
        {
            "amendment",
            "issuing_authority",
            "exporter",
            "producer",
            "importer",
            "consignee",
            "transport",
            "flags",
            "packages",
            "quantity",
            "origin_criterion",
            "fob_value",
            "declaration",
            "certification",
        }
    ),
    integer_leaves=frozenset({"version", "previous_version", "sequence", "count"}),
    number_leaves=frozenset({"amount", "percentage"}),
    boolean_leaves=frozenset(
        {"back_to_back", "issued_retroactively", "third_country_invoicing", "exhibition"}
    ),
)
#: The pinned certificates of an administration's issuing authorities, by administration id.
AuthoritiesOf = Callable[[str], Sequence[AuthorityCertificate]]


@dataclass(frozen=True)
class ReadCertificate:
    """A certificate as verified: its JSON form and, if authority-issued, who signed it."""

    document: dict[str, Any]
    signed_by: AuthorityCertificate | None


class CertificateReader:
    def __init__(
        self,
        xml_schemas: XmlSchemas,
        *,
        max_bytes: int,
        max_depth: int,
    ) -> None:
        self._xml = xml_schemas
        self._max_bytes = max_bytes
        self._max_depth = max_depth

    def read(
        self, body: bytes, content_type: str, authorities_of: AuthoritiesOf
    ) -> ReadCertificate:
        """The verified certificate in ``body``; a DocumentError subclass otherwise
        (XmlSignatureError when its authority's signature does not hold)."""
        if media_kind(content_type) != "xml":
            raise UnsupportedMediaTypeError(
                "a certificate of origin travels as XML (application/xml), which carries the "
                "issuing authority's signature"
            )
        root = parse_xml(
            body, max_bytes=self._max_bytes, max_depth=self._max_depth, keep_whitespace=True
        )
        if etree.QName(root).namespace != XML_NAMESPACE:
            raise DocumentError(f"the root element must be in namespace {XML_NAMESPACE}")
        self._xml.check(XSD_NAME, root)
        signed_by = None
        if _text(root, "Kind") == "certificate":
            verified = verify_enveloped(
                root,
                _authority_certificates(root, authorities_of),
                on=date.fromisoformat(
                    _text(root, "Certification/{*}Date") or _text(root, "IssueDate")
                ),
            )
            root, signed_by = verified.signed, verified.signed_by
        elif root.find(f"{DS}Signature") is not None:
            raise XmlSignatureError(
                "an origin declaration is self-certified: it carries no authority signature"
            )
        document = XML_FORM.to_dict(root)
        check_rules(document)
        return ReadCertificate(document, signed_by)


def _text(root: etree._Element, path: str) -> str:
    """The text of a child element (before the JSON form exists: only what the XSD made sure)."""
    found = root.find(f"{{{XML_NAMESPACE}}}{path}")
    return (found.text or "").strip() if found is not None else ""


def _authority_certificates(
    root: etree._Element, authorities_of: AuthoritiesOf
) -> list[AuthorityCertificate]:
    authority, exporting = _text(root, "IssuingAuthority/{*}Name"), _text(root, "ExportingParty")
    pinned = [c for c in authorities_of(exporting) if c.authority == authority]
    if not pinned:
        raise XmlSignatureError(
            f"no certificate is pinned for the issuing authority {authority!r} of {exporting}"
        )
    return pinned


def check_rules(document: Mapping[str, Any]) -> None:
    """The rules of a certificate beyond its XSD; DocumentError naming the first broken."""
    certified = document["kind"] == "certificate"
    if certified and not {"issuing_authority", "certification"} <= document.keys():
        raise DocumentError("a certificate names its issuing authority and its certification")
    if not certified and {"issuing_authority", "certification"} & document.keys():
        raise DocumentError(
            "an origin declaration is self-certified: no issuing authority, no certification"
        )
    if certified and document["declaration"]["role"] != "exporter":
        raise DocumentError("/declaration/role: a certificate carries the exporter's declaration")
    if (document["version"] > 1) != ("amendment" in document):
        raise DocumentError("/amendment: version 1 is the issue; a later version amends")
    for index, item in enumerate(document["items"]):
        if item["origin_criterion"]["code"] == "RVC" and not (
            "percentage" in item["origin_criterion"] and "fob_value" in item
        ):
            raise DocumentError(
                f"/items/{index}: a regional value content criterion needs its percentage and "
                "the FOB value"
            )
    sequences = [item["sequence"] for item in document["items"]]
    if sequences != list(range(1, len(sequences) + 1)):
        raise DocumentError("/items: items are numbered 1, 2, 3 … in order")
    authority = document.get("issuing_authority")
    if authority is not None and authority["country"] != document["exporting_party"]:
        raise DocumentError("/issuing_authority/country: the authority is of the exporting party")
    amendment = document.get("amendment")
    if amendment is not None and amendment["previous_version"] != document["version"] - 1:
        raise DocumentError("/amendment/previous_version: an amendment replaces the version before")
    if document["exporting_party"] == document["importing_party"]:
        raise DocumentError("/importing_party: the importing party is another party")


def sign_certificate(
    document: Mapping[str, Any], private_key_pem: bytes, certificate: AuthorityCertificate
) -> bytes:
    """The XML form of ``document``, signed by its issuing authority (what an authority's system
    hands to its gateway; used by ``gateway origin sign``, the tests and the benchmark)."""
    signed = sign_enveloped(XML_FORM.to_element(document), private_key_pem, certificate)
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def declaration_bytes(document: Mapping[str, Any]) -> bytes:
    """The XML form of a self-certified origin declaration (nothing to sign)."""
    return XML_FORM.to_bytes(document)
