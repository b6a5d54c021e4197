"""The IIO review workflow as pure rules: which action takes a case from which state to which,
and who may take it. No I/O; :mod:`gateway.review.cases` applies them.

A case is either a partner's **request** for assistance::

    received → assigned → in-review → answered | partially-answered | refused
                                       | clarification-requested → released → closed

(the decision composes the answer, held until a second person approves it, which releases it;
``return`` sends a held answer back to review). A decision is named as the answer names its
outcome, so the pages, the API and the message say the same word. Or an outgoing
**disclosure** drafted by an officer::

    drafted → in-review → approved → (sent, once the partner's receipt is stored)
                        ↘ refused
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import ForbiddenError, StateConflictError

#: Roles that work cases; a supervisor can do everything an officer can.
CASE_ROLES = frozenset({"officer", "supervisor"})
#: The decisions on a request: the ``outcome`` the answer carries (PROTOCOL's assistance-answer).
OUTCOMES = ("answered", "partially-answered", "refused", "clarification-requested")
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
    Action("approve", "request", frozenset(OUTCOMES), "released"),
    Action("return", "request", frozenset(OUTCOMES), "in-review"),
    Action("close", "request", frozenset({"released"}), "closed"),
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
        if outcome != "answered" and reason is None:
            raise StateConflictError(f"a decision {outcome} needs its reason")
        return outcome
    if name == "return" and reason is None:
        raise StateConflictError("sending an answer back needs its reason")
    return chosen.target or state
