"""Keys, pinned partner keys and operator tokens: ``gateway keys|partners|operators``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from gateway.cli.root import main, settings_of
from gateway.errors import GatewayError
from gateway.settings import Settings


@main.group()
def keys() -> None:
    """This installation's signing keys."""


@keys.command("init")
@click.option(
    "--id", "admin_id", help="Administration to generate a key for (default: this gateway)."
)
@click.option(
    "--curve", type=click.Choice(["Ed25519", "P-256"]), default="Ed25519", show_default=True
)
@click.option(
    "--pin/--no-pin",
    default=True,
    show_default=True,
    help="Also pin the public key in the key pins directory (development partners).",
)
@click.option(
    "--encrypt",
    is_flag=True,
    help="Write the key encrypted (PKCS#8 PEM) with the passphrase in key_passphrase_file.",
)
@click.pass_context
def keys_init(
    ctx: click.Context, admin_id: str | None, curve: str, pin: bool, encrypt: bool
) -> None:
    """Generate a key if there is none (never overwrites)."""
    from gateway.registry import add_pinned_key
    from gateway.trust.keys import (
        generate_jwk,
        private_key_path,
        public_part,
        read_private_key,
        write_encrypted_private_key,
        write_private_jwk,
    )

    settings = settings_of(ctx)
    admin_id = admin_id or settings.gateway_id
    try:
        passphrase = settings.key_passphrase()
        if encrypt and not passphrase:
            raise click.ClickException("--encrypt needs key_passphrase_file")
        path = private_key_path(settings.keys_dir, admin_id)
        if path.exists():
            jwk = read_private_key(path, passphrase)
            click.echo(f"{admin_id}: key {jwk.get('kid')} already in {path}")
        else:
            jwk = generate_jwk(curve)
            if encrypt and passphrase:
                path = path.with_suffix(".pem")
                write_encrypted_private_key(path, jwk, passphrase)
            else:
                write_private_jwk(path, jwk)
            protection = "encrypted, mode 0600" if encrypt else "mode 0600"
            click.echo(f"{admin_id}: new {curve} key {jwk['kid']} in {path} ({protection})")
    except GatewayError as error:
        raise click.ClickException(error.detail) from error
    if pin:
        add_pinned_key(settings.key_pins_dir, admin_id, public_part(jwk))


@keys.command("jwks")
@click.pass_context
def keys_jwks(ctx: click.Context) -> None:
    """Print this gateway's public JWKS."""
    from gateway.trust.keys import Keyring

    settings = settings_of(ctx)
    try:
        keyring = Keyring.load(settings.keys_dir, settings.gateway_id, settings.key_passphrase())
    except GatewayError as error:
        raise click.ClickException(error.detail) from error
    click.echo(json.dumps(keyring.jwks(), indent=2))


@main.group()
def partners() -> None:
    """The partner registry."""


@partners.command("check")
@click.pass_context
def partners_check(ctx: click.Context) -> None:
    """Check every partner file against its schema."""
    from gateway.registry import Registry

    settings = settings_of(ctx)
    try:
        registry = Registry.load(settings.registry_dir, settings.key_pins_dir)
    except GatewayError as error:
        raise click.ClickException(error.detail) from error
    click.echo(f"{len(registry.partners)} administrations, all valid")


@partners.command("add-key")
@click.argument("partner_id")
@click.argument("jwk_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--not-after",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="Retire the key after this UTC time (rotation: pin the new key first).",
)
@click.pass_context
def partners_add_key(
    ctx: click.Context, partner_id: str, jwk_file: Path, not_after: datetime | None
) -> None:
    """Pin (or re-pin with a retirement date) a partner's public key from a JWK or JWKS file."""
    from gateway.registry import Registry, add_pinned_key
    from gateway.trust.keys import read_jwk_file

    settings = settings_of(ctx)
    try:
        Registry.load(settings.registry_dir, settings.key_pins_dir).get(partner_id)
        data: dict[str, Any] = read_jwk_file(jwk_file)
        jwks = data.get("keys", [data])
        for jwk in jwks:
            if not_after is not None:
                jwk = {**jwk, "exp": int(not_after.replace(tzinfo=UTC).timestamp())}
            key = add_pinned_key(settings.key_pins_dir, partner_id, jwk)
            click.echo(
                f"{partner_id}: pinned {key.kid}" + (f" until {not_after}" if not_after else "")
            )
            _audit_key_pinned(settings, partner_id, key.kid, not_after)
    except GatewayError as error:
        raise click.ClickException(error.detail) from error


def _audit_key_pinned(
    settings: Settings, partner_id: str, kid: str, not_after: datetime | None
) -> None:
    """Record the pin in the audit log; say so plainly when the database cannot take it."""
    from gateway.audit.system_events import note_key_pinned
    from gateway.store.db import Database

    database = Database(settings.database_url)
    try:
        note_key_pinned(
            database,
            partner=partner_id,
            kid=kid,
            not_after=not_after.replace(tzinfo=UTC) if not_after else None,
            actor="operator:cli",
            now=datetime.now(UTC),
        )
    except Exception as error:  # the pin stands; the operator must know the log lacks it
        click.echo(
            f"warning: the pin is not in the audit log ({type(error).__name__}: {error})", err=True
        )
    finally:
        database.dispose()


@main.group()
def operators() -> None:
    """Tokens of the gateway's own systems for the operator API."""


@operators.command("new-token")
@click.argument("name")
def operators_new_token(name: str) -> None:
    """Make a token for NAME: print it once, and the setting entry that admits it."""
    from gateway.api.operators import new_operator_token

    token, digest = new_operator_token()
    click.echo(f"token (give it to {name}; it is not stored): {token}")
    click.echo(f"add to GATEWAY_OPERATOR_TOKENS: {name}={digest}")
