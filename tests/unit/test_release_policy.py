"""The sharing policy's release, attacked with the cases the issue found (issue 19).

Each test plants a canary where a person could be named and looks for it in what would go.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from gateway.documents.schemas import COMPONENTS, JsonSchemas, load_spec
from gateway.policy.coverage import check_coverage, schema_fields
from gateway.policy.engine import decide
from gateway.policy.loader import load_policies
from gateway.policy.model import Context, PolicySet, ReleaseList
from gateway.registry import Registry
from gateway.settings import PROJECT_ROOT

REGISTRY = Registry.load(PROJECT_ROOT / "partners")
POLICIES = load_policies(PROJECT_ROOT / "policies", REGISTRY)
SPEC = load_spec(PROJECT_ROOT / "specs" / "openapi.yaml")
SCHEMAS = JsonSchemas(SPEC)
CANARY = "CANARY"


def report(**overrides: Any) -> dict[str, Any]:
    document = json.loads((PROJECT_ROOT / "specs" / "samples" / "seizure-report.json").read_text())
    document["reporting_administration"] = "JP"
    document["markings"] = {"originator": "JP", "handling_code": "H0", "tlp": "TLP:GREEN"}
    document["office"]["name"] = f"{CANARY}-office Customs"
    document["commodity"]["description"] = f"bags labelled for {CANARY}-name, tel 090-1234"
    document["transport"]["conveyance"] = f"plate 品川300あ{CANARY}-plate (owner)"
    document["companies"] = [{"role": "consignee", "name": f"{CANARY}-sole-proprietor"}]
    document["summary"] = f"{CANARY}-summary"
    document["persons"][0]["name"] = f"{CANARY}-person"
    document["persons"][0]["document"]["number"] = "CANARY01"
    document.update(overrides)
    return document


def explain(
    partner: str,
    document: dict[str, Any],
    *,
    message_type: str = "seizure-report",
    on: date = date(2026, 6, 1),
    purpose: str | None = "intelligence",
    consents: frozenset[str] = frozenset(),
    automatic: bool = False,
    policies: PolicySet = POLICIES,
) -> Any:
    return decide(
        policies,
        Context(
            partner=REGISTRY.partners[partner],
            direction="out",
            message_type=message_type,
            on=on,
            document=document,
            purpose=purpose,
            consents=consents,
            gateway_id="JP",
            automatic=automatic,
        ),
    )


def test_report_to_kr_withholds_description_conveyance_companies_and_office_name():
    decision = explain("KR", report())
    assert decision.allowed
    assert CANARY not in json.dumps(decision.document, ensure_ascii=False)
    assert {
        "/office/name",
        "/commodity/description",
        "/transport/conveyance",
        "/companies",
        "/summary",
        "/persons/0/name",
        "/persons/0/document",
        "/persons/0/date_of_birth",
    } <= set(decision.redactions)
    assert decision.document["persons"] == [
        {"role": "courier", "nationality": "MX", "sex": "M", "age_band": "35-44"}
    ]
    SCHEMAS.check("SeizureReport", dict(decision.document))  # what goes still validates
    assert decision.original_sha256 and len(decision.original_sha256) == 64


def test_hub_receives_no_conveyance_and_no_office_name():
    decision = explain("RILO-AP", report(), purpose=None, automatic=True)
    assert decision.allowed
    assert CANARY not in json.dumps(decision.document, ensure_ascii=False)
    assert "persons" not in decision.document and "companies" not in decision.document
    assert decision.document["office"] == {"locode": "KRICN"}
    SCHEMAS.check("SeizureReport", dict(decision.document))


def test_report_to_norway_with_the_fy2012_provisions_keeps_personal_data_for_a_second_officer():
    decision = explain("NO", report())
    assert decision.allowed and decision.second_officer_required
    assert decision.document["persons"][0]["name"] == f"{CANARY}-person"
    assert not decision.redactions


def test_automatic_messages_carry_no_free_text_even_under_the_fy2012_provisions():
    decision = explain("NO", report(), automatic=True)
    assert CANARY not in json.dumps(decision.document, ensure_ascii=False)
    assert not decision.second_officer_required


def answer(**extra: Any) -> dict[str, Any]:
    return {
        "answering_administration": "JP",
        "in_reply_to": "00000000-0000-4000-8000-000000000001",
        "outcome": "answered",
        "answers": [{"question": 0, "answer": f"{CANARY} born 1980-02-03, passport TK1234567"}],
        "markings": {"originator": "JP", "handling_code": "H1", "tlp": "TLP:AMBER"},
        **extra,
    }


def test_answer_whose_free_text_names_a_person_does_not_go_to_kr():
    decision = explain("KR", answer(), message_type="assistance-answer")
    assert not decision.allowed
    assert decision.deciding_rule == "release-incomplete"
    assert decision.document == {}


def test_answer_whose_free_text_names_a_person_needs_a_second_officer_under_fy2012():
    decision = explain("NO", answer(), message_type="assistance-answer")
    assert decision.allowed and decision.second_officer_required
    assert any(r.rule == "personal-data" and r.outcome == "allow" for r in decision.rules)


def test_refusal_answer_with_no_free_text_goes_to_kr():
    document = answer(outcome="refused", reason="no-legal-basis")
    del document["answers"]
    decision = explain("KR", document, message_type="assistance-answer")
    assert decision.allowed and not decision.redactions


def test_withdrawal_reason_naming_an_informant_does_not_reach_the_hub():
    withdrawal = {
        "withdraws": "00000000-0000-4000-8000-000000000002",
        "reason": f"courier {CANARY} (passport X1) turned informant",
        "items": ["R1"],
    }
    decision = explain(
        "RILO-AP", withdrawal, message_type="withdrawal", purpose=None, automatic=True
    )
    assert decision.allowed and decision.redactions == ("/reason",)
    assert CANARY not in json.dumps(decision.document)


def test_withdrawal_reason_passed_on_does_not_reach_onward_partners():
    withdrawal = {"withdraws": "00000000-0000-4000-8000-000000000002", "reason": CANARY}
    for partner in ("KR", "NO"):  # NO has the FY2012 provisions, but no officer composed it
        decision = explain(partner, withdrawal, message_type="withdrawal", automatic=True)
        assert decision.allowed, partner
        assert CANARY not in json.dumps(decision.document), partner


def received(tlp: str, code: str = "H0") -> dict[str, Any]:
    return report(
        reporting_administration="KR",
        markings={"originator": "KR", "handling_code": code, "tlp": tlp},
    )


@pytest.mark.parametrize("tlp", ["TLP:RED", "TLP:AMBER+STRICT"])
def test_tlp_red_and_amber_strict_reports_are_never_fed_to_the_hub(tlp):
    for document in (
        received(tlp),
        report(markings={"originator": "JP", "handling_code": "H0", "tlp": tlp}),
    ):
        decision = explain(
            "RILO-AP", document, purpose=None, automatic=True, consents=frozenset({"RILO-AP"})
        )
        assert not decision.allowed and decision.deciding_rule == "tlp"


@pytest.mark.parametrize("tlp", ["TLP:RED", "TLP:AMBER+STRICT"])
def test_tlp_red_and_amber_strict_reports_are_never_passed_onward(tlp):
    decision = explain("US", received(tlp), consents=frozenset({"US"}))
    assert not decision.allowed and decision.deciding_rule == "tlp"


def test_tlp_red_report_goes_back_to_its_originator_and_to_our_named_recipient():
    assert explain("KR", received("TLP:RED")).allowed
    own = report(markings={"originator": "JP", "handling_code": "H0", "tlp": "TLP:RED"})
    assert explain("US", own).allowed


def test_tlp_amber_goes_onward_only_with_the_originators_recorded_consent():
    assert explain("US", received("TLP:AMBER")).deciding_rule == "tlp"
    assert explain("US", received("TLP:AMBER"), consents=frozenset({"US"})).allowed
    hub = explain("RILO-AP", received("TLP:AMBER"), purpose=None, automatic=True)
    assert hub.deciding_rule == "tlp"


def test_tlp_green_and_clear_go_onward_under_the_policy():
    for tlp in ("TLP:GREEN", "TLP:CLEAR"):
        assert explain("US", received(tlp)).allowed
        assert explain("RILO-AP", received(tlp), purpose=None, automatic=True).allowed


def test_india_2015_gets_no_personal_data_and_is_told_why():
    decision = explain("IN", report(), on=date(2015, 3, 15))
    assert decision.allowed
    assert CANARY not in json.dumps(decision.document, ensure_ascii=False)
    assert "EPA carries them only from 2022-05-01" in decision.explain()
    assert decision.basis == (
        {
            "framework": "EPA",
            "in_force": "2011-08-01",
            "revised": "2022-05-01",
            "fy2012_from": "2022-05-01",
            "fy2012_applied": False,
        },
    )


def test_india_2023_names_the_revision_that_brought_the_provisions():
    decision = explain("IN", report(), on=date(2023, 1, 15))
    assert decision.allowed and decision.second_officer_required
    assert "revised 2022-05-01; FY2012 provisions applied" in decision.explain()


@pytest.mark.parametrize(
    ("partner", "on"),
    [("AU", date(2010, 6, 1)), ("NZ", date(2010, 6, 1)), ("NZ", date(2014, 5, 1))],
)
def test_arrangements_older_than_2012_carry_the_provisions_only_from_their_revision(partner, on):
    decision = explain(partner, report(), on=on)
    assert CANARY not in json.dumps(decision.document, ensure_ascii=False), decision.explain()


def test_nz_after_its_2014_revision_carries_the_provisions():
    # NZ's AA allows intelligence with personal data from its revision of 2014-06
    decision = explain("NZ", report(), on=date(2014, 7, 1))
    assert decision.second_officer_required, decision.explain()


def test_a_message_type_without_a_release_list_goes_nowhere():
    policies = PolicySet(
        POLICIES.frameworks,
        POLICIES.partner_overrides,
        POLICIES.review,
        POLICIES.hub,
        {k: v for k, v in POLICIES.release.items() if k != "seizure-report"},
        POLICIES.digest,
    )
    decision = explain("NO", report(), policies=policies)
    assert not decision.allowed and decision.deciding_rule == "release"


def test_the_policy_files_decide_every_field_of_every_schema():
    coverage = check_coverage(POLICIES, SPEC)
    assert coverage.complete, (coverage.unnamed, coverage.unknown)
    assert "/persons/*/document/number" in schema_fields(SPEC, COMPONENTS["seizure-report"])


def test_policy_check_names_a_field_no_list_mentions_and_a_pointer_that_names_nothing():
    lists = POLICIES.release["seizure-report"]
    shrunk = ReleaseList(
        open=(*(p for p in lists.open if p != "/route"), "/rout"),
        personal=lists.personal,
    )
    policies = PolicySet(
        POLICIES.frameworks,
        POLICIES.partner_overrides,
        POLICIES.review,
        POLICIES.hub,
        {**POLICIES.release, "seizure-report": shrunk},
        POLICIES.digest,
    )
    coverage = check_coverage(policies, SPEC)
    assert "/route/origin" in coverage.unnamed["seizure-report"]
    assert coverage.unknown == {"release.yaml: messages/seizure-report/open": ("/rout",)}
