"""Synthetic seizure reports with realistic distributions, seeded and reproducible: commodities
of the WCO Illicit Trade Report sections with their usual units and sizes, routes across the
Asia/Pacific region from plausible origins, modes and concealments that fit the commodity, a
seasonal rhythm, and a share of seizures reported twice (by the departure and the destination
member). For tests, the demo and the benchmarks; every name in them is generated."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any

#: RILO A/P members that report in the generated data.
MEMBERS = ("JP", "KR", "CN", "HK", "SG", "MY", "TH", "ID", "VN", "PH", "AU", "NZ", "IN", "MN")

# category, type, unit, typical size (lognormal median), origins, modes, concealments, weight
_COMMODITIES: tuple[
    tuple[str, str, str, float, tuple[str, ...], tuple[str, ...], tuple[str, ...], int], ...
] = (
    (
        "drugs",
        "methamphetamine",
        "kg",
        4.0,
        ("MM", "LA", "MX", "IR"),
        ("sea", "air", "express-courier", "passenger-air"),
        ("cargo", "baggage", "express-parcel", "container-structure"),
        22,
    ),
    (
        "drugs",
        "cocaine",
        "kg",
        6.0,
        ("PE", "CO", "BO", "MX"),
        ("sea", "passenger-air", "express-courier"),
        ("container-structure", "baggage", "internal-body"),
        9,
    ),
    (
        "drugs",
        "heroin",
        "kg",
        2.0,
        ("MM", "AF", "LA"),
        ("passenger-air", "road", "postal"),
        ("body-carry", "baggage", "mail-item"),
        5,
    ),
    (
        "drugs",
        "cannabis",
        "kg",
        1.5,
        ("TH", "US", "CA", "PH"),
        ("postal", "express-courier", "passenger-air"),
        ("mail-item", "express-parcel", "baggage"),
        14,
    ),
    (
        "drugs",
        "mdma",
        "tablets",
        800.0,
        ("NL", "BE", "DE"),
        ("postal", "express-courier", "passenger-air"),
        ("mail-item", "express-parcel"),
        6,
    ),
    (
        "drugs",
        "ketamine",
        "kg",
        3.0,
        ("IN", "CN", "MY"),
        ("sea", "air", "express-courier"),
        ("cargo", "false-declaration"),
        5,
    ),
    (
        "environment",
        "ivory",
        "kg",
        40.0,
        ("NG", "MZ", "KE", "CD"),
        ("sea", "air"),
        ("container-structure", "cargo", "false-declaration"),
        2,
    ),
    (
        "environment",
        "pangolin-scales",
        "kg",
        120.0,
        ("NG", "CM", "CD"),
        ("sea",),
        ("container-structure", "false-declaration"),
        2,
    ),
    (
        "environment",
        "rosewood",
        "kg",
        5000.0,
        ("MG", "LA", "KH"),
        ("sea",),
        ("cargo", "false-declaration"),
        1,
    ),
    (
        "environment",
        "live-reptiles",
        "pieces",
        30.0,
        ("ID", "MY", "MG"),
        ("passenger-air", "postal"),
        ("baggage", "mail-item"),
        3,
    ),
    (
        "ipr-health-safety",
        "counterfeit-medicines",
        "tablets",
        5000.0,
        ("IN", "CN", "PK"),
        ("postal", "express-courier", "sea"),
        ("mail-item", "express-parcel", "cargo"),
        8,
    ),
    (
        "ipr-health-safety",
        "counterfeit-watches",
        "pieces",
        150.0,
        ("CN", "HK", "TR"),
        ("express-courier", "sea", "passenger-air"),
        ("express-parcel", "cargo", "baggage"),
        4,
    ),
    (
        "ipr-health-safety",
        "counterfeit-apparel",
        "pieces",
        600.0,
        ("CN", "VN", "TR"),
        ("sea", "express-courier"),
        ("cargo", "false-declaration"),
        5,
    ),
    (
        "revenue",
        "cigarettes",
        "sticks",
        40000.0,
        ("VN", "KH", "ID", "AE", "CN"),
        ("sea", "road", "passenger-air"),
        ("container-structure", "vehicle", "baggage"),
        18,
    ),
    (
        "revenue",
        "alcohol",
        "l",
        200.0,
        ("KR", "JP", "GB", "FR"),
        ("sea", "road", "passenger-sea"),
        ("cargo", "vehicle", "false-declaration"),
        4,
    ),
    (
        "revenue",
        "fuel",
        "l",
        20000.0,
        ("MY", "SG", "ID"),
        ("sea", "road"),
        ("vehicle", "false-declaration"),
        2,
    ),
    (
        "security",
        "firearms",
        "pieces",
        3.0,
        ("US", "PH", "TH"),
        ("postal", "sea", "express-courier"),
        ("mail-item", "cargo", "express-parcel"),
        3,
    ),
    (
        "security",
        "ammunition",
        "pieces",
        400.0,
        ("US", "PH", "CN"),
        ("postal", "sea"),
        ("mail-item", "cargo"),
        2,
    ),
    (
        "security",
        "precursor-chemicals",
        "l",
        800.0,
        ("CN", "IN"),
        ("sea", "air"),
        ("cargo", "false-declaration"),
        3,
    ),
    (
        "cultural-heritage",
        "antiquities",
        "pieces",
        6.0,
        ("KH", "MM", "AF"),
        ("sea", "postal", "passenger-air"),
        ("cargo", "mail-item", "baggage"),
        1,
    ),
)
_HUBS = ("HK", "SG", "MY", "TH", "AE", "KR")
_DETECTION = (
    "risk-profiling",
    "intelligence",
    "x-ray",
    "ct-scan",
    "detector-dog",
    "physical-examination",
    "random-check",
    "trace-detection",
)
_DETECTION_WEIGHTS = (30, 18, 20, 5, 10, 8, 6, 3)
_LOCATION = {
    "sea": "seaport",
    "air": "airport",
    "passenger-air": "airport",
    "passenger-sea": "seaport",
    "postal": "postal-centre",
    "express-courier": "courier-facility",
    "road": "land-border",
    "rail": "land-border",
    "other": "other",
}
#: Monthly rhythm (January … December): busier before the year's end and Lunar New Year.
_SEASON = (1.2, 1.1, 0.9, 0.9, 0.95, 0.9, 0.95, 1.0, 1.0, 1.05, 1.15, 1.3)


def _day(rng: random.Random, start: date, end: date) -> date:
    """A day in [start, end], months weighted by the season."""
    span = (end - start).days
    while True:
        day = start + timedelta(days=rng.randrange(span + 1))
        if rng.random() * 1.3 <= _SEASON[day.month - 1]:
            return day


def _office(member: str, number: int, held: bool) -> dict[str, str]:
    """A synthetic office of ``member``: a UN/LOCODE-shaped code, and its name where held."""
    code = f"{member}{chr(65 + number % 26)}{chr(65 + number // 26)}O"
    name = f"Synthetic office {member}-{number}" if number else f"Synthetic export office {member}"
    return {"name": name, "locode": code} if held else {"locode": code}


def reports(
    count: int,
    *,
    seed: int = 0,
    start: date = date(2024, 1, 1),
    end: date = date(2026, 9, 30),
    members: Sequence[str] = MEMBERS,
    twice: float = 0.04,
    held: bool = False,
) -> Iterator[dict[str, Any]]:
    """``count`` seizures as seizure reports (JSON form, valid against the spec); a share
    ``twice`` of them, when departure and destination are both members, is reported again by the
    departure member, as an outbound seizure with its own reference, right after the first.

    As a member's feed sends them to the hub (no persons, an office by its UN/LOCODE only), or
    with ``held`` as the member holds them (an office's name, a courier named in some)."""
    rng = random.Random(seed)  # reproducible test data  # nosec B311
    weights = [c[7] for c in _COMMODITIES]
    made = 0
    serial = 0
    while made < count:
        category, kind, unit, median, origins, modes, concealments, _ = rng.choices(
            _COMMODITIES, weights
        )[0]
        destination = rng.choice(members)
        origin = rng.choice([o for o in origins if o != destination] or ["XX"])
        departure = (
            origin if rng.random() < 0.55 else rng.choice([h for h in _HUBS if h != destination])
        )
        mode = rng.choice(modes)
        amount = round(max(0.001, rng.lognormvariate(0.0, 1.1) * median), 3)
        if unit in ("tablets", "pieces", "sticks"):
            amount = float(max(1, round(amount)))
        day = _day(rng, start, end)
        serial += 1
        route: dict[str, Any] = {
            "origin": origin,
            "departure": departure,
            "destination": destination,
        }
        if rng.random() < 0.2:
            route["transit"] = [rng.choice([h for h in _HUBS if h not in (departure, destination)])]
        report: dict[str, Any] = {
            "reporting_administration": destination,
            "report_id": f"{destination}-SYN-{seed}-{serial:07d}",
            "seizure_date": day.isoformat(),
            "office": _office(destination, rng.randrange(1, 40), held),
            "location_type": _LOCATION.get(mode, "other"),
            "direction": "inbound",
            "commodity": {"category": category, "type": kind},
            "quantity": {"amount": amount, "unit": unit},
            "transport": {"mode": mode},
            "route": route,
            "concealment_methods": [rng.choice(concealments)],
            "detection_methods": rng.choices(_DETECTION, _DETECTION_WEIGHTS),
            "markings": {"originator": destination, "handling_code": "H0", "tlp": "TLP:GREEN"},
        }
        if rng.random() < 0.3:
            courier = {
                "role": "courier",
                "name": f"Synthetic Person {serial}",
                "nationality": rng.choice(members),
                "sex": rng.choice(["F", "M"]),
            }
            if held:  # drawn either way: a seed gives the same seizures in both forms
                report["persons"] = [courier]
        yield report
        made += 1
        if (
            made < count
            and departure in members
            and departure != destination
            and rng.random() < twice
        ):
            again = {
                **report,
                "reporting_administration": departure,
                "report_id": f"{departure}-SYN-{seed}-{serial:07d}-X",
                "direction": "outbound",
                "office": _office(departure, 0, held),
                "markings": {"originator": departure, "handling_code": "H0", "tlp": "TLP:GREEN"},
            }
            again.pop("persons", None)
            yield again
            made += 1
