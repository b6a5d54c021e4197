"""The certificate lifecycle's rules (gateway/origin/lifecycle.py), one test per rule."""

from __future__ import annotations

import pytest

from gateway.errors import HeaderMismatchError, StateConflictError
from gateway.origin import lifecycle
from gateway.origin.lifecycle import State

ISSUED = State("issued", None, 1)
RECEIVED = State("issued", "received", 1)
USED = State("issued", "used", 1)


def test_issue_is_version_one():
    assert lifecycle.issued(1) == ISSUED
    with pytest.raises(StateConflictError, match="send version 1"):
        lifecycle.issued(2)


def test_amendment_replaces_the_version_before():
    assert lifecycle.amend(ISSUED, 2) == State("amended", None, 2)
    assert lifecycle.amend(State("amended", "used", 2), 3) == State("amended", "used", 3)
    with pytest.raises(StateConflictError, match="version 2, not 3"):
        lifecycle.amend(ISSUED, 3)
    with pytest.raises(StateConflictError, match="version 2, not 1"):
        lifecycle.amend(ISSUED, 1)


@pytest.mark.parametrize("status", ["cancelled", "revoked"])
def test_a_dead_certificate_is_neither_amended_nor_used(status):
    dead = State(status, None, 1)
    with pytest.raises(StateConflictError):
        lifecycle.amend(dead, 2)
    with pytest.raises(StateConflictError, match="cannot be used"):
        lifecycle.apply_notice(dead, "used")
    with pytest.raises(StateConflictError, match="already"):
        lifecycle.apply_notice(dead, "revoked")


def test_cancellation_only_while_unused():
    assert lifecycle.apply_notice(RECEIVED, "cancelled").status == "cancelled"
    for used in ("used", "preference-granted", "preference-refused"):
        with pytest.raises(StateConflictError, match="revoke it instead"):
            lifecycle.apply_notice(State("issued", used, 1), "cancelled")


def test_revocation_at_any_time_while_live():
    assert lifecycle.apply_notice(USED, "revoked") == State("revoked", "used", 1)
    assert lifecycle.apply_notice(State("amended", None, 2), "revoked").status == "revoked"


def test_use_once_then_preference():
    used = lifecycle.apply_notice(RECEIVED, "used")
    assert used.usage == "used"
    with pytest.raises(StateConflictError, match="already used"):
        lifecycle.apply_notice(used, "used")
    assert lifecycle.apply_notice(used, "preference-refused").usage == "preference-refused"
    with pytest.raises(StateConflictError, match="record the certificate's use first"):
        lifecycle.apply_notice(RECEIVED, "preference-granted")


def test_received_marks_an_unused_certificate_only():
    assert lifecycle.received(ISSUED).usage == "received"
    assert lifecycle.received(USED).usage == "used"


@pytest.mark.parametrize(
    ("notice", "sender", "allowed"),
    [
        ("cancelled", "JP", True),
        ("cancelled", "ID", False),
        ("revoked", "ID", False),
        ("used", "ID", True),
        ("used", "JP", False),
        ("preference-granted", "JP", False),
    ],
)
def test_each_notice_comes_from_its_party(notice, sender, allowed):
    if allowed:
        lifecycle.check_sender(notice, sender, "JP", "ID")
    else:
        with pytest.raises(HeaderMismatchError):
            lifecycle.check_sender(notice, sender, "JP", "ID")
