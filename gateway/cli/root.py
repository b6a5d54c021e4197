"""The root of the ``gateway`` command: the group and the settings every sub-command reads.

Every sub-command reads the same settings as the server (defaults → ``--config``/GATEWAY_CONFIG →
``GATEWAY_*``), so what the CLI does is what the gateway will see.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gateway.errors import GatewayError
from gateway.settings import Settings, load_settings

if TYPE_CHECKING:
    from gateway.app import Services


def settings_of(ctx: click.Context) -> Settings:
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


@contextmanager
def gateway_services(settings: Settings) -> Iterator[Services]:
    """The gateway's services for one command: its errors become plain CLI errors, and every
    database connection is closed when the command is done."""
    from gateway.app import build_services

    try:
        services = build_services(settings)
    except GatewayError as error:
        raise click.ClickException(error.detail) from error
    try:
        yield services
    except GatewayError as error:
        raise click.ClickException(error.detail) from error
    finally:
        services.database.dispose()
