"""``gateway demo``: JP and a partner gateway on two ports, a seizure report each way."""

from __future__ import annotations

import json
import secrets
import subprocess  # starts this same program only  # nosec B404
import sys
import time
from pathlib import Path

import click
import httpx

from gateway.cli.root import main
from gateway.files import open_private, write_private
from gateway.settings import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "specs" / "samples" / "seizure-report.json"


def _report_of(admin: str, directory: Path) -> Path:
    document = json.loads(SAMPLE.read_text())
    document["reporting_administration"] = admin
    document["report_id"] = f"{admin}-DEMO-0001"
    document["markings"] = {"originator": admin, "handling_code": "H0", "tlp": "TLP:GREEN"}
    path = directory / f"report-{admin}.json"
    write_private(path, json.dumps(document, indent=2))
    return path


def _gateway(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this same program, fixed arguments  # nosec B603
        [sys.executable, "-m", "gateway", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _sign_in_demo_officer(env: dict[str, str]) -> None:
    """The officer ``demo`` (created once, with a password nobody is told), signed in for the
    installation's CLI as `gateway login` would."""
    from datetime import UTC, datetime

    from gateway.app import build_services
    from gateway.cli.signin import remember
    from gateway.settings import load_settings

    settings = load_settings(environ=env)
    services = build_services(settings)
    try:
        now = datetime.now(UTC)
        person = services.accounts.person("demo") or services.accounts.create(
            "demo",
            roles=["officer"],
            display_name="Demo Officer",
            password=secrets.token_urlsafe(18),
            actor="admin:demo",
            now=now,
        )
        remember(settings, person, services.sessions.open(person, kind="cli", via="demo", now=now))
    finally:
        services.database.dispose()


def _wait_ready(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise click.ClickException(f"{base} did not become ready")


@main.command()
@click.option("--partner", default="KR", show_default=True)
@click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    default=PROJECT_ROOT / "var" / "demo",
    show_default=True,
)
@click.option("--jp-port", type=int, default=8080, show_default=True)
@click.option("--partner-port", type=int, default=8081, show_default=True)
@click.option("--exit", "exit_after", is_flag=True, help="Stop both gateways after the exchange.")
def demo(partner: str, root: Path, jp_port: int, partner_port: int, exit_after: bool) -> None:
    """Start JP and PARTNER, each with its own database, keys and registry; disclose a report
    each way through the policy, the outbox and the delivery worker; show the receipts."""
    from gateway.demo import prepare

    jp, other = prepare(root, partner, jp_port, partner_port)
    envs = {jp.gateway_id: jp.environment(other), other.gateway_id: other.environment(jp)}
    servers = []
    try:
        for installation in (jp, other):
            log = open_private(installation.root / "serve.log")
            # this same program, fixed arguments
            server = subprocess.Popen(  # nosec B603
                [sys.executable, "-m", "gateway", "serve"],
                env=envs[installation.gateway_id],
                stdout=log,
                stderr=log,
            )
            servers.append(server)
        for installation in (jp, other):
            _wait_ready(installation.base_url)
            click.echo(
                f"{installation.gateway_id} serving on {installation.base_url} "
                f"(Swagger UI {installation.base_url}/ui/)"
            )
        for sender, recipient in ((jp, other), (other, jp)):
            env = envs[sender.gateway_id]
            _sign_in_demo_officer(env)
            report = _report_of(sender.gateway_id, sender.root)
            drafted = _gateway(
                env,
                "disclose",
                "seizure-report",
                str(report),
                "--to",
                recipient.gateway_id,
                "--purpose",
                "intelligence",
            )
            if drafted.returncode != 0:
                raise click.ClickException(drafted.stderr or drafted.stdout)
            click.echo(f"{sender.gateway_id} → {recipient.gateway_id}: {drafted.stdout.strip()}")
            _gateway(env, "worker", "--once", "--id", f"demo-{sender.gateway_id}")
            click.echo(_gateway(env, "outbox", "list").stdout.rstrip())
        if not exit_after:
            click.echo("Both gateways keep running; Ctrl-C stops them.")
            while all(server.poll() is None for server in servers):
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)
