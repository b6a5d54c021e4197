"""Every partner x message type x direction x date around entry into force.

Expectations are computed here from agreements.csv and the rules as the issue states them, not
read from the policy files:
- no framework in force on the date → deny;
- enforcement information flows under CMAA, AA, EPA, CPTPP; under OTHER (TW) only seizure reports
  (the issue leaves TW's list to its own policy file; this test states it independently);
- certificates of origin and their verification flow only under an EPA (CPTPP included) that the
  certificate names.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta

import pytest

from gateway.policy.engine import decide
from gateway.policy.loader import load_policies
from gateway.policy.model import ENFORCEMENT_TYPES, ORIGIN_TYPES, Context
from gateway.registry import Registry
from gateway.settings import PROJECT_ROOT

AGREEMENTS = PROJECT_ROOT / "data" / "agreements.csv"
TW_TYPES = {"seizure-report"}


def _rows() -> list[dict[str, str]]:
    with AGREEMENTS.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _start(text: str) -> date:
    year, month = map(int, text.split("-"))
    return date(year, month, 1)


def expected(rows: list[dict[str, str]], partner: str, message_type: str, on: date) -> bool:
    in_force = {
        r["framework"] for r in rows if r["partner"] == partner and _start(r["in_force"]) <= on
    }
    if message_type in ENFORCEMENT_TYPES:
        return bool(in_force & {"CMAA", "AA", "EPA", "CPTPP"}) or (
            "OTHER" in in_force and message_type in TW_TYPES
        )
    return bool(in_force & {"EPA", "CPTPP"})


def _document(rows: list[dict[str, str]], partner: str, message_type: str, on: date) -> dict:
    if message_type in ORIGIN_TYPES:
        named = sorted(
            r["framework"]
            for r in rows
            if r["partner"] == partner
            and r["framework"] in {"EPA", "CPTPP"}
            and _start(r["in_force"]) <= on
        )
        # the agreement's code as the partners name them: CPTPP, or JP-<partner>-EPA
        code = {"CPTPP": "CPTPP", "EPA": f"JP-{partner}-EPA"}[named[0]] if named else "JP-KR-EPA"
        return {"agreement": code, "issue_date": on.isoformat()}
    return {"markings": {"originator": "JP", "handling_code": "H0", "tlp": "TLP:GREEN"}}


def _cases() -> list[tuple[str, str, str, date]]:
    rows = _rows()
    partners = sorted({r["partner"] for r in rows})
    dates_by_partner: dict[str, set[date]] = {p: {date(2026, 11, 1)} for p in partners}
    for row in rows:
        start = _start(row["in_force"])
        dates_by_partner[row["partner"]] |= {start - timedelta(days=1), start}
    return [
        (partner, message_type, direction, day)
        for partner in partners
        for message_type in ENFORCEMENT_TYPES + ORIGIN_TYPES
        for direction in ("in", "out")
        for day in sorted(dates_by_partner[partner])
    ]


@pytest.fixture(scope="module")
def engine_inputs():
    registry = Registry.load(PROJECT_ROOT / "partners")
    return registry, load_policies(PROJECT_ROOT / "policies", registry), _rows()


def test_matrix_covers_all_partners():
    assert len({case[0] for case in _cases()}) == 41


@pytest.mark.parametrize(("partner", "message_type", "direction", "on"), _cases())
def test_exchange_follows_the_frameworks(engine_inputs, partner, message_type, direction, on):
    registry, policies, rows = engine_inputs
    purpose = (
        ("origin-verification" if message_type in ORIGIN_TYPES else "intelligence")
        if direction == "out"
        else None
    )
    decision = decide(
        policies,
        Context(
            registry.get(partner),
            direction,
            message_type,
            on,
            _document(rows, partner, message_type, on),
            purpose,
        ),
    )
    assert decision.allowed == expected(rows, partner, message_type, on), decision.explain()
    if not decision.allowed:
        assert decision.deciding_rule in {"no-framework-in-force", "not-covered-by-framework"}


def test_iran_may_2025_is_refused_and_june_allowed(engine_inputs):
    registry, policies, _ = engine_inputs
    doc = {"markings": {"originator": "JP", "handling_code": "H0", "tlp": "TLP:GREEN"}}
    may = decide(
        policies,
        Context(registry.get("IR"), "out", "seizure-report", date(2025, 5, 1), doc, "intelligence"),
    )
    june = decide(
        policies,
        Context(registry.get("IR"), "out", "seizure-report", date(2025, 6, 1), doc, "intelligence"),
    )
    assert (may.allowed, may.deciding_rule) == (False, "no-framework-in-force")
    assert june.allowed


def test_certificate_naming_another_agreement_is_refused(engine_inputs):
    """KR has no EPA: a certificate naming one cannot flow; ID's EPA certificate can, not one
    naming a framework type or another partner's agreement."""
    registry, policies, _ = engine_inputs
    day = date(2026, 11, 1)

    def certificate(partner: str, agreement: str, issued: date = day) -> bool:
        document = {"agreement": agreement, "issue_date": issued.isoformat()}
        return decide(
            policies, Context(registry.get(partner), "in", "certificate-of-origin", day, document)
        ).allowed

    assert certificate("ID", "JP-ID-EPA")
    assert not certificate("KR", "JP-KR-EPA")
    assert not certificate("ID", "EPA")
    assert not certificate("ID", "JP-TH-EPA")
    assert not certificate("ID", "CPTPP")


def test_certificate_issued_before_the_agreement_was_in_force_is_refused(engine_inputs):
    """In force for both on the day of the exchange is not enough: also on the issue date."""
    registry, policies, _ = engine_inputs
    day = date(2026, 11, 1)
    for issued, allowed in ((date(2008, 6, 30), False), (date(2008, 7, 1), True)):
        document = {"agreement": "JP-ID-EPA", "issue_date": issued.isoformat()}
        decision = decide(
            policies, Context(registry.get("ID"), "in", "certificate-of-origin", day, document)
        )
        assert decision.allowed is allowed, decision.explain()


@pytest.mark.parametrize(
    "message_type",
    [
        "certificate-of-origin",
        "certificate-status",
        "origin-verification-request",
        "origin-verification-answer",
    ],
)
def test_origin_documents_never_go_to_the_hub(engine_inputs, message_type):
    registry, policies, _ = engine_inputs
    document = {"agreement": "JP-ID-EPA", "issue_date": "2026-11-01"}
    decision = decide(
        policies,
        Context(
            registry.partners["RILO-AP"],
            "out",
            message_type,
            date(2026, 11, 1),
            document,
            "origin-verification",
        ),
    )
    assert (decision.allowed, decision.deciding_rule) == (False, "hub-accepts")
