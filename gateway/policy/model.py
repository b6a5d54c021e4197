"""Policy values (pure data): what a policy says, what it is asked, what it decides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gateway.policy.release import Tree, compile_pointers
from gateway.registry import Partner

DIRECTIONS = ("in", "out")
ENFORCEMENT_TYPES = ("seizure-report", "assistance-request", "assistance-answer")
ORIGIN_TYPES = (
    "certificate-of-origin",
    "certificate-status",
    "origin-verification-request",
    "origin-verification-answer",
)
MESSAGE_TYPES = ENFORCEMENT_TYPES + ORIGIN_TYPES
#: Notices about a message the recipient already holds: they retract it or change its markings,
#: so no framework or purpose is needed for them to go (only for what of them goes).
NOTICE_TYPES = ("withdrawal", "marking-change")
#: Every type of message this gateway releases: the decided ones, and notices about them.
RELEASED_TYPES = (*MESSAGE_TYPES, *NOTICE_TYPES)
PURPOSES = ("intelligence", "evidence", "revenue", "origin-verification")
#: Handling codes that forbid onward sharing without the originator's consent (SIENA H2; H3's
#: conditions cannot be checked by a machine, so it is treated as H2).
NO_ONWARD_SHARING = frozenset({"H2", "H3"})
#: TLP 2.0 labels that forbid a recipient to pass the information on at all (RED: the named
#: recipients only; AMBER+STRICT: within the recipient's organisation only).
TLP_NO_ONWARD = frozenset({"TLP:RED", "TLP:AMBER+STRICT"})


@dataclass(frozen=True)
class FrameworkPolicy:
    exchange: Mapping[str, frozenset[str]]
    purposes: frozenset[str]
    personal_data_purposes: frozenset[str]
    retention_days: int
    answer_deadline_days: int | None = None
    #: Days the issuing party has to answer an origin verification request.
    origin_verification_days: int | None = None

    def allows(self, message_type: str, direction: str) -> bool:
        return direction in self.exchange.get(message_type, frozenset())


@dataclass(frozen=True)
class ReviewPolicy:
    personal_data_out: str
    handling_codes_out: Mapping[str, str]
    always: frozenset[str]


@dataclass(frozen=True)
class ReleaseList:
    """What of one message type may go (policies/release.yaml): ``open`` to any partner the
    exchange is allowed with, ``personal`` only under a basis that allows personal data,
    ``never`` to no one; ``essential`` names what the message cannot go without."""

    open: tuple[str, ...]
    personal: tuple[str, ...]
    never: tuple[str, ...] = ()
    essential: tuple[str, ...] = ()
    open_tree: Tree = field(init=False, repr=False, compare=False)
    personal_tree: Tree = field(init=False, repr=False, compare=False)
    open_and_personal_tree: Tree = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # compiled once: a policy is loaded once and never changes
        object.__setattr__(self, "open_tree", compile_pointers(self.open))
        object.__setattr__(self, "personal_tree", compile_pointers(self.personal))
        object.__setattr__(
            self, "open_and_personal_tree", compile_pointers(self.open + self.personal)
        )


@dataclass(frozen=True)
class HubPolicy:
    hub_id: str
    accepts: frozenset[str]
    #: message type → the pointers the hub may receive of it (hub.yaml); nothing else goes.
    release: Mapping[str, tuple[str, ...]]
    retention_days: int
    trees: Mapping[str, Tree] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        trees = {kind: compile_pointers(pointers) for kind, pointers in self.release.items()}
        object.__setattr__(self, "trees", trees)


@dataclass(frozen=True)
class PolicySet:
    """Every policy file, checked and merged. ``digest`` identifies exactly this set."""

    frameworks: Mapping[str, FrameworkPolicy]
    partner_overrides: Mapping[str, Mapping[str, FrameworkPolicy]]
    review: ReviewPolicy
    hub: HubPolicy
    #: message type → what of it may go (policies/release.yaml); a type not here goes nowhere.
    release: Mapping[str, ReleaseList]
    digest: str

    def framework_policy(self, partner_id: str, framework_type: str) -> FrameworkPolicy:
        override = self.partner_overrides.get(partner_id, {}).get(framework_type)
        return override or self.frameworks[framework_type]


@dataclass(frozen=True)
class Context:
    """Everything a decision may depend on. ``partner`` is the other side of the exchange."""

    partner: Partner
    direction: str
    message_type: str
    on: date
    document: Mapping[str, Any]
    purpose: str | None = None
    #: Administrations the originator has consented to receive this document onward.
    consents: frozenset[str] = frozenset()
    gateway_id: str = "JP"
    #: Composed by the gateway itself (a hub feed, a withdrawal passed on), with no officer to
    #: approve it: such a message carries no personal data and no free text, whatever the basis.
    automatic: bool = False


@dataclass(frozen=True)
class FiredRule:
    rule: str
    outcome: str  # allow | deny | redact | mark | review | note
    reason: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rules: tuple[FiredRule, ...]
    redactions: tuple[str, ...]
    markings: Mapping[str, Any]
    review_required: bool
    second_officer_required: bool
    retention_days: int | None
    policy_digest: str
    context: Mapping[str, Any] = field(default_factory=dict)
    #: The document as it may go out: only what the release lists allow (the JSON form). Not
    #: part of the record.
    document: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: SHA-256 of the original document's canonical JSON, where something was withheld: with
    #: ``redactions`` (the withheld pointers) it makes the outgoing message a signed derivation.
    original_sha256: str | None = None
    #: The legal basis the decision applied: each framework in force, its dates, its provisions.
    basis: tuple[Mapping[str, Any], ...] = ()
    #: The personal data and free text that go (concrete pointers), for the second officer.
    personal_released: tuple[str, ...] = ()

    @property
    def deciding_rule(self) -> str | None:
        """The first rule that denied, if any."""
        return next((r.rule for r in self.rules if r.outcome == "deny"), None)

    def explain(self) -> str:
        verdict = "ALLOW" if self.allowed else f"DENY ({self.deciding_rule})"
        lines = [f"{verdict}  policy {self.policy_digest[:16]}"]
        lines += [f"  [{r.outcome:>6}] {r.rule}: {r.reason}" for r in self.rules]
        lines += [f"  basis: {_basis_line(b)}" for b in self.basis]
        if self.redactions:
            lines.append("  withheld: " + ", ".join(self.redactions))
        if self.personal_released:
            lines.append("  personal data going: " + ", ".join(self.personal_released))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "deciding_rule": self.deciding_rule,
            "rules": [vars(r) for r in self.rules],
            "redactions": list(self.redactions),
            "markings": dict(self.markings),
            "review_required": self.review_required,
            "second_officer_required": self.second_officer_required,
            "retention_days": self.retention_days,
            "policy_digest": self.policy_digest,
            "context": dict(self.context),
            **({"original_sha256": self.original_sha256} if self.original_sha256 else {}),
            **({"basis": [dict(b) for b in self.basis]} if self.basis else {}),
            **(
                {"personal_released": list(self.personal_released)}
                if self.personal_released
                else {}
            ),
        }


def _basis_line(basis: Mapping[str, Any]) -> str:
    text = f"{basis['framework']} in force {basis['in_force']}"
    if basis.get("revised"):
        text += f", revised {basis['revised']}"
    if basis.get("fy2012_from"):
        state = "applied" if basis["fy2012_applied"] else f"from {basis['fy2012_from']}"
        text += f"; FY2012 provisions {state}"
    else:
        text += "; no FY2012 provisions"
    return text
