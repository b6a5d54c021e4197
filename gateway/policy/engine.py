"""``decide(policies, context) → Decision``: pure, explainable, deny by default.

The rules run in a fixed order and each says what it found; the decision allows only if some
rule allowed the exchange and none denied it. The order is the order of the explanation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gateway.policy.model import (
    ENFORCEMENT_TYPES,
    NO_ONWARD_SHARING,
    ORIGIN_TYPES,
    Context,
    Decision,
    FiredRule,
    PolicySet,
)
from gateway.policy.redaction import has_personal_data, reduce_persons, remove_paths
from gateway.registry import Framework


@dataclass
class _Draft:
    """The decision being built while the rules run."""

    document: dict[str, Any]
    rules: list[FiredRule] = field(default_factory=list)
    redactions: list[str] = field(default_factory=list)
    allowed_by: list[Framework] = field(default_factory=list)
    review: bool = False
    second_officer: bool = False
    retention_days: int | None = None
    stop: bool = False

    def fire(self, rule: str, outcome: str, reason: str) -> None:
        self.rules.append(FiredRule(rule, outcome, reason))
        if outcome == "deny":
            self.stop = True

    def require(self, level: str, rule: str, reason: str) -> None:
        if level in ("review", "second-officer"):
            self.review = True
            self.second_officer = self.second_officer or level == "second-officer"
            self.fire(rule, "review", f"{reason}: {level.replace('-', ' ')} required")


Rule = Callable[[PolicySet, Context, _Draft], None]


def _markings_valid(policies: PolicySet, context: Context, draft: _Draft) -> None:
    markings = context.document.get("markings")
    if context.message_type not in ENFORCEMENT_TYPES:
        return  # enforcement information carries markings; certificates of origin do not
    if not isinstance(markings, Mapping) or not {"originator", "handling_code", "tlp"} <= set(
        markings
    ):
        draft.fire("markings-required", "deny", "the message carries no complete markings")
    elif markings["handling_code"] == "H3" and not markings.get("conditions"):
        draft.fire("markings-required", "deny", "handling code H3 without its conditions")


def _hub(policies: PolicySet, context: Context, draft: _Draft) -> None:
    if context.partner.kind != "hub":
        return
    hub = policies.hub
    if context.direction == "out" and context.message_type in hub.accepts:
        draft.fire("hub-accepts", "allow", f"{hub.hub_id} accepts {context.message_type}")
        draft.retention_days = hub.retention_days
    else:
        draft.fire(
            "hub-accepts",
            "deny",
            f"{hub.hub_id} takes no {context.message_type} {context.direction}",
        )


def _framework_in_force(policies: PolicySet, context: Context, draft: _Draft) -> None:
    if context.partner.kind == "hub":
        return
    if not context.partner.frameworks_in_force(context.on):
        draft.fire(
            "no-framework-in-force",
            "deny",
            f"no framework with {context.partner.id} is in force on {context.on.isoformat()}",
        )


def _type_covered(policies: PolicySet, context: Context, draft: _Draft) -> None:
    if context.partner.kind == "hub":
        return
    for framework in context.partner.frameworks_in_force(context.on):
        policy = policies.framework_policy(context.partner.id, framework.type)
        if not policy.allows(context.message_type, context.direction):
            continue
        if context.message_type in ORIGIN_TYPES and not _names_agreement(context, framework):
            continue  # origin documents flow only under the agreement they name
        draft.allowed_by.append(framework)
    if draft.allowed_by:
        names = ", ".join(f"{f.type} (in force {f.in_force.isoformat()})" for f in draft.allowed_by)
        draft.fire(
            "framework-covers-type",
            "allow",
            f"{context.message_type} {context.direction} under {names}",
        )
        draft.retention_days = min(
            policies.framework_policy(context.partner.id, f.type).retention_days
            for f in draft.allowed_by
        )
    else:
        draft.fire(
            "not-covered-by-framework",
            "deny",
            f"no framework in force with {context.partner.id} covers "
            f"{context.message_type} {context.direction}",
        )


def _names_agreement(context: Context, framework: Framework) -> bool:
    """The document names this framework's agreement, and a certificate was issued while the
    agreement was in force between the two parties (it is in force for both from the date the
    partner's file records)."""
    if framework.agreement is None or context.document.get("agreement") != framework.agreement:
        return False
    issued = context.document.get("issue_date")
    if context.message_type == "certificate-of-origin" and isinstance(issued, str):
        try:
            return framework.in_force_on(date.fromisoformat(issued))
        except ValueError:
            return False
    return True


def _purpose(policies: PolicySet, context: Context, draft: _Draft) -> None:
    if context.direction != "out" or context.partner.kind == "hub":
        return
    if context.purpose is None:
        draft.fire("purpose-required", "deny", "an outgoing exchange must state its purpose")
        return
    allowing = [
        f
        for f in draft.allowed_by
        if context.purpose in policies.framework_policy(context.partner.id, f.type).purposes
    ]
    if allowing:
        draft.allowed_by = allowing
        draft.fire(
            "purpose-allowed", "allow", f"purpose {context.purpose} under {allowing[0].type}"
        )
    else:
        draft.fire(
            "purpose-not-allowed",
            "deny",
            f"purpose {context.purpose} is not allowed with {context.partner.id}",
        )


def _originator_control(policies: PolicySet, context: Context, draft: _Draft) -> None:
    markings = context.document.get("markings") or {}
    originator = markings.get("originator")
    if context.direction != "out" or originator in (None, context.gateway_id):
        return
    if originator == context.partner.id:
        draft.fire("originator-control", "note", f"returned to its originator {originator}")
    elif markings.get("handling_code") not in NO_ONWARD_SHARING:
        draft.fire(
            "originator-control",
            "note",
            f"{originator}'s handling code {markings.get('handling_code')} allows onward sharing",
        )
    elif context.partner.id in context.consents:
        draft.fire(
            "originator-control",
            "allow",
            f"{originator} consented to onward sharing with {context.partner.id}",
        )
    else:
        draft.fire(
            "originator-control",
            "deny",
            f"{originator} marked it {markings.get('handling_code')}: "
            "no onward sharing without its recorded consent",
        )


def _personal_data(policies: PolicySet, context: Context, draft: _Draft) -> None:
    if context.direction != "out" or not has_personal_data(draft.document):
        return
    if context.partner.kind == "hub":
        return  # the hub's removals (below) take everything personal out
    enhanced = [
        f
        for f in draft.allowed_by
        if f.fy2012_enhanced
        and context.purpose
        in policies.framework_policy(context.partner.id, f.type).personal_data_purposes
    ]
    if enhanced:
        draft.fire(
            "personal-data",
            "allow",
            f"{enhanced[0].type} carries the FY2012 provisions for purpose {context.purpose}",
        )
        draft.require(policies.review.personal_data_out, "personal-data", "personal data goes out")
        return
    draft.document, removed = reduce_persons(draft.document, context.on)
    draft.document, removed_text = remove_paths(draft.document, ("/summary",))
    draft.redactions += removed + removed_text
    draft.fire(
        "personal-data",
        "redact",
        "no framework with the FY2012 provisions for this purpose: persons reduced to role, "
        "nationality, sex and age band; free text removed",
    )


def _hub_removals(policies: PolicySet, context: Context, draft: _Draft) -> None:
    if context.partner.kind != "hub" or context.direction != "out":
        return
    draft.document, removed = remove_paths(draft.document, policies.hub.remove)
    draft.redactions += removed
    if removed:
        draft.fire("hub-sanitised", "redact", "no personal data and no free text to the hub")


def _review(policies: PolicySet, context: Context, draft: _Draft) -> None:
    if context.direction != "out":
        return
    code = (context.document.get("markings") or {}).get("handling_code")
    if code:
        draft.require(
            policies.review.handling_codes_out.get(code, "none"), "handling-code", f"marked {code}"
        )
    if context.message_type in policies.review.always:
        draft.require("review", "review-always", f"every {context.message_type} is reviewed")


RULES: tuple[Rule, ...] = (
    _markings_valid,
    _hub,
    _framework_in_force,
    _type_covered,
    _purpose,
    _originator_control,
    _personal_data,
    _hub_removals,
    _review,
)


def decide(policies: PolicySet, context: Context) -> Decision:
    """Decide one exchange. Pure: the same policies and context give the same decision."""
    draft = _Draft(document=dict(context.document))
    for rule in RULES:
        rule(policies, context, draft)
        if draft.stop:
            break
    allowed = not draft.stop and any(r.outcome == "allow" for r in draft.rules)
    if not draft.stop and not allowed:
        draft.fire("default-deny", "deny", "no rule allows this exchange")
    markings = dict(context.document.get("markings") or {})
    return Decision(
        allowed=allowed,
        rules=tuple(draft.rules),
        redactions=tuple(draft.redactions),
        markings=markings,
        review_required=draft.review,
        second_officer_required=draft.second_officer,
        retention_days=draft.retention_days if allowed else None,
        policy_digest=policies.digest,
        context={
            "partner": context.partner.id,
            "direction": context.direction,
            "message_type": context.message_type,
            "purpose": context.purpose,
            "date": context.on.isoformat(),
            "consents": sorted(context.consents),
        },
        document=draft.document,
    )
