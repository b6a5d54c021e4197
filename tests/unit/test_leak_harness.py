"""The leak harness, on the policy's decision (issue 19, item 7): a canary in every free string,
array item and XML text node of every message type, decided for a recipient of every legal-basis
class; no canary may reach a recipient whose basis does not allow its field.

What may reach whom is stated in tests/leaks.py from the law and the issue, not read from the
policy files. The paths through the outbox, the hub feed, withdrawals and the inbox are attacked
in tests/functional/test_leak_paths.py.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.documents.schemas import COMPONENTS, JsonSchemas, XmlSchemas, load_spec
from gateway.documents.seizure_report import SeizureReportReader, to_xml
from gateway.model.seizure_report import SeizureReport
from gateway.policy.engine import decide
from gateway.policy.loader import load_policies
from gateway.policy.model import Context
from gateway.registry import Registry
from gateway.settings import PROJECT_ROOT
from tests.leaks import CANARY, documents, may_reach, planted

REGISTRY = Registry.load(PROJECT_ROOT / "partners")
POLICIES = load_policies(PROJECT_ROOT / "policies", REGISTRY)
SPEC = load_spec(PROJECT_ROOT / "specs" / "openapi.yaml")
SCHEMAS = JsonSchemas(SPEC)
READER = SeizureReportReader(
    SCHEMAS,
    XmlSchemas(PROJECT_ROOT / "specs" / "xsd"),
    max_bytes=10**7,
    max_xml_depth=64,
    max_json_depth=32,
)
#: One recipient per legal-basis class: framework type x FY2012 provisions (on the date).
RECIPIENTS = [
    ("KR", date(2026, 6, 1)),  # CMAA without the provisions
    ("NO", date(2026, 6, 1)),  # CMAA with them
    ("IN", date(2015, 3, 15)),  # EPA before the revision that brought them
    ("IN", date(2023, 1, 15)),  # the same EPA after it
    ("AU", date(2016, 6, 1)),  # EPA with them, CPTPP and AA not yet revised
    ("SG", date(2026, 6, 1)),  # EPA and CPTPP without them
    ("TW", date(2026, 6, 1)),  # the private arrangement
    ("RILO-AP", date(2026, 6, 1)),  # the hub
]
TYPES = [
    "seizure-report",
    "assistance-request",
    "assistance-answer",
    "withdrawal",
    "marking-change",
]
#: Members no schema has (a field added to a schema later): they must reach no one.
ADDED_LATER = ("x_added_later", "CNRY9999Q")


def _with_added_member(document: dict[str, Any]) -> dict[str, Any]:
    document = {**document, ADDED_LATER[0]: ADDED_LATER[1]}
    if isinstance(document.get("office"), dict):
        document["office"] = {**document["office"], ADDED_LATER[0]: "CNRY9998Q"}
    return document


def _outgoing_bytes(decision: Any) -> str:
    """What the recipient receives of a decision: the body and the signed header's list."""
    return json.dumps(decision.document, ensure_ascii=False) + json.dumps(decision.redactions)


def _check(message_type: str, document: dict[str, Any], planted_in: dict[str, str]) -> int:
    """Decide ``document`` for every recipient class and purpose; return how many canaries went
    out (allowed ones), so that a run that released nothing cannot pass unnoticed."""
    went = 0
    notice = message_type in ("withdrawal", "marking-change")
    purposes = [None] if notice else ["intelligence", "evidence", "revenue"]
    for partner, on in RECIPIENTS:
        for purpose in purposes:
            for automatic in (False, True):
                hub = partner == "RILO-AP"
                if hub and (message_type not in ("seizure-report", "withdrawal") or not automatic):
                    continue
                decision = decide(
                    POLICIES,
                    Context(
                        partner=REGISTRY.partners[partner],
                        direction="out",
                        message_type=message_type,
                        on=on,
                        document=document,
                        purpose=None if hub else purpose,
                        gateway_id="JP",
                        automatic=automatic,
                    ),
                )
                out = _outgoing_bytes(decision)
                for canary in CANARY.findall(out):
                    pointer = planted_in[canary]
                    allowed = not pointer.endswith(ADDED_LATER[0]) and may_reach(
                        pointer, partner, on, purpose, automatic=automatic
                    )
                    assert allowed, f"{canary} from {pointer} reached {partner} on {on} ({purpose})"
                    went += 1
                    if not may_reach(pointer, "KR", on, purpose, automatic=True):
                        # personal data went: only with a second officer
                        assert decision.second_officer_required, (pointer, partner)
                if decision.allowed and message_type in COMPONENTS and not hub:
                    document_out = {
                        k: v for k, v in decision.document.items() if k != ADDED_LATER[0]
                    }
                    SCHEMAS.check(COMPONENTS[message_type], document_out)
    return went


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), message_type=st.sampled_from(TYPES))
def test_no_canary_reaches_a_recipient_whose_basis_does_not_allow_its_field(data, message_type):
    document = data.draw(documents(SPEC, COMPONENTS[message_type]))
    SCHEMAS.check(COMPONENTS[message_type], document)  # the harness plants in valid messages
    planted_in = {canary: pointer for pointer, canary in planted(document)}
    attacked = _with_added_member(document)
    planted_in.update(
        {ADDED_LATER[1]: f"/{ADDED_LATER[0]}", "CNRY9998Q": f"/office/{ADDED_LATER[0]}"}
    )
    _check(message_type, attacked, planted_in)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_canary_planted_in_an_xml_text_node_reaches_a_recipient_it_may_not(data):
    document = data.draw(documents(SPEC, "SeizureReport"))
    xml = to_xml(SeizureReport.from_dict(document))
    read = READER.read(xml, "application/xml").to_dict()
    planted_in = {canary: pointer for pointer, canary in planted(read)}
    assert set(planted_in) == {c for _, c in planted(document)}  # every text node carried one
    _check("seizure-report", read, planted_in)


def test_the_harness_is_not_vacuous_personal_data_goes_where_allowed():
    """A document whose every field is present: its personal canaries reach NO (with a second
    officer) and none reaches KR, so the assertions above have something to bite on."""
    document = json.loads((PROJECT_ROOT / "specs" / "samples" / "seizure-report.json").read_text())
    document["persons"][0]["name"] = "CNRY0001Q"
    document["summary"] = "CNRY0002Q"
    document["markings"] = {"originator": "JP", "handling_code": "H0", "tlp": "TLP:GREEN"}
    planted_in = {"CNRY0001Q": "/persons/0/name", "CNRY0002Q": "/summary"}
    assert _check("seizure-report", document, planted_in) > 0
    for partner, on in (("KR", date(2026, 6, 1)), ("NO", date(2026, 6, 1))):
        decision = decide(
            POLICIES,
            Context(
                REGISTRY.partners[partner], "out", "seizure-report", on, document, "intelligence"
            ),
        )
        assert ("CNRY0001Q" in _outgoing_bytes(decision)) == (partner == "NO")
