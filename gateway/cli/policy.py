"""``gateway policy check|explain|consent``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from gateway.cli.root import gateway_services, main, settings_of
from gateway.errors import GatewayError
from gateway.settings import Settings


@main.group()
def policy() -> None:
    """The sharing policy."""


def _policies(settings: Settings) -> tuple[Any, Any]:
    from gateway.policy.loader import load_policies
    from gateway.registry import Registry

    try:
        registry = Registry.load(settings.registry_dir, settings.key_pins_dir)
        return registry, load_policies(settings.policy_dir, registry)
    except GatewayError as error:
        raise click.ClickException(error.detail) from error


@policy.command("check")
@click.pass_context
def policy_check(ctx: click.Context) -> None:
    """Check every policy file (schema, contradictions, partners) and that the release lists
    decide every field of every message schema; print the policy digest.

    Exit 1 if a field is named by no list (it would be withheld from everyone without anyone
    having decided so) or a pointer names no field."""
    from gateway.documents.schemas import load_spec
    from gateway.policy.coverage import check_coverage

    settings = settings_of(ctx)
    _, policies = _policies(settings)
    coverage = check_coverage(policies, load_spec(settings.spec_path))
    for kind, fields in coverage.unnamed.items():
        for field in fields:
            click.echo(f"{kind}: {field} is in no release list (withheld from everyone)", err=True)
    for where, pointers in coverage.unknown.items():
        for pointer in pointers:
            click.echo(f"{where}: {pointer} names no field of the schema", err=True)
    if not coverage.complete:
        raise click.ClickException("the release lists do not decide every field")
    click.echo(f"policy set valid; every field decided; digest {policies.digest}")


@policy.command("explain")
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False
)
@click.option(
    "--message", "message_id", help="A stored message instead of a FILE (uses its consents)."
)
@click.option("--partner", required=True, help="The other side of the exchange.")
@click.option("--type", "message_type", default="seizure-report", show_default=True)
@click.option("--direction", type=click.Choice(["in", "out"]), default="out", show_default=True)
@click.option(
    "--purpose", type=click.Choice(["intelligence", "evidence", "revenue", "origin-verification"])
)
@click.option(
    "--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), help="Exchange date (default today)."
)
@click.option(
    "--consent", multiple=True, help="Simulate the originator's consent for this recipient."
)
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
@click.pass_context
def policy_explain(
    ctx: click.Context,
    file: Path | None,
    message_id: str | None,
    partner: str,
    message_type: str,
    direction: str,
    purpose: str | None,
    on: datetime | None,
    consent: tuple[str, ...],
    as_json: bool,
) -> None:
    """Decide an exchange and print every rule that fired, with the redactions and markings."""
    from gateway.policy.engine import decide
    from gateway.policy.model import Context

    settings = settings_of(ctx)
    registry, policies = _policies(settings)
    day = (on or datetime.now(UTC)).date()
    try:
        if message_id:  # a stored message: an audited read, by the signed-in account
            from gateway.cli.signin import signed_in
            from gateway.exchange.onward import decide_onward

            with gateway_services(settings) as services:
                person = signed_in(ctx, services, "lookup")
                decision = decide_onward(
                    services.database,
                    policies,
                    registry,
                    message_id=message_id,
                    recipient=partner,
                    purpose=purpose,
                    on=day,
                    actor=person.actor(person.case_role),
                    gateway_id=settings.gateway_id,
                    now=datetime.now(UTC),
                )
        elif file is not None:
            if partner not in registry.partners:
                raise click.ClickException(f"{partner} is not in the partner registry")
            decision = decide(
                policies,
                Context(
                    partner=registry.partners[partner],
                    direction=direction,
                    message_type=message_type,
                    on=day,
                    document=_read_document(settings, file),
                    purpose=purpose,
                    consents=frozenset(consent),
                    gateway_id=settings.gateway_id,
                ),
            )
        else:
            raise click.UsageError("give a FILE or --message")
    except GatewayError as error:
        raise click.ClickException(error.detail) from error
    from gateway.policy.highlight import of_decision

    marks = of_decision(decision)
    if as_json:
        click.echo(
            json.dumps({**decision.to_dict(), "highlights": [h.to_dict() for h in marks]}, indent=2)
        )
    else:
        click.echo(decision.explain())
        for mark in marks:
            click.echo(f"  looks like personal data ({mark.kind}) at {mark.pointer}: {mark.text!r}")
    if not decision.allowed:
        sys.exit(3)


def _read_document(settings: Settings, file: Path) -> dict[str, Any]:
    from gateway.app import build_reader

    media = "application/xml" if file.suffix.lower() == ".xml" else "application/json"
    return build_reader(settings).read(file.read_bytes(), media).to_dict()


@policy.command("consent")
@click.argument("message_id")
@click.option(
    "--to", "recipient", required=True, help="Administration the originator consented to."
)
@click.option(
    "--reference", required=True, help="Where the consent is documented (letter, SIENA message)."
)
@click.pass_context
def policy_consent(ctx: click.Context, message_id: str, recipient: str, reference: str) -> None:
    """Record the originator's consent to pass a message on (H2/H3 originator control)."""
    from gateway.cli.signin import signed_in
    from gateway.exchange.onward import record_consent

    with gateway_services(settings_of(ctx)) as services:
        person = signed_in(ctx, services, "record-consent")
        record_consent(
            services.database,
            services.registry,
            message_id=message_id,
            recipient=recipient,
            reference=reference,
            recorded_by=person.actor(person.case_role),
            now=datetime.now(UTC),
        )
    click.echo(f"consent recorded: {message_id} may go to {recipient} ({reference})")
