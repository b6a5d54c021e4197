"""Enveloped XML Signatures of documents that carry their own legal signature (PROTOCOL §4):
an electronic certificate of origin is signed by its issuing authority, and that signature is
checked in addition to the transport JWS.

signxml does the XML Signature work; this module only fixes how it is called:

* verification is against certificates pinned for the authority (``partners/`` and the machine's
  key pins), never against a certificate the document brings along nor a CA store;
* exactly one signature, a child of the root, with one reference covering the whole document
  (``URI=""``); RSA or ECDSA with SHA-2 only;
* "see what is signed": the caller continues with the element signxml returns, not with the tree
  it passed in, so nothing outside the signature can be slipped in beside it.

Development authorities (``generate_authority``) are self-signed ECDSA P-256 certificates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidInput, SignXMLException
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, XMLVerifier

from gateway.errors import ConfigurationError, XmlSignatureError
from gateway.files import write_private

SIGNATURE_METHODS = frozenset(
    {
        SignatureMethod.ECDSA_SHA256,
        SignatureMethod.ECDSA_SHA384,
        SignatureMethod.ECDSA_SHA512,
        SignatureMethod.RSA_SHA256,
        SignatureMethod.RSA_SHA384,
        SignatureMethod.RSA_SHA512,
        SignatureMethod.SHA256_RSA_MGF1,
    }
)
DIGEST_ALGORITHMS = frozenset(
    {DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
)
_EXPECTED = SignatureConfiguration(
    location="./",
    expect_references=1,
    signature_methods=SIGNATURE_METHODS,
    digest_algorithms=DIGEST_ALGORITHMS,
)


@dataclass(frozen=True)
class AuthorityCertificate:
    """A certificate pinned for an issuing authority (e.g. JCCI for Japan's EPA certificates)."""

    authority: str
    certificate: x509.Certificate

    @classmethod
    def from_pem(cls, authority: str, pem: str | bytes) -> AuthorityCertificate:
        data = pem.encode() if isinstance(pem, str) else pem
        try:
            certificate = x509.load_pem_x509_certificate(data)
        except ValueError as error:
            raise ConfigurationError(f"{authority}: not a PEM certificate: {error}") from error
        if not isinstance(certificate.public_key(), ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
            raise ConfigurationError(f"{authority}: only RSA and EC certificates are accepted")
        return cls(authority, certificate)

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the DER certificate: how the record names what verified a document."""
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    def valid_on(self, day: date) -> bool:
        return (
            self.certificate.not_valid_before_utc.date()
            <= day
            <= self.certificate.not_valid_after_utc.date()
        )


@dataclass(frozen=True)
class VerifiedXml:
    """What the signature covers (use this, not the input tree) and who signed it."""

    signed: etree._Element
    signed_by: AuthorityCertificate


def verify_enveloped(
    root: etree._Element, pinned: Iterable[AuthorityCertificate], *, on: date
) -> VerifiedXml:
    """Verify the enveloped signature of ``root`` against the pinned certificates valid ``on``
    (the date the authority certified the document); XmlSignatureError otherwise."""
    candidates = [c for c in pinned if c.valid_on(on)]
    if not candidates:
        raise XmlSignatureError(f"no certificate of the issuing authority is pinned for {on}")
    signatures = root.findall("{http://www.w3.org/2000/09/xmldsig#}Signature")
    if len(signatures) != 1 or len(root.findall(".//{*}Signature")) != 1:
        raise XmlSignatureError("the document must carry exactly one XML Signature, on its root")
    last_error: Exception | None = None
    for candidate in candidates:
        try:
            result: Any = XMLVerifier().verify(
                root, x509_cert=candidate.certificate, expect_config=_EXPECTED
            )
        except (InvalidSignature, InvalidInput, SignXMLException) as error:
            last_error = error
            continue
        signed = result.signed_xml
        if signed is None or signed.tag != root.tag:
            raise XmlSignatureError("the signature does not cover the whole document")
        return VerifiedXml(signed, candidate)
    raise XmlSignatureError(
        f"the XML Signature does not verify against the issuing authority's pinned "
        f"certificate: {last_error}"
    )


def sign_enveloped(
    root: etree._Element, private_key_pem: bytes, certificate: AuthorityCertificate
) -> etree._Element:
    """``root`` signed by the authority (a new tree, the signature its last child)."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        method = SignatureMethod.ECDSA_SHA256
    elif isinstance(key, rsa.RSAPrivateKey):
        method = SignatureMethod.RSA_SHA256
    else:
        raise ConfigurationError("an issuing authority signs with an RSA or EC key")
    signer = XMLSigner(signature_algorithm=method, digest_algorithm=DigestAlgorithm.SHA256)
    signed: etree._Element = signer.sign(root, key=key, cert=certificate.pem)
    return signed


def generate_authority(
    name: str, country: str, *, now: datetime | None = None, days: int = 1825
) -> tuple[bytes, AuthorityCertificate]:
    """A development issuing authority: a private key (PEM, unencrypted: keep it under var/,
    mode 0600) and its self-signed certificate."""
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, name[:64]),  # X.520 upper bound
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=400))  # certificates dated up to a year back
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return private_pem, AuthorityCertificate(name, certificate)


def authority_files(keys_dir: Path, administration_id: str) -> tuple[Path, Path]:
    """Where this installation keeps its (development) issuing authority's key and certificate."""
    return (
        keys_dir / f"authority-{administration_id}.key.pem",
        keys_dir / f"authority-{administration_id}.cert.pem",
    )


def write_authority(
    keys_dir: Path,
    administration_id: str,
    private_key_pem: bytes,
    certificate: AuthorityCertificate,
) -> None:
    """Write an authority's private key (never overwriting one) and its certificate, both 0600
    (the keys directory 0700 if it is created here), whatever the umask."""
    key_path, cert_path = authority_files(keys_dir, administration_id)
    write_private(key_path, private_key_pem, exclusive=True)
    write_private(cert_path, f"# {certificate.authority}\n{certificate.pem}")


def read_authority(keys_dir: Path, administration_id: str) -> tuple[bytes, AuthorityCertificate]:
    """The authority's private key and certificate written by :func:`write_authority`."""
    key_path, cert_path = authority_files(keys_dir, administration_id)
    try:
        name_line, _, pem = cert_path.read_text(encoding="utf-8").partition("\n")
        return key_path.read_bytes(), AuthorityCertificate.from_pem(name_line[2:], pem)
    except OSError as error:
        raise ConfigurationError(
            f"no issuing authority key for {administration_id} in {keys_dir} "
            "(create one with `gateway origin authority init`)"
        ) from error
