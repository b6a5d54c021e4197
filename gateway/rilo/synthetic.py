"""Synthetic seizure reports with realistic distributions, seeded and reproducible: commodities
of the WCO Illicit Trade Report sections with their usual units and sizes, routes across the
Asia/Pacific region from plausible origins, modes and concealments that fit the commodity, a
seasonal rhythm, and a share of seizures reported twice (by the departure and the destination
member). For tests, the demo and the benchmarks; every name in them is generated.

The world as the members' real records show it (issue 21) is drawn too, from a second generator
so that a seed's ordinary seizures stay what they were: bursts of identical small seizures (one
piece, a few grams) by one member on one day at different offices, reports whose departure the
member does not know, ports of loading and discharge on part of the sea and air seizures, and a
departure member's report of a seizure weighing it a little differently (within 3%). Corridors
reported by one member only and months with a single seizure of a rare kind follow from the
distributions."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any, TypedDict


class Shapes(TypedDict):
    """The rates of the real world's shapes (:func:`reports`)."""

    bursts: float
    unknown_departure: float
    ports: float


#: The real world's shapes at the rates the hub's demonstration, benchmarks and release tests
#: draw them (``reports(..., **REAL_WORLD)``): a burst of identical small seizures after one
#: draw in fifty, a departure unknown in one report in twelve, ports on three sea or air
#: seizures in ten.
REAL_WORLD: Shapes = {"bursts": 0.02, "unknown_departure": 0.08, "ports": 0.3}

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


#: Small seizures that come in bursts: (category, type, unit, amount, mode, concealment, origins).
_BURSTS = (
    (
        "ipr-health-safety",
        "counterfeit-watches",
        "pieces",
        1.0,
        "postal",
        "mail-item",
        ("CN", "HK"),
    ),
    ("security", "firearms", "pieces", 1.0, "postal", "mail-item", ("US", "PH")),
    ("drugs", "cannabis", "g", 20.0, "postal", "mail-item", ("TH", "US", "CA")),
    ("drugs", "mdma", "tablets", 10.0, "express-courier", "express-parcel", ("NL", "DE")),
)
_PORTED = frozenset({"sea", "air", "passenger-air", "passenger-sea"})


def _port(rng: random.Random, country: str) -> str:
    """A UN/LOCODE-shaped port code in ``country`` (one of five per country)."""
    return f"{country}P{'ABCDE'[rng.randrange(5)]}T"


def _burst(
    rng: random.Random, member: str, day: date, seed: int, serial: int, held: bool
) -> list[dict[str, Any]]:
    """3 to 12 identical one-piece (or a few grams) seizures by ``member`` on ``day``, each at
    another of its offices and with its own reference."""
    category, kind, unit, amount, mode, concealment, origins = rng.choice(_BURSTS)
    origin = rng.choice([o for o in origins if o != member] or ["XX"])
    route: dict[str, Any] = {"origin": origin, "destination": member}
    if rng.random() < 0.5:
        route["departure"] = origin  # otherwise unknown to the member
    detection = [rng.choice(("x-ray", "detector-dog", "risk-profiling"))]
    offices = rng.sample(range(1, 40), rng.randint(3, 12))
    return [
        {
            "reporting_administration": member,
            "report_id": f"{member}-SYN-{seed}-{serial:07d}-B{index}",
            "seizure_date": day.isoformat(),
            "office": _office(member, office, held),
            "location_type": _LOCATION.get(mode, "other"),
            "direction": "inbound",
            "commodity": {"category": category, "type": kind},
            "quantity": {"amount": amount, "unit": unit},
            "transport": {"mode": mode},
            "route": dict(route),
            "concealment_methods": [concealment],
            "detection_methods": list(detection),
            "markings": {"originator": member, "handling_code": "H0", "tlp": "TLP:GREEN"},
        }
        for index, office in enumerate(offices)
    ]


def reports(
    count: int,
    *,
    seed: int = 0,
    start: date = date(2024, 1, 1),
    end: date = date(2026, 9, 30),
    members: Sequence[str] = MEMBERS,
    twice: float = 0.04,
    held: bool = False,
    bursts: float = 0.0,
    unknown_departure: float = 0.0,
    ports: float = 0.0,
) -> Iterator[dict[str, Any]]:
    """``count`` seizures as seizure reports (JSON form, valid against the spec); a share
    ``twice`` of them, when departure and destination are both members, is reported again by the
    departure member, as an outbound seizure with its own reference, right after the first.

    As a member's feed sends them to the hub (no persons, an office by its UN/LOCODE only), or
    with ``held`` as the member holds them (an office's name, a courier named in some).

    The real world's shapes (off by default: a seed's reports stay as they were): a share
    ``bursts`` of the draws adds a burst of identical small seizures by one member on one day
    (:func:`_burst`); a share ``unknown_departure`` of seizures has no departure; a share
    ``ports`` of the sea and air seizures names its ports of loading and discharge, and where
    such a seizure is reported twice the departure member's quantity differs by up to 3%."""
    rng = random.Random(seed)  # reproducible test data  # nosec B311
    world = random.Random(f"world-{seed}")  # nosec B311
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
        known = True
        if world.random() < unknown_departure:
            del route["departure"]
            known = False
        if known and mode in _PORTED and world.random() < ports:
            route["departure_port"] = _port(world, departure)
            route["arrival_port"] = _port(world, destination)
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
        if world.random() < bursts:
            serial += 1
            for burst in _burst(world, rng.choice(members), day, seed, serial, held):
                if made < count:
                    yield burst
                    made += 1
        if (
            made < count
            and known
            and departure in members
            and departure != destination
            and rng.random() < twice
        ):
            again = {
                **report,
                "quantity": _reweighed(world, report["quantity"], "departure_port" in route),
                "reporting_administration": departure,
                "report_id": f"{departure}-SYN-{seed}-{serial:07d}-X",
                "direction": "outbound",
                "office": _office(departure, 0, held),
                "markings": {"originator": departure, "handling_code": "H0", "tlp": "TLP:GREEN"},
            }
            again.pop("persons", None)
            yield again
            made += 1


def _reweighed(rng: random.Random, quantity: dict[str, Any], weighed_again: bool) -> dict[str, Any]:
    """The departure member's own figure: where it weighed the seizure itself (a seizure with
    its ports on record, in this world), up to 3% off; otherwise the destination's figure."""
    if not weighed_again or quantity["unit"] in ("tablets", "pieces", "sticks"):
        return dict(quantity)
    factor = 1 + rng.uniform(-0.03, 0.03)
    return {"amount": round(max(0.001, quantity["amount"] * factor), 3), "unit": quantity["unit"]}
