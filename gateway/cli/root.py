"""The root of the ``gateway`` command: the group and the settings every sub-command reads.

Every sub-command reads the same settings as the server (defaults → ``--config``/GATEWAY_CONFIG →
``GATEWAY_*``), so what the CLI does is what the gateway will see.
"""

from __future__ import annotations

from pathlib import Path

import click

from gateway.errors import GatewayError
from gateway.settings import Settings, load_settings


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
