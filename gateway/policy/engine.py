"""``decide(policies, context) → Decision``: pure, explainable, deny by default.

The rules run in a fixed order and each says what it found; the decision allows only if some
rule allowed the exchange and none denied it. The order is the order of the explanation.
What of the document goes is decided by allow-list (:mod:`gateway.policy.release`): the fields
release.yaml names as open, the personal ones only where the basis allows personal data, the
hub's own list for the hub; everything else is withheld and named in the decision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gateway.policy.model import (
    ENFORCEMENT_TYPES,
    NO_ONWARD_SHARING,
    NOTICE_TYPES,
    ORIGIN_TYPES,
    TLP_NO_ONWARD,
    Context,
    Decision,
    FiredRule,
    PolicySet,
)
from gateway.policy.redaction import add_age_bands
from gateway.policy.release import Tree, canonical_sha256, covers, has_value, present, release
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
    original_sha256: str | None = None
    personal_released: tuple[str, ...] = ()
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
    if context.direction == "out" and context.message_type in NOTICE_TYPES:
        draft.fire(
            "hub-accepts", "allow", f"a {context.message_type} follows what {hub.hub_id} holds"
        )
    elif context.direction == "out" and context.message_type in hub.accepts:
        draft.fire("hub-accepts", "allow", f"{hub.hub_id} accepts {context.message_type}")
        draft.retention_days = hub.retention_days
    else:
        draft.fire(
            "hub-accepts",
            "deny",
            f"{hub.hub_id} takes no {context.message_type} {context.direction}",
        )


def _framework_in_force(policies: PolicySet, context: Context, draft: _Draft) -> None:
    if context.partner.kind == "hub" or context.message_type in NOTICE_TYPES:
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
    if context.message_type in NOTICE_TYPES:
        draft.allowed_by = list(context.partner.frameworks_in_force(context.on))
        draft.fire(
            context.message_type,
            "allow",
            f"a {context.message_type} is about what the recipient already holds",
        )
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
    if context.message_type in NOTICE_TYPES:
        if context.purpose is not None:  # the withdrawn message's: it bounds the reason's basis
            draft.allowed_by = [
                f
                for f in draft.allowed_by
                if context.purpose in policies.framework_policy(context.partner.id, f.type).purposes
            ]
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


def _tlp(policies: PolicySet, context: Context, draft: _Draft) -> None:
    """TLP 2.0: RED is for its named recipients, AMBER+STRICT for the recipient's organisation:
    neither goes onward or to the hub; AMBER goes onward only with the originator's consent."""
    if context.direction != "out" or context.message_type not in ENFORCEMENT_TYPES:
        return
    markings = context.document.get("markings") or {}
    tlp, originator = markings.get("tlp"), markings.get("originator")
    own = originator == context.gateway_id
    back = originator == context.partner.id
    if context.partner.kind == "hub" and tlp in TLP_NO_ONWARD:
        draft.fire("tlp", "deny", f"marked {tlp}: it never goes to {context.partner.id}")
    elif tlp in TLP_NO_ONWARD and not (own or back):
        scope = "its named recipients" if tlp == "TLP:RED" else "the recipient administration"
        draft.fire("tlp", "deny", f"{originator} marked it {tlp}: for {scope} only, never onward")
    elif tlp == "TLP:AMBER" and not (own or back):
        if context.partner.id in context.consents:
            draft.fire(
                "tlp", "allow", f"{originator} consented to {tlp} going to {context.partner.id}"
            )
        else:
            draft.fire(
                "tlp",
                "deny",
                f"{originator} marked it {tlp}: onward only with its recorded consent",
            )
    elif tlp:
        draft.fire("tlp", "note", f"marked {tlp}")


def _release(policies: PolicySet, context: Context, draft: _Draft) -> None:
    """Keep only what the allow-lists name: open fields; personal data and free text where the
    basis allows them, with a second officer; the hub's list for the hub."""
    if context.direction != "out":
        return
    lists = policies.release.get(context.message_type)
    if lists is None:
        draft.fire("release", "deny", f"no release list names anything of a {context.message_type}")
        return
    tree: Tree
    if context.partner.kind == "hub":
        hub_tree = policies.hub.trees.get(context.message_type)
        if hub_tree is None:
            draft.fire(
                "release", "deny", f"the hub's list names nothing of a {context.message_type}"
            )
            return
        tree, why = hub_tree, f"only what {policies.hub.hub_id}'s list names"
    else:
        tree, why = _partner_tree(policies, context, draft)
    original = draft.document
    if not covers(tree, "/persons/*/date_of_birth"):
        original = add_age_bands(original, context.on)
    released = release(original, tree)
    lost = [p for p in lists.essential if has_value(original, p) and not covers(tree, p)]
    if lost:
        draft.fire(
            "release-incomplete",
            "deny",
            f"{', '.join(lost)} cannot go ({why}), and the message cannot go without it",
        )
        return
    draft.document = released.document
    draft.redactions += released.withheld
    if tree is lists.open_and_personal_tree:
        draft.personal_released = present(released.document, lists.personal_tree)
    if released.withheld:
        draft.original_sha256 = canonical_sha256(context.document)
        draft.fire("release", "redact", f"withheld {len(released.withheld)} field(s): {why}")


def _partner_tree(policies: PolicySet, context: Context, draft: _Draft) -> tuple[Tree, str]:
    """The list a partner gets: open fields, and personal ones where the basis allows."""
    lists = policies.release[context.message_type]
    if not present(draft.document, lists.personal_tree):
        return lists.open_tree, "nothing personal to withhold"
    basis = [
        f
        for f in draft.allowed_by
        if f.fy2012_on(context.on)
        and (
            context.purpose is None
            or context.purpose
            in policies.framework_policy(context.partner.id, f.type).personal_data_purposes
        )
    ]
    if context.automatic:
        return lists.open_tree, "no officer composed it: no personal data and no free text"
    if not basis:
        return lists.open_tree, _no_basis(context, draft)
    draft.fire(
        "personal-data",
        "allow",
        f"{basis[0].type} carries the FY2012 provisions on {context.on.isoformat()}"
        + (f" for purpose {context.purpose}" if context.purpose else ""),
    )
    draft.require(policies.review.personal_data_out, "personal-data", "personal data goes out")
    return lists.open_and_personal_tree, "the basis allows personal data"


def _no_basis(context: Context, draft: _Draft) -> str:
    """Why personal data may not go: which frameworks lack the provisions, or lack them yet."""
    later = [
        f"{f.type} carries them only from {f.fy2012_from.isoformat()}"
        for f in draft.allowed_by
        if f.fy2012_from is not None and f.fy2012_from > context.on
    ]
    reason = f"no framework in force on {context.on.isoformat()} carries the FY2012 provisions" + (
        f" for purpose {context.purpose}" if context.purpose else ""
    )
    return "; ".join([reason, *later]) + ": personal data and free text withheld"


def _review(policies: PolicySet, context: Context, draft: _Draft) -> None:
    # a notice's markings are those of the message it is about, not a handling of its own
    if context.direction != "out" or context.message_type in NOTICE_TYPES:
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
    _tlp,
    _originator_control,
    _release,
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
        original_sha256=draft.original_sha256 if allowed else None,
        personal_released=draft.personal_released if allowed else (),
        basis=_basis(context),
        context={
            "partner": context.partner.id,
            "direction": context.direction,
            "message_type": context.message_type,
            "purpose": context.purpose,
            "date": context.on.isoformat(),
            "consents": sorted(context.consents),
        },
        document=draft.document if allowed else {},
    )


def _basis(context: Context) -> tuple[dict[str, Any], ...]:
    """Each framework in force with the partner on the date, its dates and provisions."""
    if context.partner.kind == "hub":
        return ()
    return tuple(
        {
            "framework": f.type,
            "in_force": f.in_force.isoformat(),
            **({"revised": f.revised.isoformat()} if f.revised else {}),
            **({"fy2012_from": f.fy2012_from.isoformat()} if f.fy2012_from else {}),
            "fy2012_applied": f.fy2012_on(context.on),
        }
        for f in context.partner.frameworks_in_force(context.on)
    )
