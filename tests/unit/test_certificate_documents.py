"""Certificates of origin: XML and JSON forms agree, the authority's XML Signature is checked,
and signxml's work agrees with an independent implementation (libxmlsec1 through python-xmlsec)."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest
import xmlsec
from lxml import etree

from gateway.documents.certificate_of_origin import (
    XML_FORM,
    CertificateReader,
    check_rules,
    declaration_bytes,
    sign_certificate,
)
from gateway.documents.schemas import JsonSchemas, XmlSchemas, load_spec
from gateway.errors import (
    DocumentError,
    UnsupportedMediaTypeError,
    XmlSignatureError,
)
from gateway.origin.synthetic import authority_name, certificate
from gateway.settings import load_settings
from gateway.trust.xmldsig import AuthorityCertificate, generate_authority

ISSUED = date(2026, 11, 20)
DS = "{http://www.w3.org/2000/09/xmldsig#}"


@pytest.fixture(scope="module")
def reader() -> CertificateReader:
    settings = load_settings(environ={})
    return CertificateReader(
        XmlSchemas(settings.xsd_dir),
        max_bytes=settings.max_body_bytes,
        max_depth=settings.max_xml_depth,
    )


@pytest.fixture(scope="module")
def jp_authority() -> tuple[bytes, AuthorityCertificate]:
    return generate_authority(authority_name("JP"), "JP")


def document(items: int = 3, **changes) -> dict:
    return certificate(
        number="JCCI-2026-000123",
        exporting_party="JP",
        importing_party="ID",
        agreement="JP-ID-EPA",
        issue_date=ISSUED,
        items=items,
        **changes,
    )


def read(reader, body: bytes, pinned):
    return reader.read(body, "application/xml", lambda party: pinned if party == "JP" else [])


@pytest.mark.parametrize("items", [1, 50, 500])
def test_signed_certificate_reads_back_to_its_json_form(reader, jp_authority, items):
    key, pinned = jp_authority
    original = document(items)
    result = read(reader, sign_certificate(original, key, pinned), [pinned])
    assert result.document == original
    assert result.signed_by == pinned


def test_origin_declaration_needs_no_authority_and_reads_back(reader):
    original = document(kind="origin-declaration", declarant="producer")
    assert "issuing_authority" not in original and "certification" not in original
    result = read(reader, declaration_bytes(original), [])
    assert (result.document, result.signed_by) == (original, None)


@pytest.mark.parametrize(
    "issued", ["2026-11-20Z", "2026-11-20+09:00", "12026-11-20", "-2026-11-20"]
)
def test_date_that_the_json_form_cannot_hold_is_refused(reader, issued):
    """xs:date admits a zone and years past 9999 or before 1; the JSON form's "date" does not
    (the same in a seizure report was a 500: test_bad_input.py)."""
    body = declaration_bytes(document(kind="origin-declaration", declarant="producer"))
    changed = body.replace(
        b"<IssueDate>2026-11-20</IssueDate>", f"<IssueDate>{issued}</IssueDate>".encode()
    )
    assert changed != body
    with pytest.raises(DocumentError, match="IssueDate"):
        read(reader, changed, [])


def test_comment_inserted_into_a_signed_value_does_not_truncate_it(reader, jp_authority):
    """The SAML comment attack (CVE-2017-11427 and kin): canonicalisation without comments signs
    "JCCI-2026-000123" either way, so a comment slipped into the value keeps the signature valid,
    and a reader of the element's first text node would see "JCCI-2026". The JSON form is made
    from what signxml verified (canonical, without comments), and the parser now drops comments
    too (the seizure report's reader read the split value: test_bad_input.py)."""
    key, pinned = jp_authority
    original = document()
    body = sign_certificate(original, key, pinned)
    number = original["certificate_number"].encode()
    tampered = body.replace(number, number[:9] + b"<!-- -->" + number[9:], 1)
    assert tampered != body
    result = read(reader, tampered, [pinned])
    assert result.document == original
    assert result.document["certificate_number"] == "JCCI-2026-000123"


def test_tampered_certificate_is_refused(reader, jp_authority):
    key, pinned = jp_authority
    body = sign_certificate(document(), key, pinned)
    tampered = body.replace(b"<Code>", b"<Code>", 1).replace(b"<Count>", b"<Count>9", 1)
    assert tampered != body
    with pytest.raises(XmlSignatureError, match="does not verify"):
        read(reader, tampered, [pinned])


def test_certificate_signed_by_another_key_is_refused(reader, jp_authority):
    _, pinned = jp_authority
    impostor_key, impostor = generate_authority(authority_name("JP"), "JP")
    body = sign_certificate(document(), impostor_key, impostor)
    with pytest.raises(XmlSignatureError, match="does not verify"):
        read(reader, body, [pinned])


def test_certificate_of_an_authority_without_a_pin_is_refused(reader, jp_authority):
    key, pinned = jp_authority
    other = document()
    other["issuing_authority"]["name"] = "Unknown Chamber of Commerce"
    with pytest.raises(XmlSignatureError, match="no certificate is pinned"):
        read(reader, sign_certificate(other, key, pinned), [pinned])


def test_certificate_signed_after_the_pinned_certificate_expired_is_refused(reader):
    key, expired = generate_authority(
        authority_name("JP"), "JP", now=datetime(2020, 1, 1, tzinfo=UTC), days=30
    )
    with pytest.raises(XmlSignatureError, match="no certificate of the issuing authority"):
        read(reader, sign_certificate(document(), key, expired), [expired])


def test_unsigned_certificate_is_refused(reader, jp_authority):
    with pytest.raises(XmlSignatureError, match="exactly one XML Signature"):
        read(reader, XML_FORM.to_bytes(document()), [jp_authority[1]])


def test_signature_moved_off_the_root_is_refused(reader, jp_authority):
    """A signature wrapped elsewhere in the tree could cover less than the whole document."""
    key, pinned = jp_authority
    root = etree.fromstring(sign_certificate(document(), key, pinned))
    signature = root.find(f"{DS}Signature")
    root.remove(signature)
    root.find("{*}Items")[0].append(signature)
    with pytest.raises(DocumentError):
        read(reader, etree.tostring(root), [pinned])


def test_unsigned_item_slipped_in_beside_the_signature_is_refused(reader, jp_authority):
    key, pinned = jp_authority
    root = etree.fromstring(sign_certificate(document(2), key, pinned))
    items = root.find("{*}Items")
    extra = copy.deepcopy(items[0])
    extra.find("{*}Sequence").text = "3"
    items.append(extra)
    with pytest.raises(XmlSignatureError):
        read(reader, etree.tostring(root), [pinned])


def test_declaration_carrying_a_signature_is_refused(reader, jp_authority):
    key, pinned = jp_authority
    signed = etree.fromstring(sign_certificate(document(kind="origin-declaration"), key, pinned))
    with pytest.raises(XmlSignatureError, match="self-certified"):
        read(reader, etree.tostring(signed), [pinned])


def test_json_certificate_is_refused(reader):
    with pytest.raises(UnsupportedMediaTypeError):
        reader.read(b"{}", "application/json", lambda party: [])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["items"][0].update(origin_criterion={"code": "RVC"}), "/items/0"),
        (lambda d: d["items"].reverse(), "numbered 1, 2, 3"),
        (lambda d: d.update(version=2), None),
        (lambda d: d.update(importing_party="JP"), "another party"),
        (lambda d: d["issuing_authority"].update(country="ID"), "exporting party"),
        (lambda d: d.pop("certification"), None),
    ],
    ids=[
        "rvc-without-percentage-and-fob",
        "items-out-of-order",
        "amendment-unstated",
        "importing-itself",
        "foreign-authority",
        "certificate-uncertified",
    ],
)
def test_rules_beyond_the_xsd_are_enforced(reader, jp_authority, change, message):
    key, pinned = jp_authority
    broken = document(3)
    change(broken)
    with pytest.raises(DocumentError, match=message):
        read(reader, sign_certificate(broken, key, pinned), [pinned])


SCHEMA_RULES = [
    lambda d: d["items"][0].update(origin_criterion={"code": "RVC"}),
    lambda d: (
        d["items"][0].update(origin_criterion={"code": "RVC", "percentage": 40.0})
        or d["items"][0].pop("fob_value", None)
    ),
    lambda d: d.update(version=2),
    lambda d: d.update(amendment={"previous_version": 1, "reason": "x"}),
    lambda d: d.pop("certification"),
    lambda d: d.pop("issuing_authority"),
    lambda d: d["declaration"].update(role="producer"),
    lambda d: d.update(kind="origin-declaration"),
]


@pytest.mark.parametrize("change", SCHEMA_RULES)
def test_the_code_rules_and_the_json_schema_refuse_alike(change):
    """What the spec's JSON schema states with oneOf/anyOf, check_rules states in code (the
    reader runs the XSD and check_rules, not the slower JSON schema): both must refuse."""
    settings = load_settings(environ={})
    broken = document(3)
    change(broken)
    with pytest.raises(DocumentError):
        JsonSchemas(load_spec(settings.spec_path)).check("CertificateOfOrigin", broken)
    with pytest.raises(DocumentError):
        check_rules(broken)


def test_the_code_rules_and_the_json_schema_accept_alike():
    settings = load_settings(environ={})
    schemas = JsonSchemas(load_spec(settings.spec_path))
    for made in (
        document(40),
        document(kind="origin-declaration", declarant="importer"),
        document(version=3),
    ):
        schemas.check("CertificateOfOrigin", made)
        check_rules(made)


def test_a_thousand_items_exceed_the_xsd(reader, jp_authority):
    key, pinned = jp_authority
    with pytest.raises(DocumentError):
        read(reader, sign_certificate(document(1000), key, pinned), [pinned])


# --- an independent XML Signature implementation --------------------------------------------


def test_signxml_signature_verifies_with_libxmlsec1(jp_authority):
    key, pinned = jp_authority
    root = etree.fromstring(sign_certificate(document(50), key, pinned))
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(pinned.pem.encode(), xmlsec.constants.KeyDataFormatCertPem)
    context.verify(xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature))
    root.find("{*}Items")[0].find("{*}Description").text = "something else"
    with pytest.raises(xmlsec.Error):
        context.verify(xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature))


def test_libxmlsec1_signature_is_accepted(reader, jp_authority):
    """A partner's authority may sign with another implementation (here libxmlsec1)."""
    key, pinned = jp_authority
    original = document(5)
    root = XML_FORM.to_element(original)
    signature = xmlsec.template.create(
        root, xmlsec.constants.TransformExclC14N, xmlsec.constants.TransformEcdsaSha256
    )
    root.append(signature)
    ref = xmlsec.template.add_reference(signature, xmlsec.constants.TransformSha256, uri="")
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformExclC14N)
    key_info = xmlsec.template.ensure_key_info(signature)
    xmlsec.template.add_x509_data(key_info)
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(key, xmlsec.constants.KeyDataFormatPem)
    context.key.load_cert_from_memory(pinned.pem.encode(), xmlsec.constants.KeyDataFormatCertPem)
    context.sign(signature)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    result = read(reader, body, [pinned])
    assert result.document == original and result.signed_by == pinned
    tampered = body.replace(b"Synthetic Exporter", b"Synthetic Exp0rter")
    with pytest.raises(XmlSignatureError):
        read(reader, tampered, [pinned])


def test_xsd_accepts_what_the_json_schema_accepts_for_generated_certificates(reader):
    """Both schemas hold every generated shape: certificates and declarations, amendments."""
    settings = load_settings(environ={})
    xml = XmlSchemas(settings.xsd_dir)
    json_schemas = JsonSchemas(load_spec(settings.spec_path))
    for seed in range(20):
        kind = "certificate" if seed % 2 else "origin-declaration"
        made = document(items=1 + seed * 3, seed=seed, kind=kind, version=1 + seed % 3)
        json_schemas.check("CertificateOfOrigin", made)
        xml.check("certificate-of-origin", XML_FORM.to_element(made))
        assert XML_FORM.to_dict(XML_FORM.to_element(made)) == made
