"""``gateway migrate`` and ``gateway serve``."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import click

from gateway.cli.root import main, settings_of
from gateway.errors import GatewayError
from gateway.settings import Settings, replace


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from gateway.store import migrate as migrations

    settings = settings_of(ctx)
    # a new SQLite file is created 0600, its missing directories 0700 (gateway.store.db)
    migrations.upgrade(settings.database_url)
    click.echo("database is at the newest migration")


@main.command()
@click.option("--host", help="Address to listen on (default from settings).")
@click.option("--port", type=int, help="Port (default from settings).")
@click.option("--workers", type=int, help="Worker processes (default from settings).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the gateway with uvicorn."""
    import uvicorn

    from gateway.app import build_services
    from gateway.audit.system_events import note_policy_in_force
    from gateway.store.migrate import pending_revision

    settings = settings_of(ctx)
    if workers:  # each worker process holds its share of the rate limits (settings.workers)
        os.environ["GATEWAY_WORKERS"] = str(workers)
        settings = replace(settings, workers=workers)
    refuse_unsafe_start(settings)
    try:
        services = build_services(settings)  # fail here, clearly, rather than in every worker
        services.database.ping()
        pending = pending_revision(services.database.engine)
        if pending is not None:
            raise click.ClickException(
                f"the database is not at migration {pending}; run `gateway migrate` first"
            )
        # once, before the workers start: the policy set in force goes into the audit log
        changed = note_policy_in_force(
            services.database, services.policies.digest, now=datetime.now(UTC)
        )
        services.database.dispose()
    except GatewayError as error:
        raise click.ClickException(error.detail) from error
    if changed:
        click.echo(f"policy {services.policies.digest[:16]} ({changed})")
    host = host or settings.host
    port = port or settings.port
    tls = bool(settings.tls_cert_file)
    base = f"{'https' if tls else 'http'}://{host}:{port}"
    click.echo(f"gateway {settings.gateway_id} on {base}")
    click.echo(f"  API        {base}/v1/seizure-reports")
    click.echo(f"  Swagger UI {base}/ui/")
    click.echo(f"  JWKS       {base}/.well-known/jwks.json")
    click.echo(
        "  try        .venv/bin/gateway send seizure-report specs/samples/seizure-report.json "
        f"--as KR --to {base}"
    )
    if ctx.parent and ctx.parent.params.get("config"):
        os.environ["GATEWAY_CONFIG"] = str(ctx.parent.params["config"])
    uvicorn.run(
        "gateway.app:asgi_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers or settings.workers,
        log_level=settings.log_level.lower(),
        access_log=False,
        http="gateway.api.connection:HeadDeadlineProtocol",
        ssl_certfile=settings.tls_cert_file or None,
        ssl_keyfile=settings.tls_key_file or None,
    )


def refuse_unsafe_start(settings: Settings) -> None:
    """Print what :mod:`gateway.preflight` found (on stderr); stop on a full disk, and on any
    error in production. A file or directory others may read is only a warning here: the
    installation keeps running while its operator fixes the mode (check-config fails on it)."""
    from gateway import preflight

    findings = [finding.at_start() for finding in preflight.check(settings)]
    for finding in findings:
        click.echo(str(finding), err=True)
    fatal = [
        f
        for f in findings
        if f.level == "error" and (settings.production or f.setting == "min_free_disk_mb")
    ]
    if fatal:
        raise click.ClickException(
            f"not starting: {fatal[0].message}"
            + (f" (and {len(fatal) - 1} more, above)" if len(fatal) > 1 else "")
        )


@main.command("check-config")
@click.pass_context
def check_config(ctx: click.Context) -> None:
    """Report unsafe settings: debug logging, plaintext HTTP off loopback, development or
    readable keys, a database, web secret or directory others may read, a nearly full disk.
    Exit 1 if anything is an error."""
    from gateway import preflight

    settings = settings_of(ctx)
    findings = preflight.check(settings)
    for finding in findings:
        click.echo(str(finding))
    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    mode = "production" if settings.production else "development"
    click.echo(f"{errors} errors, {warnings} warnings ({mode} settings)")
    if errors:
        ctx.exit(1)
