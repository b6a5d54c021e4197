"""Synthetic certificates of origin, seeded and reproducible, for tests, the demo and the
benchmark. Every name and address is generated: no real trader or person appears."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

_GOODS = (
    ("854140", "Photovoltaic cells, assembled in modules", "KGM", "CTH"),
    ("870899", "Parts of motor vehicles: brake assemblies", "NAR", "RVC"),
    ("400122", "Technically specified natural rubber (TSNR)", "KGM", "WO"),
    ("030617", "Frozen shrimps and prawns", "KGM", "WO"),
    ("611020", "Jerseys and pullovers of cotton, knitted", "NAR", "CTC"),
    ("847130", "Portable data-processing machines", "NAR", "RVC"),
    ("090111", "Coffee, not roasted, not decaffeinated", "KGM", "WO"),
    ("392690", "Articles of plastics: precision housings", "KGM", "CTSH"),
    ("720851", "Flat-rolled products of iron, hot-rolled", "KGM", "PE"),
    ("220300", "Beer made from malt", "LTR", "CTH"),
)
_PORTS = {"JP": "JPYOK", "ID": "IDTPP", "TH": "THLCH", "VN": "VNSGN", "MY": "MYPKG"}
_AUTHORITIES = {
    "JP": "Japan Chamber of Commerce and Industry",
    "ID": "Ministry of Trade of the Republic of Indonesia",
    "TH": "Department of Foreign Trade, Ministry of Commerce, Thailand",
}


def authority_name(party: str) -> str:
    """The issuing authority the demo and the tests use for ``party``."""
    return _AUTHORITIES.get(party, f"Issuing Authority of {party}")


def _party(rng: random.Random, role: str, country: str) -> dict[str, str]:
    serial = rng.randrange(1000, 9999)
    return {
        "name": f"Synthetic {role.title()} Co. No. {serial}",
        "address": f"{rng.randrange(1, 99)}-{rng.randrange(1, 30)} Example District, Test City",
        "country": country,
        "identifier": f"{country}-TID-{serial}",
    }


def certificate(
    *,
    number: str,
    exporting_party: str,
    importing_party: str,
    agreement: str,
    issue_date: date,
    items: int = 3,
    seed: int = 0,
    kind: str = "certificate",
    version: int = 1,
    amendment_reason: str = "corrected quantity of item 1",
    declarant: str = "exporter",
) -> dict[str, Any]:
    """The JSON form of a certificate (``kind`` certificate) or a self-certified origin
    declaration, valid against the spec's schema; version > 1 carries its amendment."""
    rng = random.Random(f"{number}/{seed}")  # reproducible test data  # nosec B311
    lines = []
    for sequence in range(1, items + 1):
        hs, description, unit, criterion = _GOODS[rng.randrange(len(_GOODS))]
        line: dict[str, Any] = {
            "sequence": sequence,
            "marks": f"N/M {sequence}",
            "packages": {"count": rng.randrange(1, 400), "kind": "cartons"},
            "description": description,
            "hs_code": hs,
            "quantity": {
                "amount": float(rng.randrange(10, 50_000)) + (version - 1) * 0.5,
                "unit": unit,
            },
            "origin_criterion": {"code": criterion},
        }
        if criterion == "RVC":
            line["origin_criterion"]["percentage"] = float(rng.randrange(40, 80))
            line["fob_value"] = {"amount": float(rng.randrange(1_000, 900_000)), "currency": "USD"}
        line["invoice_number"] = f"INV-{number}-1"
        lines.append(line)
    document: dict[str, Any] = {
        "kind": kind,
        "certificate_number": number,
        "version": version,
    }
    if version > 1:
        document["amendment"] = {"previous_version": version - 1, "reason": amendment_reason}
    document |= {
        "agreement": agreement,
        "issue_date": issue_date.isoformat(),
        "exporting_party": exporting_party,
        "importing_party": importing_party,
    }
    if kind == "certificate":
        document["issuing_authority"] = {
            "name": authority_name(exporting_party),
            "country": exporting_party,
        }
    document |= {
        "exporter": _party(rng, "exporter", exporting_party),
        "producer": _party(rng, "producer", exporting_party),
        "importer": _party(rng, "importer", importing_party),
        "consignee": _party(rng, "consignee", importing_party),
        "transport": {
            "mode": "sea",
            "departure_date": (issue_date + timedelta(days=2)).isoformat(),
            "vessel_or_flight": f"SYNTHETIC MARU V.{rng.randrange(100, 999)}",
            "port_of_loading": _PORTS.get(exporting_party, f"{exporting_party}XXX"),
            "port_of_discharge": _PORTS.get(importing_party, f"{importing_party}XXX"),
        },
        "invoices": [{"number": f"INV-{number}-1", "date": issue_date.isoformat()}],
        "flags": {
            "back_to_back": False,
            "issued_retroactively": False,
            "third_country_invoicing": False,
            "exhibition": False,
        },
        "items": lines,
        "declaration": {
            "role": declarant if kind == "origin-declaration" else "exporter",
            "place": "Test City",
            "date": issue_date.isoformat(),
            "signatory": f"Synthetic Signatory {rng.randrange(100, 999)}",
        },
    }
    if kind == "certificate":
        document["certification"] = {
            "place": "Test City",
            "date": issue_date.isoformat(),
            "officer": f"Certifying Officer {rng.randrange(100, 999)}",
        }
    return document
