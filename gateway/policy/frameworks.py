"""The legal-basis gate of the inbound path: is a framework with the partner in force today?

This is the first rule of the sharing policy (issue 3 replaces it with the full engine): without a
framework in force on the exchange date, nothing is exchanged, in either direction.
"""

from __future__ import annotations

from datetime import date

from gateway.errors import PolicyDeniedError
from gateway.registry import Framework, Partner

RULE_NO_FRAMEWORK = "no-framework-in-force"


def require_framework_in_force(partner: Partner, on: date) -> tuple[Framework, ...]:
    """The frameworks in force with ``partner`` on ``on``; PolicyDeniedError if there is none."""
    in_force = partner.frameworks_in_force(on)
    if not in_force:
        raise PolicyDeniedError(
            f"no framework for exchange with {partner.id} is in force on {on.isoformat()}",
            rule=RULE_NO_FRAMEWORK,
        )
    return in_force
