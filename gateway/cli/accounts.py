"""``gateway accounts …``: people who sign in to the pages, and their roles."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from gateway.cli.root import gateway_services, main, settings_of
from gateway.cli.signin import host_actor
from gateway.people import ROLES


def _administrator() -> str:
    return host_actor("admin")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@main.group()
def accounts() -> None:
    """Local accounts: officer, supervisor, analyst, auditor, admin."""


@accounts.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
@click.option("--name", "display_name", default="", help="The name shown on the pages.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--sso-only", is_flag=True, help="No password: signs in through the SSO header.")
@click.pass_context
def add(
    ctx: click.Context,
    username: str,
    roles: tuple[str, ...],
    display_name: str,
    password_stdin: bool,
    sso_only: bool,
) -> None:
    """Create an account (the password is asked for, or read with --password-stdin)."""
    password = None if sso_only else _password(password_stdin)
    with gateway_services(settings_of(ctx)) as services:
        person = services.accounts.create(
            username,
            roles=roles,
            display_name=display_name,
            password=password,
            actor=_administrator(),
            now=datetime.now(UTC),
        )
    click.echo(f"{person.username}: {', '.join(sorted(person.roles))}")


@accounts.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True)
@click.pass_context
def passwd(ctx: click.Context, username: str, password_stdin: bool) -> None:
    """Set an account's password."""
    password = _password(password_stdin)
    with gateway_services(settings_of(ctx)) as services:
        services.accounts.set_password(
            username, password, actor=_administrator(), now=datetime.now(UTC)
        )
    click.echo(f"{username}: password set")


@accounts.command("roles")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
@click.pass_context
def set_roles(ctx: click.Context, username: str, roles: tuple[str, ...]) -> None:
    """Replace an account's roles."""
    with gateway_services(settings_of(ctx)) as services:
        person = services.accounts.set_roles(
            username, roles, actor=_administrator(), now=datetime.now(UTC)
        )
    click.echo(f"{person.username}: {', '.join(sorted(person.roles))}")


@accounts.command("disable")
@click.argument("username")
@click.pass_context
def disable(ctx: click.Context, username: str) -> None:
    """Disable an account: it signs in nowhere from now on (its history stays)."""
    with gateway_services(settings_of(ctx)) as services:
        services.accounts.disable(username, actor=_administrator(), now=datetime.now(UTC))
    click.echo(f"{username}: disabled")


@accounts.command("list")
@click.pass_context
def list_accounts(ctx: click.Context) -> None:
    """Every account with its roles."""
    with gateway_services(settings_of(ctx)) as services:
        for person, active in services.accounts.all():
            state = "" if active else "  (disabled)"
            click.echo(f"{person.username:20} {', '.join(sorted(person.roles))}{state}")


@accounts.command("sessions")
@click.option("--user", "username", help="Only this account's sessions.")
@click.option("--all", "include_ended", is_flag=True, help="Ended sessions too.")
@click.pass_context
def list_sessions(ctx: click.Context, username: str | None, include_ended: bool) -> None:
    """Sessions held by the server (pages, `gateway login`, the operator API), newest first."""
    with gateway_services(settings_of(ctx)) as services:
        rows = services.sessions.listing(
            now=datetime.now(UTC), username=username, include_ended=include_ended
        )
    for row in rows:
        ended = (
            f"  ended {row['ended_at']} ({row.get('ended_because', '')})"
            if "ended_at" in row
            else ""
        )
        click.echo(
            f"{row['id']:6} {row['username']:20} {row['kind']:4} {row.get('via') or '':20} "
            f"since {row['created_at']}  last {row['last_seen_at']}{ended}"
        )
    if not rows:
        click.echo("no sessions")


@accounts.command("end-session")
@click.argument("session_id", type=int)
@click.pass_context
def end_session(ctx: click.Context, session_id: int) -> None:
    """End one session now (its holder must sign in again); audited."""
    with gateway_services(settings_of(ctx)) as services:
        services.sessions.end(session_id, actor=_administrator(), now=datetime.now(UTC))
    click.echo(f"session {session_id}: ended")
