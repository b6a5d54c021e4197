"""The seizure report, after the WCO Customs Enforcement Network practice (pure data, no I/O).

Both wire forms, JSON and XML, become this one model (:mod:`gateway.documents.seizure_report`).
``from_dict`` expects a document that already passed its schema; ``to_dict`` gives back the JSON
form, omitting absent optional fields, so ``from_dict(d).to_dict() == d`` for a valid ``d``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


def _drop_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None and v != []}


@dataclass(frozen=True)
class Markings:
    """Who originated the information and how it may be handled (SIENA code, TLP 2.0 label)."""

    originator: str
    handling_code: str
    tlp: str
    conditions: str | None = None


@dataclass(frozen=True)
class Office:
    """The seizing office: its name (free text, withheld where the basis allows no personal data)
    and its UN/LOCODE; either may be absent from a released report."""

    name: str | None = None
    locode: str | None = None


@dataclass(frozen=True)
class Commodity:
    category: str
    type: str
    hs_code: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Amount:
    """A quantity (``unit``) or a monetary value (``currency``)."""

    amount: float
    unit: str


@dataclass(frozen=True)
class Transport:
    mode: str
    conveyance: str | None = None


@dataclass(frozen=True)
class Route:
    origin: str | None = None
    departure: str | None = None
    transit: tuple[str, ...] = ()
    destination: str | None = None
    departure_port: str | None = None
    arrival_port: str | None = None


@dataclass(frozen=True)
class IdentityDocument:
    type: str
    number: str
    issuing_country: str | None = None


@dataclass(frozen=True)
class Person:
    """A person involved. ``name``, ``date_of_birth`` and ``document`` are personal data."""

    role: str
    name: str | None = None
    nationality: str | None = None
    sex: str | None = None
    date_of_birth: date | None = None
    age_band: str | None = None
    document: IdentityDocument | None = None


@dataclass(frozen=True)
class Company:
    role: str
    name: str
    country: str | None = None
    registration_number: str | None = None


@dataclass(frozen=True)
class SeizureReport:
    reporting_administration: str
    report_id: str
    seizure_date: date
    office: Office
    location_type: str
    direction: str
    commodity: Commodity
    quantity: Amount
    transport: Transport
    route: Route
    detection_methods: tuple[str, ...]
    markings: Markings
    estimated_value: Amount | None = None
    concealment_methods: tuple[str, ...] = ()
    persons: tuple[Person, ...] = ()
    companies: tuple[Company, ...] = ()
    summary: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SeizureReport:
        value = d.get("estimated_value")
        return cls(
            reporting_administration=d["reporting_administration"],
            report_id=d["report_id"],
            seizure_date=date.fromisoformat(d["seizure_date"]),
            office=Office(**d["office"]),
            location_type=d["location_type"],
            direction=d["direction"],
            commodity=Commodity(**d["commodity"]),
            quantity=Amount(float(d["quantity"]["amount"]), d["quantity"]["unit"]),
            estimated_value=Amount(float(value["amount"]), value["currency"]) if value else None,
            transport=Transport(**d["transport"]),
            route=Route(**{**d["route"], "transit": tuple(d["route"].get("transit", ()))}),
            concealment_methods=tuple(d.get("concealment_methods", ())),
            detection_methods=tuple(d["detection_methods"]),
            persons=tuple(_person(p) for p in d.get("persons", ())),
            companies=tuple(Company(**c) for c in d.get("companies", ())),
            markings=Markings(**d["markings"]),
            summary=d.get("summary"),
        )

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(
            {
                "reporting_administration": self.reporting_administration,
                "report_id": self.report_id,
                "seizure_date": self.seizure_date.isoformat(),
                "office": _drop_none(vars(self.office).copy()),
                "location_type": self.location_type,
                "direction": self.direction,
                "commodity": _drop_none(vars(self.commodity).copy()),
                "quantity": {"amount": self.quantity.amount, "unit": self.quantity.unit},
                "estimated_value": (
                    {"amount": self.estimated_value.amount, "currency": self.estimated_value.unit}
                    if self.estimated_value
                    else None
                ),
                "transport": _drop_none(vars(self.transport).copy()),
                "route": _drop_none({**vars(self.route), "transit": list(self.route.transit)}),
                "concealment_methods": list(self.concealment_methods),
                "detection_methods": list(self.detection_methods),
                "persons": [_person_dict(p) for p in self.persons],
                "companies": [_drop_none(vars(c).copy()) for c in self.companies],
                "markings": _drop_none(vars(self.markings).copy()),
                "summary": self.summary,
            }
        )


def _person(d: dict[str, Any]) -> Person:
    born = d.get("date_of_birth")
    document = d.get("document")
    return Person(
        role=d["role"],
        name=d.get("name"),
        nationality=d.get("nationality"),
        sex=d.get("sex"),
        date_of_birth=date.fromisoformat(born) if born else None,
        age_band=d.get("age_band"),
        document=IdentityDocument(**document) if document else None,
    )


def _person_dict(p: Person) -> dict[str, Any]:
    return _drop_none(
        {
            "role": p.role,
            "name": p.name,
            "nationality": p.nationality,
            "sex": p.sex,
            "date_of_birth": p.date_of_birth.isoformat() if p.date_of_birth else None,
            "age_band": p.age_band,
            "document": _drop_none(vars(p.document).copy()) if p.document else None,
        }
    )
