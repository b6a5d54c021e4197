"""The tamper-evident exchange log (issue 4), on SQLite and PostgreSQL.

Each tampering test changes rows directly in the database, as an operator with database access
could, then exports and verifies offline: the verifier must name the index where it happened.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from gateway.audit import merkle
from gateway.audit.checkpoints import consistency_proof, inclusion_proof, sign_tree_head
from gateway.audit.export import export_log
from gateway.audit.hashing import canonical_entry, chain_hash, leaf_hash
from gateway.audit.retention import apply_retention
from gateway.audit.verify import verify_export
from gateway.store.models import AuditEvent, Message

START, END = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


@pytest.fixture
def log(partner, services, sample_json):
    """A log of 3 accepted reports (received + decided each) and 1 refusal: 7 leaves."""
    kr = partner("KR")
    for _ in range(3):
        assert (
            kr.send(
                "/v1/seizure-reports",
                sample_json,
                content_type="application/json",
                message_type="seizure-report",
            ).status
            == 202
        )
    assert (
        kr.send(
            "/v1/seizure-reports",
            b"{}",
            content_type="application/json",
            message_type="seizure-report",
        ).status
        == 422
    )
    return services


def export(services):
    data = export_log(
        services.database,
        services.registry,
        services.keyring,
        gateway_id="JP",
        start=START,
        end=END,
        actor="auditor:test",
        now=datetime.now(UTC),
    )
    return json.loads(json.dumps(data))  # exactly what a file would hold


def verify(services, data, **kwargs):
    return verify_export(data, trusted_keys=list(services.keyring.published), **kwargs)


def sql(services, statement: str, **params) -> None:
    with services.database.engine.begin() as connection:
        connection.execute(text(statement), params)


@pytest.mark.parametrize("number", [float("inf"), float("-inf"), float("nan")])
def test_entry_with_a_number_other_parsers_cannot_read_is_never_written(number):
    """Python's json would write Infinity or NaN, which an auditor's verifier in another language
    cannot read: the entry is refused instead (every path that takes numbers from outside bounds
    them first, test_bad_input.py and test_pull.py)."""
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        canonical_entry({"tag": "t", "detail": {"log_index": number}})
    assert json.loads(canonical_entry({"detail": {"amount": 1e308}})) == {
        "detail": {"amount": 1e308}
    }


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.pop("events"), "/: 'events' is a required property"),
        (lambda d: d["events"].__setitem__(0, 5), "/events/0: 5 is not of type 'object'"),
        (lambda d: d["leaf_hashes"].__setitem__(0, "zz"), "/leaf_hashes/0: 'zz' does not match"),
        (lambda d: d["events"][1].__setitem__("entry", 5), "/events/1/entry: 5 is not of type"),
        (lambda d: d.__setitem__("keys", []), "/keys: [] is not of type 'object'"),
        (lambda d: d.pop("gateway"), "/: 'gateway' is a required property"),
    ],
    ids=["no-events", "event-not-an-object", "leaf-not-hex", "entry-not-text", "keys-a-list",
         "no-gateway"],
)  # fmt: skip
def test_file_without_an_exports_form_is_reported_never_half_read(log, change, where):
    """Each of these crashed the offline verifier with a Python traceback (KeyError, ValueError,
    TypeError, AttributeError): the auditor got no report. The form is checked first."""
    data = export(log)
    change(data)
    report = verify(log, data)
    assert not report.ok and report.failures[0].index is None
    assert report.failures[0].reason.startswith(f"the file is not an export's form: {where}")


def test_earlier_export_without_an_exports_form_is_reported(log):
    earlier = export(log)
    earlier["leaf_hashes"] = "none"
    report = verify(log, export(log), previous_export=earlier)
    assert not report.ok
    assert report.failures[0].reason.startswith("the earlier export is not an export's form")


def test_untouched_log_verifies_offline(log):
    data = export(log)
    report = verify(log, data)
    assert report.ok, report.summary()
    assert report.tree_size == 7 and report.events_checked == 7 and report.messages_checked == 3


def test_export_without_trusted_keys_warns(log):
    report = verify_export(export(log))
    assert report.ok and any("taken from the file itself" in w for w in report.warnings)


def test_altered_row_is_reported_with_its_index(log):
    with log.database.transaction() as session:
        event = session.get(AuditEvent, 4)
        event.entry = event.entry.replace(b'"KR"', b'"CN"')
    report = verify(log, export(log))
    assert not report.ok and report.first_failure.index == 4


def test_altered_column_is_reported_with_its_index(log):
    log.database.engine.dispose()
    with log.database.transaction() as session:
        session.execute(
            update(AuditEvent).where(AuditEvent.log_index == 2).values(actor="someone-else")
        )
    report = verify(log, export(log))
    assert report.first_failure.index == 2 and "actor" in report.first_failure.reason


def test_deleted_row_is_reported_with_its_index(log):
    sql(log, "DELETE FROM audit_event WHERE log_index = 3")
    report = verify(log, export(log))
    assert report.first_failure.index == 3


def test_inserted_row_is_reported_with_its_index(log):
    # make room at index 2, insert a forged copy of event 1 there, and grow the head to match
    sql(log, "UPDATE audit_head SET size = size + 1")
    sql(log, "UPDATE audit_event SET log_index = log_index + 100 WHERE log_index >= 2")
    sql(log, "UPDATE audit_event SET log_index = log_index - 99 WHERE log_index >= 100")
    with log.database.transaction() as session:
        original = session.get(AuditEvent, 1)
        session.add(
            AuditEvent(
                log_index=2,
                tag=original.tag,
                occurred_at=original.occurred_at,
                actor=original.actor,
                partner=original.partner,
                message_id=original.message_id,
                body_sha256=original.body_sha256,
                detail=original.detail,
                entry=original.entry,
                leaf_hash=original.leaf_hash,
                chain_hash=original.chain_hash,
            )
        )
    report = verify(log, export(log))
    assert report.first_failure.index == 2


def test_reordered_rows_are_reported_with_the_first_index(log):
    sql(log, "UPDATE audit_event SET log_index = 1000 WHERE log_index = 1")
    sql(log, "UPDATE audit_event SET log_index = 1 WHERE log_index = 5")
    sql(log, "UPDATE audit_event SET log_index = 5 WHERE log_index = 1000")
    report = verify(log, export(log))
    assert report.first_failure.index == 1


def test_consistent_rewrite_is_caught_by_the_earlier_head(log):
    """A rewrite that recomputes every hash passes the per-event checks but not an earlier head;
    with the earlier export, the verifier names the first changed index."""
    earlier = export(log)
    with log.database.transaction() as session:
        events = session.execute(select(AuditEvent).order_by(AuditEvent.log_index)).scalars().all()
        chain = events[2].chain_hash
        for event in events[3:]:
            fields = json.loads(event.entry)
            if event.log_index == 3:
                fields["actor"] = event.actor = "rewritten"
            event.entry = canonical_entry(fields)
            event.leaf_hash = leaf_hash(event.entry)
            chain = event.chain_hash = chain_hash(chain, event.leaf_hash)
    later = export(log)
    assert verify(log, later).ok  # internally consistent ...
    by_head = verify(log, later, previous_head=earlier["tree_head"])
    assert not by_head.ok and "earlier tree head" in by_head.first_failure.reason
    by_export = verify(log, later, previous_export=earlier)
    assert by_export.first_failure.index == 3


def test_tree_heads_and_proofs_verify_independently(log):
    first = sign_tree_head(log.database, log.keyring.active, "JP", datetime.now(UTC))
    log_size = first.tree_size
    with log.database.transaction() as session:
        hashes = [
            e.leaf_hash
            for e in session.execute(select(AuditEvent).order_by(AuditEvent.log_index)).scalars()
        ]
    assert first.root_hash == merkle.root(hashes)
    leaf, proof = inclusion_proof(log.database, 3, log_size)
    assert merkle.verify_inclusion(3, log_size, leaf, proof, first.root_hash)
    assert (
        sign_tree_head(log.database, log.keyring.active, "JP", datetime.now(UTC)).id == first.id
    )  # not grown
    export(log)  # appends the export event: the log grows
    second = sign_tree_head(log.database, log.keyring.active, "JP", datetime.now(UTC))
    assert second.tree_size == log_size + 1
    proof = consistency_proof(log.database, log_size, second.tree_size)
    assert merkle.verify_consistency(
        log_size, second.tree_size, first.root_hash, second.root_hash, proof
    )


def test_retention_deletes_the_body_and_keeps_the_leaf(log):
    with log.database.transaction() as session:
        message = session.execute(select(Message).order_by(Message.id)).scalars().first()
        message_id, retention = message.message_id, message.decision["retention_days"]
        received_at = message.received_at
    assert apply_retention(log.database, now=received_at + timedelta(days=retention - 1)) == []
    deleted = apply_retention(log.database, now=received_at + timedelta(days=retention + 1))
    assert message_id in deleted
    with log.database.transaction() as session:
        message = session.execute(
            select(Message).where(Message.message_id == message_id)
        ).scalar_one()
        deletion = session.execute(
            select(AuditEvent).where(
                AuditEvent.tag == "system:message:body-deleted", AuditEvent.message_id == message_id
            )
        ).scalar_one()
        assert message.body == b"" and message.body_deleted_at is not None
    assert deletion.detail["retention_days"] == retention
    report = verify(log, export(log))
    assert report.ok, report.summary()
    assert any("deleted under retention" in w for w in report.warnings)
