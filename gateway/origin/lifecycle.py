"""The lifecycle of a certificate of origin, as pure rules (no I/O).

Exporting side (``status``): issued → amended (each new version replaces the one before) →
cancelled (only while unused) or revoked (at any time, e.g. after a verification).
Importing side (``usage``): received → used in a declaration → preference granted or refused.
Each step is a signed message from the party that takes it; anything else is a
StateConflictError naming why.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import HeaderMismatchError, StateConflictError

#: Notices the exporting party sends, and those the importing party sends.
EXPORTER_NOTICES = frozenset({"cancelled", "revoked"})
IMPORTER_NOTICES = frozenset({"used", "preference-granted", "preference-refused"})
LIVE = frozenset({"issued", "amended"})
UNUSED = frozenset({None, "received"})


@dataclass(frozen=True)
class State:
    status: str
    usage: str | None
    version: int


def issued(version: int) -> State:
    if version != 1:
        raise StateConflictError(
            f"version {version} amends a certificate this gateway does not hold; send version 1"
        )
    return State("issued", None, 1)


def amend(current: State, version: int) -> State:
    """A new version of a held certificate: the next number, and only while it is live."""
    if current.status not in LIVE:
        raise StateConflictError(f"the certificate is {current.status}; it cannot be amended")
    if version != current.version + 1:
        raise StateConflictError(
            f"the certificate is at version {current.version}; an amendment is version "
            f"{current.version + 1}, not {version}"
        )
    return State("amended", current.usage, version)


def notice_party(notice: str) -> str:
    """``exporting`` or ``importing``: which party may send ``notice``."""
    return "exporting" if notice in EXPORTER_NOTICES else "importing"


def check_sender(notice: str, sender: str, exporting_party: str, importing_party: str) -> None:
    expected = exporting_party if notice_party(notice) == "exporting" else importing_party
    if sender != expected:
        raise HeaderMismatchError(
            f"only the {notice_party(notice)} party ({expected}) reports {notice!r}"
        )


def apply_notice(current: State, notice: str) -> State:
    """The state after ``notice``; StateConflictError if it may not happen now."""
    if notice == "cancelled":
        if current.status not in LIVE:
            raise StateConflictError(f"the certificate is already {current.status}")
        if current.usage not in UNUSED:
            raise StateConflictError(
                f"the certificate was {current.usage}: only an unused certificate can be "
                "cancelled; revoke it instead"
            )
        return State("cancelled", current.usage, current.version)
    if notice == "revoked":
        if current.status not in LIVE:
            raise StateConflictError(f"the certificate is already {current.status}")
        return State("revoked", current.usage, current.version)
    if notice == "used":
        if current.status not in LIVE:
            raise StateConflictError(f"the certificate is {current.status}: it cannot be used")
        if current.usage not in UNUSED:
            raise StateConflictError(f"the certificate was already {current.usage}")
        return State(current.status, "used", current.version)
    if notice in ("preference-granted", "preference-refused"):
        if current.usage != "used":
            raise StateConflictError(
                "preference is decided on a declaration: record the certificate's use first"
            )
        return State(current.status, notice, current.version)
    raise StateConflictError(f"unknown notice {notice!r}")


def received(current: State) -> State:
    """The importing side holds the certificate (its signed receipt went back)."""
    return State(current.status, current.usage or "received", current.version)
