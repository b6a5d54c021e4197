"""The IIO review workflow as pure rules: which action takes a case from which state to which,
and who may take it. No I/O; :mod:`gateway.review.cases` applies them.

A case is either a partner's **request** for assistance::

    received → assigned → in-review → approved | partially-approved | refused
                                       | clarification-requested → answered → closed

(the decision composes the answer, held until approved; ``return`` sends a held answer back to
review), or an outgoing **disclosure** drafted by an officer::

    drafted → in-review → approved → (sent, once the partner's receipt is stored)
                        ↘ refused
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import ForbiddenError, StateConflictError

#: Roles that work cases; a supervisor can do everything an officer can.
CASE_ROLES = frozenset({"officer", "supervisor"})
OUTCOMES = ("approved", "partially-approved", "refused", "clarification-requested")
#: The controlled vocabulary of reasons (refusal, partial approval, clarification, return).
REASONS = (
    "outside-scope",
    "no-legal-basis",
    "confidentiality",
    "insufficient-detail",
    "ongoing-investigation",
    "disproportionate-burden",
    "other",
)
#: The answer's ``outcome`` (PROTOCOL's assistance-answer) for each decision.
ANSWER_OUTCOME = {
    "approved": "answered",
    "partially-approved": "partially-answered",
    "refused": "refused",
    "clarification-requested": "clarification-requested",
}
OPEN_STATES = frozenset({"received", "assigned", "in-review", "drafted", *OUTCOMES})


@dataclass(frozen=True)
class Action:
    name: str
    kind: str  # request | disclosure
    sources: frozenset[str]
    target: str | None  # None: the target depends on the action's input (a decision)
    roles: frozenset[str] = CASE_ROLES


ACTIONS: tuple[Action, ...] = (
    Action("assign", "request", frozenset({"received", "assigned", "in-review"}), "assigned"),
    Action("start-review", "request", frozenset({"assigned"}), "in-review"),
    Action("decide", "request", frozenset({"in-review"}), None),
    Action("approve", "request", frozenset(OUTCOMES), "answered"),
    Action("return", "request", frozenset(OUTCOMES), "in-review"),
    Action("close", "request", frozenset({"answered"}), "closed"),
    Action("submit", "disclosure", frozenset({"drafted"}), "in-review"),
    Action("approve", "disclosure", frozenset({"in-review"}), "approved"),
    Action("refuse", "disclosure", frozenset({"in-review"}), "refused"),
    Action("assign", "disclosure", frozenset({"drafted", "in-review"}), None),
)


def action(kind: str, name: str) -> Action:
    for candidate in ACTIONS:
        if candidate.kind == kind and candidate.name == name:
            return candidate
    raise StateConflictError(f"a {kind} case has no action {name!r}")


def available(kind: str, state: str, roles: frozenset[str]) -> list[str]:
    """The actions a person with ``roles`` may take on a case in ``state`` (for the pages)."""
    return [a.name for a in ACTIONS if a.kind == kind and state in a.sources and roles & a.roles]


def transition(
    kind: str,
    state: str,
    name: str,
    *,
    roles: frozenset[str],
    outcome: str | None = None,
    reason: str | None = None,
) -> str:
    """The state after ``name``; StateConflictError if it is illegal now, ForbiddenError if the
    person may not take it, DocumentError-like StateConflictError for a missing reason."""
    chosen = action(kind, name)
    if not roles & chosen.roles:
        raise ForbiddenError(f"{name} needs the officer or supervisor role")
    if state not in chosen.sources:
        raise StateConflictError(f"a {kind} case that is {state} cannot be {name}d")
    if reason is not None and reason not in REASONS:
        raise StateConflictError(f"{reason!r} is not a reason of the vocabulary")
    if name == "decide":
        if outcome not in OUTCOMES:
            raise StateConflictError(f"a decision is one of {', '.join(OUTCOMES)}")
        if outcome != "approved" and reason is None:
            raise StateConflictError(f"a decision {outcome} needs its reason")
        return outcome
    if name == "return" and reason is None:
        raise StateConflictError("sending an answer back needs its reason")
    return chosen.target or state
