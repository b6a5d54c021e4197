"""The review workflow's rules (gateway/review/workflow.py): every legal step, and refusals."""

from __future__ import annotations

import pytest

from gateway.errors import ForbiddenError, StateConflictError
from gateway.review import workflow

OFFICER = frozenset({"officer"})
SUPERVISOR = frozenset({"supervisor"})


def test_a_request_goes_from_received_to_closed():
    state = "received"
    for name, extra, expected in (
        ("assign", {}, "assigned"),
        ("start-review", {}, "in-review"),
        (
            "decide",
            {"outcome": "partially-answered", "reason": "confidentiality"},
            "partially-answered",
        ),
        ("approve", {}, "released"),
        ("close", {}, "closed"),
    ):
        state = workflow.transition("request", state, name, roles=OFFICER, **extra)
        assert state == expected


def test_a_draft_goes_from_drafted_to_approved():
    state = workflow.transition("disclosure", "drafted", "submit", roles=OFFICER)
    assert workflow.transition("disclosure", state, "approve", roles=SUPERVISOR) == "approved"
    assert workflow.transition("disclosure", state, "refuse", roles=OFFICER) == "refused"


@pytest.mark.parametrize(
    ("state", "name"),
    [
        ("received", "start-review"),
        ("received", "decide"),
        ("assigned", "approve"),
        ("in-review", "close"),
        ("released", "decide"),
        ("closed", "assign"),
        ("answered", "assign"),
    ],
)
def test_illegal_request_transitions_are_refused(state, name):
    with pytest.raises(StateConflictError):
        workflow.transition("request", state, name, roles=OFFICER, outcome="answered")


def test_an_answer_sent_back_returns_to_review_with_a_reason():
    with pytest.raises(StateConflictError, match="reason"):
        workflow.transition("request", "answered", "return", roles=SUPERVISOR)
    assert (
        workflow.transition("request", "refused", "return", roles=SUPERVISOR, reason="other")
        == "in-review"
    )


def test_decisions_other_than_approval_need_a_reason_of_the_vocabulary():
    with pytest.raises(StateConflictError, match="needs its reason"):
        workflow.transition("request", "in-review", "decide", roles=OFFICER, outcome="refused")
    with pytest.raises(StateConflictError, match="vocabulary"):
        workflow.transition(
            "request", "in-review", "decide", roles=OFFICER, outcome="refused", reason="dislike"
        )
    with pytest.raises(StateConflictError, match="a decision is one of"):
        workflow.transition("request", "in-review", "decide", roles=OFFICER, outcome="maybe")


@pytest.mark.parametrize("roles", [frozenset({"analyst"}), frozenset({"auditor"}), frozenset()])
def test_only_officers_and_supervisors_act(roles):
    with pytest.raises(ForbiddenError):
        workflow.transition("request", "received", "assign", roles=roles)
    assert workflow.available("request", "received", roles) == []


def test_available_actions_follow_the_state():
    assert workflow.available("request", "answered", OFFICER) == ["approve", "return"]
    assert workflow.available("disclosure", "in-review", OFFICER) == [
        "approve",
        "refuse",
        "assign",
    ]


def test_every_reason_and_outcome_the_pages_offer_is_one_the_answer_schema_takes():
    """One vocabulary: what an officer picks goes out as picked (no "other" in its place)."""
    from gateway.documents.schemas import load_spec
    from gateway.settings import Settings

    answer = load_spec(Settings().spec_path)["components"]["schemas"]["AssistanceAnswer"]
    assert set(workflow.REASONS) == set(answer["properties"]["reason"]["enum"])
    assert set(workflow.OUTCOMES) == set(answer["properties"]["outcome"]["enum"])
