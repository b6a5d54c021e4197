"""``gateway login``, ``logout`` and ``whoami``: the CLI acts as a signed-in account.

``gateway login`` checks the person's password and opens a ``cli`` session held by the server
(:mod:`gateway.sessions`, ended by ``logout``, idleness, its lifetime or any change to the
account); its token is kept in ``cli_session_file`` (mode 0600, in a 0700 directory, under the
user's home by default). Every officer-facing command (disclose, approve, retry, withdraw, mark,
consent, certificates of origin) acts as that account, and :mod:`gateway.duties` decides what it
may do, as on the pages and the API. No command takes a typed officer's name.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click

from gateway import duties
from gateway.api.sign_in import checked_sign_in
from gateway.cli.root import gateway_services, main, settings_of
from gateway.files import write_private
from gateway.settings import Settings

if TYPE_CHECKING:
    from gateway.app import Services
    from gateway.people import Person
    from gateway.sessions import Opened


def _stored(settings: Settings) -> dict[str, str] | None:
    try:
        stored = json.loads(settings.cli_session_file.read_text())
    except (OSError, ValueError):
        return None
    return stored if isinstance(stored, dict) else None


#: Failed sign-ins of one name (any door) within this window stop `gateway login`: each CLI call
#: is a new process, so the pages' in-memory allowance cannot hold there; the log can.
GUESS_WINDOW_SECONDS = 300


def _recent_refusals(services: Services, username: str, now: datetime) -> int:
    """Refused sign-ins of ``username`` recorded in the last :data:`GUESS_WINDOW_SECONDS`."""
    from gateway.audit.queries import EventQuery, search_events

    events = search_events(
        services.database,
        EventQuery(
            tag="web:session:refused",
            start=now - timedelta(seconds=GUESS_WINDOW_SECONDS),
            limit=1000,
        ),
    )
    return sum(1 for e in events if e.get("detail", {}).get("username") == username)


def host_actor(role: str) -> str:
    """How the log names whoever runs a host-side command (accounts, exports): the operating
    system's account on this host, since the command needs the host's database, never a name
    typed on the command line."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name and no password-file entry (some containers)
        user = f"uid{os.getuid()}"
    return f"{role}:{user}@{socket.gethostname()}"


def remember(settings: Settings, person: Person, opened: Opened) -> None:
    """Keep ``opened`` as the CLI's sign-in for this gateway (``cli_session_file``, 0600)."""
    write_private(
        settings.cli_session_file,
        json.dumps(
            {
                "gateway_id": settings.gateway_id,
                "username": person.username,
                "token": opened.token,
                "expires_at": opened.expires_at.isoformat(),
            }
        ),
    )


def signed_in(ctx: click.Context, services: Services, step: str) -> Person:
    """The account signed in with ``gateway login`` for this gateway, if it may take ``step``
    (:func:`gateway.duties.check`); a clear CLI error otherwise."""
    person = signed_in_account(ctx, services)
    duties.check(person, step)
    return person


def signed_in_account(ctx: click.Context, services: Services) -> Person:
    """The account signed in with ``gateway login`` for this gateway, whatever its roles (the
    caller checks them: e.g. the hub's analyst commands); a clear CLI error if nobody is."""
    settings = settings_of(ctx)
    stored = _stored(settings)
    if stored is None or stored.get("gateway_id") != settings.gateway_id:
        raise click.ClickException(
            f"nobody is signed in to {settings.gateway_id}: sign in with `gateway login USER`"
        )
    person = services.sessions.person(stored.get("token"), kind="cli", now=datetime.now(UTC))
    if person is None:
        raise click.ClickException(
            "the sign-in has ended (signed out, idle, too old, or the account changed): "
            "sign in again with `gateway login USER`"
        )
    return person


@main.command()
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def login(ctx: click.Context, username: str, password_stdin: bool) -> None:
    """Sign in as USERNAME: the officer-facing commands act as this account until `gateway
    logout`, idleness or the session's lifetime ends it."""
    settings = settings_of(ctx)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = str(click.prompt("Password", hide_input=True))
    now = datetime.now(UTC)
    with gateway_services(settings) as services:
        name = username.strip().lower()
        if _recent_refusals(services, name, now) >= settings.sign_in_burst:
            services.refusals.record_sign_in_refusal(
                username=name, reason="too many attempts", address=None, path="cli:login"
            )
            raise click.ClickException(
                f"too many failed sign-ins for {name} in the last {GUESS_WINDOW_SECONDS // 60} "
                "minutes; try again later"
            )
        # the in-memory allowances start afresh in each process: the log's count above holds
        person = checked_sign_in(
            services, name, password, source=None, address=None, path="cli:login", now=now
        )
        if person is None:
            raise click.ClickException("that username and password do not match an active account")
        previous = _stored(settings)
        if previous is not None:
            services.sessions.close(previous.get("token"), now=now)
        opened = services.sessions.open(person, kind="cli", via=socket.gethostname(), now=now)
    remember(settings, person, opened)
    roles = ", ".join(sorted(person.roles))
    click.echo(f"signed in to {settings.gateway_id} as {person.username} ({roles})")
    click.echo(f"until {opened.expires_at:%Y-%m-%d %H:%M} UTC at the latest")


@main.command()
@click.pass_context
def logout(ctx: click.Context) -> None:
    """End the sign-in of `gateway login` (on the server too) and forget its token."""
    settings = settings_of(ctx)
    stored = _stored(settings)
    if stored is None:
        click.echo("nobody was signed in")
        return
    with gateway_services(settings) as services:
        was_open = services.sessions.close(stored.get("token"), now=datetime.now(UTC))
    settings.cli_session_file.unlink(missing_ok=True)
    if was_open:
        click.echo(f"signed out {stored.get('username', '')}".rstrip())
    else:
        click.echo("the sign-in had already ended; its token is forgotten")


@main.command()
@click.pass_context
def whoami(ctx: click.Context) -> None:
    """The account the officer-facing commands act as, if the sign-in still holds."""
    settings = settings_of(ctx)
    with gateway_services(settings) as services:
        person = signed_in_account(ctx, services)
    click.echo(f"{person.username} ({', '.join(sorted(person.roles))}) on {settings.gateway_id}")
