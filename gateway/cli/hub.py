"""``gateway hub …``: the RILO A/P feed on a member gateway, reports and validation on the hub."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import click

from gateway.cli.root import gateway_services, main, settings_of

if TYPE_CHECKING:
    from gateway.app import Services
    from gateway.people import Person


@main.group()
def hub() -> None:
    """The RILO Asia/Pacific hub: a member's feed, the hub's trend reports."""


@hub.command("backfill")
@click.option("--from", "since", required=True, help="First seizure date (YYYY-MM-DD).")
@click.option("--to", "until", required=True, help="Last seizure date (YYYY-MM-DD).")
@click.pass_context
def backfill(ctx: click.Context, since: str, until: str) -> None:
    """Feed the hub the reports held with a seizure date in the range, not fed before (as the
    hub policy and their originators' markings allow). Needs hub_feed on."""
    with gateway_services(settings_of(ctx)) as services:
        if services.feed is None:
            raise click.ClickException("this gateway does not feed the hub (set hub_feed)")
        fed = services.feed.backfill(
            date.fromisoformat(since), date.fromisoformat(until), now=datetime.now(UTC)
        )
    click.echo(f"{fed.queued} reports queued in {fed.batches} batches; {fed.withheld} withheld")


@hub.command("report")
@click.argument("period")
@click.option("--csv", "as_csv", is_flag=True, help="CSV instead of JSON.")
@click.pass_context
def report(ctx: click.Context, period: str, as_csv: bool) -> None:
    """A period's trend report (YYYY-MM, YYYY-Qn or YYYY), on the hub's gateway."""
    from gateway.api.hub import as_csv as to_csv
    from gateway.rilo.trends import Period

    with gateway_services(settings_of(ctx)) as services:
        if services.hub is None:
            raise click.ClickException("this gateway is not the RILO A/P hub")
        try:
            result = services.hub.trend_report(Period.parse(period))
        except ValueError as error:
            raise click.BadParameter(str(error)) from error
    click.echo(to_csv(result) if as_csv else json.dumps(result, indent=2))


@hub.command("validate")
@click.argument("member")
@click.argument("report_id")
@click.pass_context
def validate(ctx: click.Context, member: str, report_id: str) -> None:
    """Mark a report RILO-validated (checked with the member that sent it), as the analyst
    signed in with `gateway login`."""
    with gateway_services(settings_of(ctx)) as services:
        if services.hub is None:
            raise click.ClickException("this gateway is not the RILO A/P hub")
        person = _signed_in_analyst(ctx, services)
        services.hub.validate(
            member, report_id, actor=person.actor("analyst"), now=datetime.now(UTC)
        )
    click.echo(f"{member} {report_id}: rilo-validated")


@hub.command("seed")
@click.option("--reports", "count", type=int, default=20000, show_default=True)
@click.option("--seed", type=int, default=2026, show_default=True)
@click.pass_context
def seed(ctx: click.Context, count: int, seed: int) -> None:
    """Fill the hub with synthetic members' reports (demonstrations and trials only): realistic
    commodities, routes, modes and seasons, ingested as members' batches would be."""
    from collections import defaultdict

    from gateway.rilo.synthetic import reports

    with gateway_services(settings_of(ctx)) as services:
        if services.hub is None:
            raise click.ClickException("this gateway is not the RILO A/P hub")
        by_member: dict[str, list[dict[str, object]]] = defaultdict(list)
        for made in reports(count, seed=seed):
            by_member[str(made["reporting_administration"])].append(made)
        held = 0
        for member, items in by_member.items():
            for start in range(0, len(items), services.settings.hub_max_batch):
                batch = items[start : start + services.settings.hub_max_batch]
                with services.database.transaction() as session:
                    done = services.hub.ingest(
                        session, member, batch, message_id=f"seed-{seed}", now=datetime.now(UTC)
                    )
                held += done.accepted
    click.echo(f"{held} synthetic reports ingested")


@hub.command("audit-release")
@click.option(
    "--audience",
    type=click.Choice(["member"]),
    default="member",
    show_default=True,
    help="Whose published reports to attack (members: GET /v1/hub/summaries).",
)
@click.option("--from", "first", required=True, help="First month (YYYY-MM).")
@click.option("--to", "last", required=True, help="Last month (YYYY-MM).")
@click.option(
    "--protection",
    type=float,
    default=1.0,
    show_default=True,
    help="The narrowest interval of seizures a suppressed cell must keep.",
)
@click.option("--json", "as_json", is_flag=True, help="The whole audit as JSON.")
@click.pass_context
def audit_release(
    ctx: click.Context, audience: str, first: str, last: str, protection: float, as_json: bool
) -> None:
    """Attack what the hub publishes for every month, quarter and year wholly in the range: the
    feasible interval of every suppressed cell given all the published figures (linear
    programming, HiGHS). Exit 1 if any is narrower than --protection, naming each."""
    from gateway.rilo.release_audit import audit, describe, periods_between

    try:
        periods = periods_between(first, last)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error
    with gateway_services(settings_of(ctx)) as services:
        if services.hub is None:
            raise click.ClickException("this gateway is not the RILO A/P hub")
        published = [services.hub.trend_report(period) for period in periods]
    found = audit(published, protection=protection)
    if as_json:
        click.echo(json.dumps({"audience": audience, **found.as_dict()}, indent=2))
    else:
        for line in describe(found.disclosed):
            click.echo(line)
        click.echo(
            f"{len(found.disclosed)} of {len(found.findings)} suppressed cells disclosed "
            f"in {len(periods)} {audience} reports (protection {protection:g})"
        )
    if found.disclosed:
        ctx.exit(1)


# --- candidate duplicates (RILO analysts, signed in) ----------------------------------------------


def _signed_in_analyst(ctx: click.Context, services: Services) -> Person:
    """The account of `gateway login`, if it holds the analyst role (RILO's analysts decide
    candidate duplicates; the officers' duties do not cover the hub)."""
    from gateway.cli.signin import signed_in_account

    person = signed_in_account(ctx, services)
    if "analyst" not in person.roles:
        raise click.ClickException(
            f"{person.username} does not hold the analyst role: "
            "only RILO analysts decide candidate duplicates"
        )
    return person


@hub.command("duplicates")
@click.option("--open", "only_open", is_flag=True, help="Only those not decided yet.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of lines.")
@click.pass_context
def duplicates(ctx: click.Context, only_open: bool, as_json: bool) -> None:
    """Candidate duplicates: reports of two administrations that may be one seizure (counted as
    two until an analyst confirms them)."""
    with gateway_services(settings_of(ctx)) as services:
        if services.hub is None:
            raise click.ClickException("this gateway is not the RILO A/P hub")
        _signed_in_analyst(ctx, services)
        found = services.hub.candidates(only_open=only_open)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for c in found:
        a, b = c["report"], c["original"]
        click.echo(
            f"{c['id']}\t{c['state']}\t{a['seizure_date']} {a['commodity']} {a['route']} "
            f"{a['mode']}\t{a['reported_by']} {a['report_id']} {a['amount']:g} {a['unit']}"
            f"\t~ {b['reported_by']} {b['report_id']} {b['amount']:g} {b['unit']}"
        )


def _decide(ctx: click.Context, candidate: int, confirmed: bool) -> None:
    from gateway.errors import GatewayError

    with gateway_services(settings_of(ctx)) as services:
        if services.hub is None:
            raise click.ClickException("this gateway is not the RILO A/P hub")
        person = _signed_in_analyst(ctx, services)
        try:
            state = services.hub.decide_duplicate(
                candidate,
                confirmed=confirmed,
                actor=person.actor("analyst"),
                now=datetime.now(UTC),
            )
        except GatewayError as error:
            raise click.ClickException(error.detail) from error
    click.echo(f"candidate {candidate}: {state}")


@hub.command("confirm-duplicate")
@click.argument("candidate", type=int)
@click.pass_context
def confirm_duplicate(ctx: click.Context, candidate: int) -> None:
    """Confirm a candidate: one seizure, counted once (as the signed-in analyst)."""
    _decide(ctx, candidate, True)


@hub.command("reject-duplicate")
@click.argument("candidate", type=int)
@click.pass_context
def reject_duplicate(ctx: click.Context, candidate: int) -> None:
    """Reject a candidate: two seizures, both counted (as the signed-in analyst)."""
    _decide(ctx, candidate, False)
