"""``gateway audit checkpoint|export|verify|retention|statistics|reads``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from gateway.cli.root import gateway_services, main, settings_of
from gateway.errors import GatewayError
from gateway.files import write_private


@main.group()
def audit() -> None:
    """The tamper-evident exchange log."""


@audit.command("checkpoint")
@click.pass_context
def audit_checkpoint(ctx: click.Context) -> None:
    """Sign a tree head of the log as it is now (run it periodically, e.g. from cron)."""
    from gateway.audit.checkpoints import sign_tree_head

    settings = settings_of(ctx)
    with gateway_services(settings) as services:
        head = sign_tree_head(
            services.database, services.keyring.active, settings.gateway_id, datetime.now(UTC)
        )
    click.echo(f"tree size {head.tree_size}, root {head.root_hash.hex()}")
    click.echo(head.token)


@audit.command("export")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
@click.option(
    "--to",
    "end",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="Exclusive end date.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_context
def audit_export(ctx: click.Context, start: datetime, end: datetime, out: Path) -> None:
    """Write the events of [FROM, TO) with everything needed to verify them offline, to a file
    only its owner can read (0600, replacing an existing file's content and mode). The export
    is audited as the host account that ran it."""
    from gateway.audit.export import export_log
    from gateway.cli.signin import host_actor

    settings = settings_of(ctx)
    with gateway_services(settings) as services:
        data = export_log(
            services.database,
            services.registry,
            services.keyring,
            gateway_id=settings.gateway_id,
            start=start.replace(tzinfo=UTC),
            end=end.replace(tzinfo=UTC),
            actor=host_actor("auditor"),
            now=datetime.now(UTC),
        )
    write_private(out, json.dumps(data))  # 0600: events name people and carry their data
    click.echo(
        f"{len(data['events'])} events, {len(data['messages'])} messages, "
        f"tree size {len(data['leaf_hashes'])} → {out}"
    )


@audit.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--previous-head",
    help="An earlier signed tree head (token, or a file holding one), or an earlier export file.",
)
@click.option(
    "--jwks",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The gateway's public keys as you hold them (else the file's own, with a warning).",
)
def audit_verify(file: Path, previous_head: str | None, jwks: Path | None) -> None:
    """Verify an export offline (signatures, events, root, consistency); exit 1 on failure."""
    from gateway.audit.verify import verify_export
    from gateway.trust.keys import PinnedKey

    data = _json_of(file)
    trusted = None
    if jwks is not None:
        trusted = [PinnedKey.from_jwk(k) for k in _json_of(jwks)["keys"]]
    previous_export = None
    if previous_head and Path(previous_head).is_file():
        text = Path(previous_head).read_text(encoding="utf-8").strip()
        if text.startswith("{"):
            previous_export, previous_head = _json_of(Path(previous_head), text), None
        else:
            previous_head = text
    report = verify_export(
        data, trusted_keys=trusted, previous_head=previous_head, previous_export=previous_export
    )
    click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


def _json_of(path: Path, text: str | None = None) -> Any:
    """The JSON in ``path`` (or in ``text``, read from it already); a ClickException (exit 1,
    one line) if it holds none."""
    try:
        return json.loads(path.read_text(encoding="utf-8") if text is None else text)
    except (UnicodeDecodeError, ValueError) as error:
        raise click.ClickException(f"{path} is not a JSON file: {error}") from error


@audit.command("retention")
@click.pass_context
def audit_retention(ctx: click.Context) -> None:
    """Delete the bodies whose retention period has ended (their leaves stay)."""
    from gateway.audit.retention import apply_retention

    with gateway_services(settings_of(ctx)) as services:
        deleted = apply_retention(services.database, now=datetime.now(UTC))
    click.echo(f"{len(deleted)} message bodies deleted under retention")


@audit.command("statistics")
@click.option("--since", help="Date or RFC 3339 date-time (UTC midnight for a date), inclusive.")
@click.option("--until", help="Date or date-time, exclusive (default: now).")
@click.option("--partner", help="Only this partner's messages (e.g. KR).")
@click.option("--type", "message_type", help="Only this message type (e.g. seizure-report).")
@click.option("--direction", type=click.Choice(["in", "out"]), help="Received or sent.")
@click.option(
    "--period", type=click.Choice(["day", "week", "month"]), default="day", show_default=True
)
@click.option(
    "--format", "output", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
@click.pass_context
def audit_statistics(
    ctx: click.Context,
    since: str | None,
    until: str | None,
    partner: str | None,
    message_type: str | None,
    direction: str | None,
    period: str,
    output: str,
) -> None:
    """Messages per period, partner, direction, type and outcome, from the log (what is counted:
    gateway/audit/statistics.py); the same JSON and CSV as GET /v1/audit/statistics."""
    from gateway.api.audit_statistics import statistics_query
    from gateway.audit.statistics import compute
    from gateway.errors import GatewayError

    try:
        query = statistics_query(
            since=since,
            until=until,
            period=period,
            partner=partner,
            message_type=message_type,
            direction=direction,
            now=datetime.now(UTC),
        )
    except GatewayError as error:
        raise click.BadParameter(error.detail) from error
    with gateway_services(settings_of(ctx)) as services:
        statistics = compute(services.database, query)
    if output == "csv":
        click.echo(statistics.to_csv(), nl=False)
    else:
        click.echo(json.dumps(statistics.to_dict(), indent=2))


@audit.command("reads")
@click.argument("actor")
@click.option("--since", help="From this date or date-time (UTC).")
@click.option("--until", help="Before this date or date-time (UTC).")
@click.pass_context
def audit_reads(ctx: click.Context, actor: str, since: str | None, until: str | None) -> None:
    """Every read ACTOR (as the log names them: officer:tanaka, auditor:compliance) made: cases
    opened, searches and their filters, messages, exports, certificate lookups; one JSON line
    each, in the order of the log."""
    from gateway.api.params import instant
    from gateway.audit.reads import reads_of
    from gateway.store.db import Database

    settings = settings_of(ctx)
    try:
        start, end = instant(since), instant(until)
    except GatewayError as error:
        raise click.BadParameter(error.detail) from error
    with Database(settings.database_url) as database:
        for read in reads_of(database, actor, start=start, end=end):
            click.echo(json.dumps(read, ensure_ascii=False))
