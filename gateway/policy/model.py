"""Policy values (pure data): what a policy says, what it is asked, what it decides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

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
PURPOSES = ("intelligence", "evidence", "revenue", "origin-verification")
#: Handling codes that forbid onward sharing without the originator's consent (SIENA H2; H3's
#: conditions cannot be checked by a machine, so it is treated as H2).
NO_ONWARD_SHARING = frozenset({"H2", "H3"})


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
class HubPolicy:
    hub_id: str
    accepts: frozenset[str]
    remove: tuple[str, ...]
    retention_days: int


@dataclass(frozen=True)
class PolicySet:
    """Every policy file, checked and merged. ``digest`` identifies exactly this set."""

    frameworks: Mapping[str, FrameworkPolicy]
    partner_overrides: Mapping[str, Mapping[str, FrameworkPolicy]]
    review: ReviewPolicy
    hub: HubPolicy
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
    #: The document as it may go out: after the redactions (the JSON form). Not part of the record.
    document: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def deciding_rule(self) -> str | None:
        """The first rule that denied, if any."""
        return next((r.rule for r in self.rules if r.outcome == "deny"), None)

    def explain(self) -> str:
        verdict = "ALLOW" if self.allowed else f"DENY ({self.deciding_rule})"
        lines = [f"{verdict}  policy {self.policy_digest[:16]}"]
        lines += [f"  [{r.outcome:>6}] {r.rule}: {r.reason}" for r in self.rules]
        if self.redactions:
            lines.append("  removed: " + ", ".join(self.redactions))
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
        }
