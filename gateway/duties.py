"""Separation of duties: who may take which step of the exchange, as pure rules.

One module for every door. The pages, the operator API and the CLI all reach the workflows
(:mod:`gateway.review.cases`, :mod:`gateway.exchange.outbound`, …) with a
:class:`~gateway.people.Person` read from an account, and the workflows call these checks; no
door decides on its own. Identities are compared by account: an actor recorded in the log is
``<role>:<username>`` and :func:`account_of` reads the username back, case-folded, so a name typed
differently (``Officer1`` against ``officer1``) is still the same person.

The rules:

- **draft**, **decide**, **withdraw**, **change a marking**, **record consent**, **retry a dead
  letter** and the certificate-of-origin steps: an officer or a supervisor.
- **approve** (release a held message): an officer or a supervisor who is *not* the drafter,
  whatever the policy; where the policy asks for a second officer, a supervisor.

Each check raises :class:`~gateway.errors.ForbiddenError` naming the rule; each ``may_*``
answers the same question as a bool, for showing only the buttons a person may press.
"""

from __future__ import annotations

from gateway.errors import ForbiddenError
from gateway.people import Person

#: The roles that act on the exchange (a supervisor can do everything an officer can).
EXCHANGE_ROLES = frozenset({"officer", "supervisor"})
#: Steps any officer or supervisor may take.
STEPS = frozenset(
    {
        "draft",
        "decide",
        "withdraw",
        "change-marking",
        "record-consent",
        "retry",
        "certificate",
        "lookup",
    }
)


def account_of(actor: str | None) -> str | None:
    """The account an audit actor names (``officer:tanaka`` → ``tanaka``), case-folded; None for
    the gateway's own systems (``system:…``, ``operator:…``) and for nobody."""
    if not actor:
        return None
    role, _, name = actor.partition(":")
    if not name or role in ("system", "operator", "partner"):
        return None
    return name.casefold()


def same_person(person: Person, actor: str | None) -> bool:
    """Whether ``actor`` (as recorded) names ``person``'s account."""
    return account_of(actor) == person.username.casefold()


def check(person: Person, step: str) -> None:
    """ForbiddenError unless ``person`` may take ``step`` (one of :data:`STEPS`)."""
    if step not in STEPS:
        raise ForbiddenError(f"{step!r} is no step of the exchange")
    if not person.roles & EXCHANGE_ROLES:
        raise ForbiddenError(f"{step} needs the officer or supervisor role")


def may(person: Person, step: str) -> bool:
    try:
        check(person, step)
    except ForbiddenError:
        return False
    return True


def check_approve(person: Person, *, drafted_by: str | None, second_officer: bool) -> None:
    """ForbiddenError unless ``person`` may release what ``drafted_by`` drafted: never the
    drafter; a supervisor where the policy requires a second officer."""
    if not person.roles & EXCHANGE_ROLES:
        raise ForbiddenError("approving needs the officer or supervisor role")
    if same_person(person, drafted_by):
        raise ForbiddenError("four eyes: the drafter cannot approve their own draft")
    if second_officer and "supervisor" not in person.roles:
        raise ForbiddenError("four eyes: the approver must hold the supervisor role")


def may_approve(person: Person, *, drafted_by: str | None, second_officer: bool) -> bool:
    try:
        check_approve(person, drafted_by=drafted_by, second_officer=second_officer)
    except ForbiddenError:
        return False
    return True
