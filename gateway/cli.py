"""The ``gateway`` command: serve, migrate, keys, partners, send.

Every sub-command reads the same settings as the server (defaults → ``--config``/GATEWAY_CONFIG →
``GATEWAY_*``), so what the CLI does is what the gateway will see.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from gateway.errors import GatewayError
from gateway.settings import Settings, load_settings


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj  # type: ignore[no-any-return]


@click.group()
@click.option(
    "--config", type=click.Path(dir_okay=False, path_type=Path), help="TOML settings file."
)
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """Customs intelligence exchange gateway."""
    try:
        ctx.obj = load_settings(config)
    except GatewayError as error:
        raise click.ClickException(error.detail) from error


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from gateway.store import migrate as migrations

    settings = _settings(ctx)
    if settings.is_sqlite:
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    migrations.upgrade(settings.database_url)
    click.echo("database is at the newest migration")


@main.command()
@click.option("--host", help="Address to listen on (default from settings).")
@click.option("--port", type=int, help="Port (default from settings).")
@click.option("--workers", type=int, help="Worker processes (default from settings).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the gateway with uvicorn."""
    import os

    import uvicorn

    from gateway.app import build_services
    from gateway.store.migrate import pending_revision

    settings = _settings(ctx)
    try:
        services = build_services(settings)  # fail here, clearly, rather than in every worker
        services.database.ping()
        pending = pending_revision(services.database.engine)
        services.database.dispose()
    except GatewayError as error:
        raise click.ClickException(error.detail) from error
    if pending is not None:
        raise click.ClickException(
            f"the database is not at migration {pending}; run `gateway migrate` first"
        )
    host = host or settings.host
    port = port or settings.port
    base = f"http://{host}:{port}"
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
    )


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
@click.pass_context
def keys_init(ctx: click.Context, admin_id: str | None, curve: str, pin: bool) -> None:
    """Generate a development key if there is none (never overwrites)."""
    from gateway.registry import add_pinned_key
    from gateway.trust.keys import generate_jwk, public_part, read_jwk_file, write_private_jwk

    settings = _settings(ctx)
    admin_id = admin_id or settings.gateway_id
    path = settings.keys_dir / f"{admin_id}.private.jwk"
    if path.exists():
        jwk = read_jwk_file(path)
        click.echo(f"{admin_id}: key {jwk.get('kid')} already in {path}")
    else:
        jwk = generate_jwk(curve)
        write_private_jwk(path, jwk)
        click.echo(f"{admin_id}: new {curve} key {jwk['kid']} in {path} (mode 0600)")
    if pin:
        add_pinned_key(settings.key_pins_dir, admin_id, public_part(jwk))


@keys.command("jwks")
@click.pass_context
def keys_jwks(ctx: click.Context) -> None:
    """Print this gateway's public JWKS."""
    from gateway.trust.keys import Keyring

    settings = _settings(ctx)
    click.echo(json.dumps(Keyring.load(settings.keys_dir, settings.gateway_id).jwks(), indent=2))


@main.group()
def partners() -> None:
    """The partner registry."""


@partners.command("check")
@click.pass_context
def partners_check(ctx: click.Context) -> None:
    """Check every partner file against its schema."""
    from gateway.registry import Registry

    settings = _settings(ctx)
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

    settings = _settings(ctx)
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
    except GatewayError as error:
        raise click.ClickException(error.detail) from error


@main.command()
@click.argument("message_type", type=click.Choice(["seizure-report"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as",
    "caller",
    required=True,
    help="Sending administration (its key must be in the keys dir).",
)
@click.option("--to", "url", required=True, help="Base URL of the receiving gateway.")
@click.option("--receiver", default="JP", show_default=True, help="Receiving administration id.")
@click.option("--message-id", help="Message id (default: a new UUID).")
@click.pass_context
def send(
    ctx: click.Context,
    message_type: str,
    file: Path,
    caller: str,
    url: str,
    receiver: str,
    message_id: str | None,
) -> None:
    """Sign and send a message as a partner would; print and verify the receipt."""
    import httpx

    from gateway.client.partner import PartnerClient, check_receipt
    from gateway.registry import pinned_keys
    from gateway.trust.keys import SigningKey, read_jwk_file

    settings = _settings(ctx)
    body = file.read_bytes()
    content_type = "application/xml" if file.suffix.lower() == ".xml" else "application/json"
    message_id = message_id or str(uuid.uuid4())
    try:
        key = SigningKey.from_jwk(read_jwk_file(settings.keys_dir / f"{caller}.private.jwk"))
        receiver_keys = pinned_keys(settings.key_pins_dir, receiver)
        if not receiver_keys:
            raise click.ClickException(
                f"no key of {receiver} is pinned in {settings.key_pins_dir}; "
                "its receipt could not be verified"
            )
        client = PartnerClient(
            base_url=url, caller=caller, receiver=receiver, key=key, receiver_keys=receiver_keys
        )
        answer = client.send(
            "/v1/seizure-reports",
            body,
            content_type=content_type,
            message_type=message_type,
            message_id=message_id,
        )
    except GatewayError as error:
        raise click.ClickException(error.detail) from error
    except httpx.HTTPError as error:
        raise click.ClickException(f"cannot reach {url}: {error}") from error
    click.echo(f"HTTP {answer.status}")
    click.echo(json.dumps(answer.json(), indent=2))
    if answer.status not in (200, 202):
        sys.exit(1)
    try:
        check_receipt(answer, body, message_id)
    except GatewayError as error:
        raise click.ClickException(f"receipt NOT verified: {error.detail}") from error
    assert answer.signature is not None
    click.echo(f"receipt signature verified: {receiver} key {answer.signature.kid}")


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
    """Check every policy file (schema, contradictions, partners); print the policy digest."""
    _, policies = _policies(_settings(ctx))
    click.echo(f"policy set valid; digest {policies.digest}")


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

    settings = _settings(ctx)
    registry, policies = _policies(settings)
    day = (on or datetime.now(UTC)).date()
    try:
        if message_id:
            from gateway.exchange.onward import decide_onward
            from gateway.store.db import Database

            decision = decide_onward(
                Database(settings.database_url),
                policies,
                registry,
                message_id=message_id,
                recipient=partner,
                purpose=purpose,
                on=day,
                actor="cli:policy-explain",
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
    click.echo(json.dumps(decision.to_dict(), indent=2) if as_json else decision.explain())
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
@click.option("--officer", required=True, help="Who records it.")
@click.pass_context
def policy_consent(
    ctx: click.Context, message_id: str, recipient: str, reference: str, officer: str
) -> None:
    """Record the originator's consent to pass a message on (H2/H3 originator control)."""
    from gateway.exchange.onward import record_consent
    from gateway.registry import Registry
    from gateway.store.db import Database

    settings = _settings(ctx)
    try:
        record_consent(
            Database(settings.database_url),
            Registry.load(settings.registry_dir, settings.key_pins_dir),
            message_id=message_id,
            recipient=recipient,
            reference=reference,
            recorded_by=f"officer:{officer}",
            now=datetime.now(UTC),
        )
    except GatewayError as error:
        raise click.ClickException(error.detail) from error
    click.echo(f"consent recorded: {message_id} may go to {recipient} ({reference})")


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


@main.group()
def audit() -> None:
    """The tamper-evident exchange log."""


def _services(settings: Settings) -> Any:
    from gateway.app import build_services

    try:
        return build_services(settings)
    except GatewayError as error:
        raise click.ClickException(error.detail) from error


@audit.command("checkpoint")
@click.pass_context
def audit_checkpoint(ctx: click.Context) -> None:
    """Sign a tree head of the log as it is now (run it periodically, e.g. from cron)."""
    from gateway.audit.checkpoints import sign_tree_head

    settings = _settings(ctx)
    services = _services(settings)
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
@click.option("--auditor", default="cli", show_default=True, help="Who makes the export (audited).")
@click.pass_context
def audit_export(
    ctx: click.Context, start: datetime, end: datetime, out: Path, auditor: str
) -> None:
    """Write the events of [FROM, TO) with everything needed to verify them offline."""
    from gateway.audit.export import export_log

    settings = _settings(ctx)
    services = _services(settings)
    data = export_log(
        services.database,
        services.registry,
        services.keyring,
        gateway_id=settings.gateway_id,
        start=start.replace(tzinfo=UTC),
        end=end.replace(tzinfo=UTC),
        actor=f"auditor:{auditor}",
        now=datetime.now(UTC),
    )
    out.write_text(json.dumps(data), encoding="utf-8")
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

    data = json.loads(file.read_text(encoding="utf-8"))
    trusted = None
    if jwks is not None:
        trusted = [PinnedKey.from_jwk(k) for k in json.loads(jwks.read_text())["keys"]]
    previous_export = None
    if previous_head and Path(previous_head).is_file():
        text = Path(previous_head).read_text(encoding="utf-8").strip()
        if text.startswith("{"):
            previous_export, previous_head = json.loads(text), None
        else:
            previous_head = text
    report = verify_export(
        data, trusted_keys=trusted, previous_head=previous_head, previous_export=previous_export
    )
    click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


@audit.command("retention")
@click.pass_context
def audit_retention(ctx: click.Context) -> None:
    """Delete the bodies whose retention period has ended (their leaves stay)."""
    from gateway.audit.retention import apply_retention

    services = _services(_settings(ctx))
    deleted = apply_retention(services.database, now=datetime.now(UTC))
    click.echo(f"{len(deleted)} message bodies deleted under retention")
