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
    from gateway.rilo.hub import Hub
    from gateway.rilo.releases import Releases
    from gateway.rilo.trends import Period


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
    """A period's exact trend report (YYYY-MM, YYYY-Qn or YYYY) for the analyst signed in with
    `gateway login`, on the hub's gateway. What members get is a release: `gateway hub
    release`."""
    from gateway.api.hub import as_csv as to_csv

    with gateway_services(settings_of(ctx)) as services:
        hub_of(services)
        _signed_in_analyst(ctx, services)
        chosen = _period(period)
        result = hub_of(services).trend_report(chosen)
    click.echo(to_csv(result) if as_csv else json.dumps(result, indent=2))


@hub.command("release")
@click.argument("period")
@click.option(
    "--audience",
    type=click.Choice(["members", "public"]),
    default="members",
    show_default=True,
    help="Who receives it: RILO A/P members (GET /v1/hub/summaries) or the public.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the release as sent.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the release as CSV.")
@click.pass_context
def release(ctx: click.Context, period: str, audience: str, as_json: bool, as_csv: bool) -> None:
    """Release a period's trend report to an audience, as the analyst signed in: disclosure
    control planned against every earlier release to it (the release ledger), recorded and
    audited. Members then get it from GET /v1/hub/summaries."""
    from gateway.api.hub import as_csv as to_csv
    from gateway.rilo.disclosure import ReleaseRefusedError

    with gateway_services(settings_of(ctx)) as services:
        releases = releases_of(services)
        person = _signed_in_analyst(ctx, services)
        try:
            done = releases.release(
                _period(period), audience, actor=person.actor("analyst"), now=datetime.now(UTC)
            )
        except ReleaseRefusedError as error:
            raise click.ClickException(f"nothing released: {error}") from error
    if as_json:
        click.echo(json.dumps(done.body, indent=2))
    elif as_csv:
        click.echo(to_csv(done.body), nl=False)
    else:
        click.echo(
            f"release {done.id}: {done.period} to {done.audience}; {done.suppressed} cells "
            f"suppressed, {done.withheld} of them with their labels withheld"
        )
    for cell in done.inherited:
        click.echo(f"warning: no suppression in this release protects {cell}", err=True)


@hub.command("releases")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
def releases(ctx: click.Context, as_json: bool) -> None:
    """The release ledger: every release to members and the public, oldest first."""
    with gateway_services(settings_of(ctx)) as services:
        ledger = releases_of(services)
        _signed_in_analyst(ctx, services)
        listing = ledger.listing()
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return
    for r in listing:
        click.echo(
            f"{r['id']}\t{r['period']}\t{r['audience']}\t{r['released_at']}\t"
            f"{r['released_by']}\t{r['suppressed']} suppressed\t{r['withheld']} withheld"
        )
    click.echo(f"{len(listing)} releases")


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
@click.option(
    "--plain",
    is_flag=True,
    help="Without the real world's awkward shapes (bursts of identical small seizures, "
    "unknown departures, ports).",
)
@click.pass_context
def seed(ctx: click.Context, count: int, seed: int, plain: bool) -> None:
    """Fill the hub with synthetic members' reports (demonstrations and trials only): realistic
    commodities, routes, modes and seasons, with the real records' awkward shapes (bursts of
    identical small seizures by one member on one day at different offices, unknown
    departures, ports), ingested as members' batches would be."""
    from collections import defaultdict

    from gateway.rilo.synthetic import REAL_WORLD, Shapes, reports

    with gateway_services(settings_of(ctx)) as services:
        if services.hub is None:
            raise click.ClickException("this gateway is not the RILO A/P hub")
        by_member: dict[str, list[dict[str, object]]] = defaultdict(list)
        shapes: Shapes = {"bursts": 0.0, "unknown_departure": 0.0, "ports": 0.0}
        for made in reports(count, seed=seed, **(shapes if plain else REAL_WORLD)):
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
    "--protection",
    type=float,
    default=None,
    help="The narrowest interval of seizures a suppressed cell must keep "
    "(default: the release policy's).",
)
@click.option("--json", "as_json", is_flag=True, help="The whole audit as JSON.")
@click.pass_context
def audit_release(ctx: click.Context, protection: float | None, as_json: bool) -> None:
    """Attack everything the hub has released to members and the public (the ledger): the
    feasible interval of every suppressed cell, and of every withheld one the attacker can
    name, given all the released figures (linear programming, HiGHS). Exit 1 if any is
    narrower than the protection, naming each."""
    from gateway.rilo.release_audit import describe

    with gateway_services(settings_of(ctx)) as services:
        ledger = releases_of(services)
        found = ledger.audit(protection=protection)
        count = len(ledger.listing())
    if as_json:
        click.echo(json.dumps(found.as_dict(), indent=2))
    else:
        for line in describe(found.disclosed):
            click.echo(line)
        click.echo(
            f"{len(found.disclosed)} of {len(found.findings)} suppressed cells disclosed "
            f"in {count} releases (protection {found.protection:g})"
        )
    if found.disclosed:
        ctx.exit(1)


def hub_of(services: Services) -> Hub:
    if services.hub is None:
        raise click.ClickException(
            "this gateway is not the RILO A/P hub (its gateway_id is not the hub policy's hub)"
        )
    return services.hub


def releases_of(services: Services) -> Releases:
    hub_of(services)
    assert services.releases is not None  # built with the hub
    return services.releases


def _period(text: str) -> Period:
    from gateway.rilo.trends import Period

    try:
        return Period.parse(text)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error


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
