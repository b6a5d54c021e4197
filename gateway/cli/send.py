"""``gateway send``: act as a partner administration."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import click

from gateway.cli.root import main, settings_of
from gateway.errors import GatewayError


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

    from gateway.client.bounded import AnswerOutOfBounds
    from gateway.client.partner import PartnerClient, check_receipt
    from gateway.registry import pinned_keys
    from gateway.trust.keys import SigningKey, read_jwk_file

    settings = settings_of(ctx)
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
        with PartnerClient(
            base_url=url, caller=caller, receiver=receiver, key=key, receiver_keys=receiver_keys
        ) as client:
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
    except AnswerOutOfBounds as error:
        raise click.ClickException(f"{url}: {error}") from error
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
