"""``gateway disclose``, ``gateway outbox list|approve|retry`` and ``gateway worker``."""

from __future__ import annotations

import os
import signal
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import select

from gateway.cli.root import gateway_services, main, settings_of
from gateway.cli.signin import signed_in


@main.command()
@click.argument("message_type", type=click.Choice(["seizure-report", "assistance-request"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "recipient", required=True, help="Receiving administration.")
@click.option(
    "--purpose",
    required=True,
    type=click.Choice(["intelligence", "evidence", "revenue", "origin-verification"]),
)
@click.pass_context
def disclose(
    ctx: click.Context, message_type: str, file: Path, recipient: str, purpose: str
) -> None:
    """Decide, redact, sign and queue a message for a partner: a spontaneous disclosure or a
    request for assistance, drafted by the account signed in with `gateway login`. (A partner's
    request is answered through its case: the pages or POST /v1/cases/{id}/actions.)"""
    from gateway.app import build_reader
    from gateway.documents.hardened import parse_json

    settings = settings_of(ctx)
    with gateway_services(settings) as services:
        person = signed_in(ctx, services, "draft")
        media = "application/xml" if file.suffix.lower() == ".xml" else "application/json"
        if message_type == "seizure-report":
            document = build_reader(settings).read(file.read_bytes(), media).to_dict()
        else:  # checked against its schema by the outbound path before it is signed
            document = parse_json(
                file.read_bytes(),
                max_bytes=settings.max_body_bytes,
                max_depth=settings.max_json_depth,
            )
        row = services.outbound.disclose(
            recipient=recipient,
            message_type=message_type,
            document=document,
            purpose=purpose,
            actor=person.actor(person.case_role),
            now=datetime.now(UTC),
        )
    click.echo(f"{row.message_id} → {recipient}: {row.state}")
    for path in row.decision["redactions"]:
        click.echo(f"  removed {path}")


@main.group()
def outbox() -> None:
    """Outgoing messages: states, dead letters, approvals."""


@outbox.command("list")
@click.option("--state", help="Only this state (queued, retrying, failed, …).")
@click.pass_context
def outbox_list(ctx: click.Context, state: str | None) -> None:
    """Outgoing messages: state, attempts, last error (dead letters: --state failed)."""
    from gateway.store.db import Database
    from gateway.store.models import OutboxMessage

    with Database(settings_of(ctx).database_url) as database, database.transaction() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if state:
            query = query.where(OutboxMessage.state == state)
        for row in session.execute(query).scalars():
            click.echo(
                f"{row.message_id}  {row.recipient:7} {row.state:16} attempts={row.attempts}"
                + (f"  {row.last_error}" if row.last_error else "")
            )


@outbox.command("approve")
@click.argument("message_id")
@click.pass_context
def outbox_approve(ctx: click.Context, message_id: str) -> None:
    """Release a message awaiting review, as the account signed in with `gateway login`: never
    its drafter, a supervisor where the policy asks for a second officer (gateway.duties)."""
    with gateway_services(settings_of(ctx)) as services:
        person = signed_in(ctx, services, "decide")
        row = services.cases.approve_held(message_id, person, now=datetime.now(UTC))
    click.echo(f"{row.message_id}: {row.state}")


@outbox.command("retry")
@click.argument("message_id")
@click.pass_context
def outbox_retry(ctx: click.Context, message_id: str) -> None:
    """Queue a dead letter again (as the account signed in with `gateway login`)."""
    with gateway_services(settings_of(ctx)) as services:
        person = signed_in(ctx, services, "retry")
        row = services.outbound.retry(message_id, person=person, now=datetime.now(UTC))
    click.echo(f"{row.message_id}: {row.state}")


@main.command()
@click.option("--once", is_flag=True, help="Attempt what is due now, then stop.")
@click.option(
    "--interval", type=float, default=1.0, show_default=True, help="Seconds between polls."
)
@click.option("--id", "worker_id", help="Worker name in the log (default host:pid).")
@click.pass_context
def worker(ctx: click.Context, once: bool, interval: float, worker_id: str | None) -> None:
    """Deliver the outbox to partners' gateways until stopped (SIGTERM/SIGINT finish the current
    message first)."""
    from gateway.exchange.delivery import DeliveryWorker, HttpTransport

    settings = settings_of(ctx)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    transport = HttpTransport(settings.delivery_timeout_seconds, settings.max_body_bytes)
    try:
        with gateway_services(settings) as services:
            delivery = DeliveryWorker(
                settings=settings,
                registry=services.registry,
                keyring=services.keyring,
                database=services.database,
                transport=transport,
                worker_id=worker_id or f"{socket.gethostname()}:{os.getpid()}",
            )
            while not stopping:
                attempted = delivery.run_once()
                if once:
                    break
                if not attempted:
                    time.sleep(interval)
    finally:
        transport.close()


@main.command()
@click.argument("message_id")
@click.option("--reason", required=True)
@click.option("--superseded-by", help="The id of the message that replaces it.")
@click.pass_context
def withdraw(ctx: click.Context, message_id: str, reason: str, superseded_by: str | None) -> None:
    """Withdraw (or supersede) a message sent earlier: not yet delivered, it is not sent; delivered,
    a signed withdrawal follows it."""
    with gateway_services(settings_of(ctx)) as services:
        person = signed_in(ctx, services, "withdraw")
        sent = services.outbound.withdraw(
            message_id,
            reason=reason,
            actor=person.actor(person.case_role),
            now=datetime.now(UTC),
            superseded_by=superseded_by,
        )
    if sent is None:
        click.echo(f"{message_id}: withdrawn before delivery; nothing will be sent")
    else:
        click.echo(f"{message_id}: withdrawal {sent.message_id} {sent.state}")


@outbox.command("mark")
@click.argument("message_id")
@click.option(
    "--tlp",
    required=True,
    type=click.Choice(["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]),
)
@click.option("--handling-code", required=True, type=click.Choice(["H0", "H1", "H2", "H3"]))
@click.option("--conditions", help="The conditions of handling code H3.")
@click.option("--reason", help="Why (free text: it goes only where the policy allows).")
@click.pass_context
def outbox_mark(
    ctx: click.Context,
    message_id: str,
    tlp: str,
    handling_code: str,
    conditions: str | None,
    reason: str | None,
) -> None:
    """Change the markings of a message this gateway originated and delivered: a signed
    marking-change notice follows it to its recipient."""
    from gateway.exchange.markings import change_own_markings

    markings = {
        "originator": settings_of(ctx).gateway_id,
        "handling_code": handling_code,
        "tlp": tlp,
        **({"conditions": conditions} if conditions else {}),
    }
    with gateway_services(settings_of(ctx)) as services:
        person = signed_in(ctx, services, "change-marking")
        row = change_own_markings(
            services.outbound,
            services.database,
            message_id,
            markings=markings,
            reason=reason,
            actor=person.actor(person.case_role),
            now=datetime.now(UTC),
        )
    click.echo(f"{message_id}: marking change {row.message_id} {row.state}")
