"""Events about the gateway itself and sensitive reads (issue 4, "every event")."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy import select

from gateway.audit.system_events import note_policy_in_force
from gateway.cli import main
from gateway.store.models import AuditEvent
from gateway.trust.keys import generate_jwk, public_part


def events(services, tag: str) -> list[AuditEvent]:
    with services.database.transaction() as session:
        return list(
            session.execute(
                select(AuditEvent).where(AuditEvent.tag == tag).order_by(AuditEvent.log_index)
            ).scalars()
        )


def test_policy_set_in_force_is_recorded_and_a_change_is_an_event(services):
    now = datetime.now(UTC)
    assert note_policy_in_force(services.database, "a" * 64, now=now) == "system:policy:loaded"
    assert note_policy_in_force(services.database, "a" * 64, now=now) is None
    assert note_policy_in_force(services.database, "b" * 64, now=now) == "system:policy:changed"
    (changed,) = events(services, "system:policy:changed")
    assert changed.detail == {"policy_digest": "b" * 64, "previous_policy_digest": "a" * 64}


def test_partner_reading_its_report_is_an_event(partner, services, sample_json):
    kr = partner("KR")
    message_id = str(uuid.uuid4())
    kr.send(
        "/v1/seizure-reports",
        sample_json,
        content_type="application/json",
        message_type="seizure-report",
        message_id=message_id,
    )
    assert kr.get(f"/v1/seizure-reports/{message_id}").status == 200
    (read,) = events(services, "partner:seizure-report:read")
    assert (read.actor, read.message_id) == ("KR", message_id)


def test_pinning_a_key_is_an_event(settings, services, tmp_path):
    jwk = public_part(generate_jwk())
    (tmp_path / "new.jwk").write_text(json.dumps(jwk))
    env = {
        "GATEWAY_DATABASE_URL": settings.database_url,
        "GATEWAY_KEY_PINS_DIR": str(settings.key_pins_dir),
        "GATEWAY_REGISTRY_DIR": str(settings.registry_dir),
    }
    result = CliRunner().invoke(
        main, ["partners", "add-key", "KR", str(tmp_path / "new.jwk")], env=env
    )
    assert result.exit_code == 0, result.output
    (pinned,) = events(services, "operator:key:pinned")
    assert (pinned.partner, pinned.detail["kid"]) == ("KR", jwk["kid"])
