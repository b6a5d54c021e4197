"""The partner registry: who the gateway talks to, under which frameworks, with which keys.

Loaded once at start from ``partners/*.yaml`` (committed, schema-checked against
``partners/schema.json``) plus the machine-local key pins ``<key_pins_dir>/<ID>.jwks.json``.
A file that does not check stops the start: the gateway never runs with part of a registry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gateway.errors import ConfigurationError, UnknownPartnerError
from gateway.files import write_private
from gateway.trust.keys import PinnedKey, read_jwk_file
from gateway.trust.xmldsig import AuthorityCertificate
from gateway.yamlconfig import load_checked

FRAMEWORK_TYPES = ("CMAA", "EPA", "CPTPP", "AA", "OTHER")
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "partners" / "schema.json"


def _month_start(text: str) -> date:
    """``YYYY-MM`` → its first day (entry into force within a month is dated from the 1st)."""
    parts = [int(p) for p in text.split("-")]
    return date(parts[0], parts[1], parts[2] if len(parts) == 3 else 1)


@dataclass(frozen=True)
class Framework:
    """One legal basis for exchange with a partner (a row of agreements.csv)."""

    type: str
    in_force: date
    ends: date | None = None
    #: The revision that brought in the FY2012 provisions, for a framework older than them.
    revised: date | None = None
    fy2012_enhanced: bool = False
    note: str = ""
    #: The agreement's code, as certificates of origin name it (``JP-ID-EPA``, ``CPTPP``).
    agreement: str | None = None

    def in_force_on(self, day: date) -> bool:
        return self.in_force <= day and (self.ends is None or day <= self.ends)

    @property
    def fy2012_from(self) -> date | None:
        """From when the framework carries the FY2012 provisions: the revision that brought them
        in where there was one (India's EPA of 2011 from its 2022 revision), else its entry into
        force; None if it never did."""
        if not self.fy2012_enhanced:
            return None
        return self.revised or self.in_force

    def fy2012_on(self, day: date) -> bool:
        """Whether the framework is in force on ``day`` and carries the FY2012 provisions then."""
        start = self.fy2012_from
        return start is not None and start <= day and self.in_force_on(day)


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    kind: str
    rilo_ap_member: bool
    endpoint: str | None
    frameworks: tuple[Framework, ...]
    keys: tuple[PinnedKey, ...] = field(default_factory=tuple)
    #: Delivery limits of this partner (max_attempts, backoff_base_seconds, backoff_cap_seconds).
    delivery: Mapping[str, Any] = field(default_factory=dict)
    #: Pinned certificates of the authorities issuing this administration's certificates of origin.
    authorities: tuple[AuthorityCertificate, ...] = field(default_factory=tuple)

    @property
    def pulls(self) -> bool:
        """The partner fetches its messages (GET /v1/inbox) instead of receiving pushes."""
        return self.delivery.get("mode") == "pull"

    def frameworks_in_force(self, day: date) -> tuple[Framework, ...]:
        return tuple(f for f in self.frameworks if f.in_force_on(day))


@dataclass(frozen=True)
class Registry:
    partners: Mapping[str, Partner]

    def get(self, partner_id: str) -> Partner:
        """The partner, or UnknownPartnerError (also for this gateway's own id)."""
        partner = self.partners.get(partner_id)
        if partner is None or partner.kind == "self":
            raise UnknownPartnerError(f"{partner_id!r} is not a partner of this gateway")
        return partner

    def keys_of(self, partner_id: str) -> tuple[PinnedKey, ...]:
        return self.get(partner_id).keys

    def authorities_of(self, administration_id: str) -> tuple[AuthorityCertificate, ...]:
        """The pinned issuing-authority certificates of a partner or of this gateway's own
        administration (whose certificates it checks before sending them); () if unknown."""
        administration = self.partners.get(administration_id)
        return administration.authorities if administration is not None else ()

    def __iter__(self) -> Iterator[Partner]:
        return iter(self.partners.values())

    @classmethod
    def load(cls, registry_dir: Path, key_pins_dir: Path | None = None) -> Registry:
        """Every ``*.yaml`` in ``registry_dir``, checked against the project's partner schema."""
        schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
        partners: dict[str, Partner] = {}
        for path in sorted(registry_dir.glob("*.yaml")):
            data = load_checked(path, schema)
            if data["id"] != path.stem:
                raise ConfigurationError(f"{path}: id {data['id']!r} differs from the file name")
            pins = _pinned_keys(key_pins_dir, data["id"]) if key_pins_dir else []
            authorities = _authorities(path, data, key_pins_dir)
            partners[data["id"]] = _partner(path, data, pins, authorities)
        if not partners:
            raise ConfigurationError(f"{registry_dir}: no partner files")
        return cls(partners)


def _pinned_keys(key_pins_dir: Path, partner_id: str) -> list[dict[str, Any]]:
    path = key_pins_dir / f"{partner_id}.jwks.json"
    if not path.exists():
        return []
    data = read_jwk_file(path)
    keys = data.get("keys")
    if not isinstance(keys, list):
        raise ConfigurationError(f"{path}: a JWKS has a 'keys' list")
    return keys


def _authority_pins_path(key_pins_dir: Path, administration_id: str) -> Path:
    return key_pins_dir / f"{administration_id}.authorities.json"


def _authority_pins(key_pins_dir: Path, administration_id: str) -> list[dict[str, Any]]:
    path = _authority_pins_path(key_pins_dir, administration_id)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"{path}: {error}") from error
    if not isinstance(data, list):
        raise ConfigurationError(f"{path}: a list of {{name, certificate}} pins")
    return data


def _authorities(
    path: Path, data: Mapping[str, Any], key_pins_dir: Path | None
) -> tuple[AuthorityCertificate, ...]:
    entries = [
        (authority["name"], pem)
        for authority in data.get("issuing_authorities", [])
        for pem in authority["certificates"]
    ]
    if key_pins_dir is not None:
        entries += [
            (p["name"], p["certificate"]) for p in _authority_pins(key_pins_dir, data["id"])
        ]
    try:
        return tuple(AuthorityCertificate.from_pem(name, pem) for name, pem in entries)
    except (ConfigurationError, KeyError, TypeError) as error:
        raise ConfigurationError(f"{path} ({data['id']}): issuing authority: {error}") from error


def add_authority_certificate(
    key_pins_dir: Path, administration_id: str, certificate: AuthorityCertificate
) -> None:
    """Pin an issuing authority's certificate on this installation (idempotent; rotation: pin
    the new one beside the old, which stays valid until its own not-after date)."""
    existing = _authority_pins(key_pins_dir, administration_id)
    kept = [p for p in existing if p.get("certificate") != certificate.pem]
    write_private(
        _authority_pins_path(key_pins_dir, administration_id),
        json.dumps(
            [*kept, {"name": certificate.authority, "certificate": certificate.pem}], indent=2
        ),
    )


def _partner(
    path: Path,
    data: Mapping[str, Any],
    pins: list[dict[str, Any]],
    authorities: tuple[AuthorityCertificate, ...] = (),
) -> Partner:
    try:
        frameworks = tuple(
            Framework(
                type=f["type"],
                in_force=_month_start(f["in_force"]),
                ends=_month_start(f["ends"]) if f.get("ends") else None,
                revised=_month_start(f["revised"]) if f.get("revised") else None,
                fy2012_enhanced=f["fy2012_enhanced"],
                note=f.get("note", ""),
                agreement=f.get("agreement"),
            )
            for f in data["frameworks"]
        )
    except ValueError as error:
        raise ConfigurationError(f"{path}: a framework date is not a date: {error}") from error
    keys: dict[str, PinnedKey] = {}
    for jwk in [*data["keys"], *pins]:
        try:
            key = PinnedKey.from_jwk(jwk)
        except ConfigurationError as error:
            raise ConfigurationError(f"{path} ({data['id']}): {error.detail}") from error
        keys[key.kid] = key
    return Partner(
        id=data["id"],
        name=data["name"],
        kind=data["kind"],
        rilo_ap_member=data["rilo_ap_member"],
        endpoint=data.get("endpoint"),
        frameworks=frameworks,
        keys=tuple(keys.values()),
        delivery=data.get("delivery", {}),
        authorities=authorities,
    )


def pinned_keys(key_pins_dir: Path, partner_id: str) -> tuple[PinnedKey, ...]:
    """The keys pinned on this installation for ``partner_id`` (also for this gateway's own id,
    which the registry itself does not serve)."""
    return tuple(PinnedKey.from_jwk(jwk) for jwk in _pinned_keys(key_pins_dir, partner_id))


def add_pinned_key(key_pins_dir: Path, partner_id: str, jwk: Mapping[str, Any]) -> PinnedKey:
    """Pin a partner's public key on this installation (rotation: pin the new one, then retire
    the old one by pinning it again with ``exp``). A JWK with a private part is refused: a
    partner never hands over its private key. Returns the pinned key."""
    key = PinnedKey.from_jwk(jwk)
    path = key_pins_dir / f"{partner_id}.jwks.json"
    existing = _pinned_keys(key_pins_dir, partner_id) if path.exists() else []
    kept = [k for k in existing if PinnedKey.from_jwk(k).kid != key.kid]
    write_private(path, json.dumps({"keys": [*kept, dict(key.public_jwk)]}, indent=2))
    return key
