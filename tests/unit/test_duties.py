"""gateway.duties: who may take which step, compared by account."""

from __future__ import annotations

import pytest

from gateway import duties
from gateway.errors import ForbiddenError
from gateway.people import Person


def person(name: str, *roles: str) -> Person:
    return Person(name, name.title(), frozenset(roles))


@pytest.mark.parametrize("second_officer", [False, True])
def test_the_drafter_never_approves_whatever_the_policy(second_officer):
    chief = person("officer1", "officer", "supervisor")
    with pytest.raises(ForbiddenError, match="drafter"):
        duties.check_approve(chief, drafted_by="officer:officer1", second_officer=second_officer)


@pytest.mark.parametrize("typed", ["officer:Officer1", "supervisor:OFFICER1", "officer:officer1"])
def test_a_name_typed_in_another_case_is_the_same_person(typed):
    chief = person("officer1", "supervisor")
    assert not duties.may_approve(chief, drafted_by=typed, second_officer=False)


def test_a_second_officer_must_be_a_supervisor():
    clerk = person("clerk", "officer")
    with pytest.raises(ForbiddenError, match="supervisor"):
        duties.check_approve(clerk, drafted_by="officer:tanaka", second_officer=True)
    assert duties.may_approve(clerk, drafted_by="officer:tanaka", second_officer=False)
    assert duties.may_approve(
        person("chief", "supervisor"), drafted_by="officer:tanaka", second_officer=True
    )


def test_a_system_drafter_is_nobodys_account():
    assert duties.account_of("system:withdrawal") is None
    assert duties.may_approve(
        person("chief", "supervisor"), drafted_by="system:review", second_officer=True
    )


@pytest.mark.parametrize("step", sorted(duties.STEPS))
def test_only_officers_and_supervisors_take_exchange_steps(step):
    for roles in (("analyst",), ("auditor",), ("admin",)):
        assert not duties.may(person("x", *roles), step)
    assert duties.may(person("x", "officer"), step)
    assert duties.may(person("x", "supervisor"), step)


def test_an_unknown_step_is_nobodys():
    with pytest.raises(ForbiddenError):
        duties.check(person("x", "officer", "supervisor"), "release-everything")
