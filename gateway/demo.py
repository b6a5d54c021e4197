"""Two installations on one machine, JP and a partner (KR by default), for ``gateway demo``.

Each installation is what a real one is: its own database, keys, key pins, registry and policy.
The partner's registry names JP under the framework JP's registry names it under (a CMAA for KR),
so both gateways decide the same exchange the same way. Nothing here is used in production.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from gateway.files import private_directory, write_private
from gateway.origin.synthetic import authority_name
from gateway.registry import Registry, add_authority_certificate, add_pinned_key
from gateway.settings import PROJECT_ROOT
from gateway.store import migrate
from gateway.trust.keys import generate_jwk, public_part, read_jwk_file, write_private_jwk
from gateway.trust.xmldsig import (
    AuthorityCertificate,
    authority_files,
    generate_authority,
    read_authority,
    write_authority,
)


@dataclass(frozen=True)
class Installation:
    gateway_id: str
    root: Path
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self, partner: Installation, **overrides: str) -> dict[str, str]:
        """The environment of this installation's commands; ``overrides`` win."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        env.update(
            GATEWAY_GATEWAY_ID=self.gateway_id,
            GATEWAY_DATABASE_URL=f"sqlite:///{self.root / 'gateway.sqlite3'}",
            GATEWAY_KEYS_DIR=str(self.root / "keys"),
            GATEWAY_KEY_PINS_DIR=str(self.root / "pins"),
            GATEWAY_WEB_SECRET_FILE=str(self.root / "web-secret"),
            GATEWAY_CLI_SESSION_FILE=str(self.root / "cli-session.json"),
            GATEWAY_PORT=str(self.port),
            GATEWAY_PARTNER_ENDPOINTS=f"{partner.gateway_id}={partner.base_url}",
            GATEWAY_DELIVERY_BACKOFF_BASE_SECONDS="1",
            GATEWAY_LOG_LEVEL="WARNING",
        )
        if self.gateway_id != "JP":  # the partner's own registry and policy
            env["GATEWAY_REGISTRY_DIR"] = str(self.root / "partners")
            env["GATEWAY_POLICY_DIR"] = str(self.root / "policies")
        env.update(overrides)
        return env


def partner_directories(
    root: Path, partner_id: str, *, jp_framework_in_force: str | None = None
) -> None:
    """The partner's view: itself (self), JP under the frameworks JP's registry lists for it."""
    ours = Registry.load(PROJECT_ROOT / "partners").get(partner_id)
    partners, policies = root / "partners", root / "policies"
    private_directory(partners)
    private_directory(policies)
    write_private(
        partners / f"{partner_id}.yaml",
        yaml.safe_dump(
            {
                "id": partner_id,
                "name": ours.name,
                "kind": "self",
                "rilo_ap_member": ours.rilo_ap_member,
                "endpoint": None,
                "frameworks": [],
                "keys": [],
            }
        ),
    )
    frameworks = [
        {
            "type": f.type,
            "in_force": jp_framework_in_force or f.in_force.strftime("%Y-%m"),
            "fy2012_enhanced": f.fy2012_enhanced,
            **({"revised": f.revised.strftime("%Y-%m")} if f.revised else {}),
            **({"agreement": f.agreement} if f.agreement else {}),
        }
        for f in ours.frameworks
    ]
    write_private(
        partners / "JP.yaml",
        yaml.safe_dump(
            {
                "id": "JP",
                "name": "Japan",
                "kind": "administration",
                "rilo_ap_member": True,
                "endpoint": None,
                "frameworks": frameworks,
                "keys": [],
            }
        ),
    )
    for name in ("frameworks.yaml", "release.yaml", "hub.yaml", "schema.json"):
        shutil.copy(PROJECT_ROOT / "policies" / name, policies / name)


def prepare(
    root: Path, partner_id: str, jp_port: int, partner_port: int
) -> tuple[Installation, Installation]:
    """Both installations under ``root``, migrated, keyed, and pinning each other's keys; each
    with a development issuing authority for certificates of origin, pinned on both sides."""
    jp = Installation("JP", root / "JP", jp_port)
    partner = Installation(partner_id, root / partner_id, partner_port)
    for installation in (jp, partner):
        private_directory(installation.root)
        migrate.upgrade(f"sqlite:///{installation.root / 'gateway.sqlite3'}")
        key_file = installation.root / "keys" / f"{installation.gateway_id}.private.jwk"
        if not key_file.exists():
            write_private_jwk(key_file, generate_jwk())
    partner_directories(partner.root, partner_id)
    authorities = {i.gateway_id: _authority(i) for i in (jp, partner)}
    for this, other in ((jp, partner), (partner, jp)):
        other_key = read_jwk_file(other.root / "keys" / f"{other.gateway_id}.private.jwk")
        add_pinned_key(this.root / "pins", other.gateway_id, public_part(other_key))
        own_key = read_jwk_file(this.root / "keys" / f"{this.gateway_id}.private.jwk")
        add_pinned_key(this.root / "pins", this.gateway_id, public_part(own_key))
        for administration in (this.gateway_id, other.gateway_id):
            add_authority_certificate(
                this.root / "pins", administration, authorities[administration]
            )
    return jp, partner


def _authority(installation: Installation) -> AuthorityCertificate:
    """The installation's development issuing authority (created once)."""
    keys = installation.root / "keys"
    if not authority_files(keys, installation.gateway_id)[0].exists():
        key, certificate = generate_authority(
            authority_name(installation.gateway_id), installation.gateway_id
        )
        write_authority(keys, installation.gateway_id, key, certificate)
    return read_authority(keys, installation.gateway_id)[1]


def hub_registry(root: Path) -> Path:
    """The RILO A/P hub's own view of the registry: itself as ``self``, every administration
    (Japan included) as a partner; the committed files otherwise."""
    directory = root / "hub-partners"
    private_directory(directory)
    for path in (PROJECT_ROOT / "partners").iterdir():
        if path.suffix != ".yaml":
            shutil.copy(path, directory / path.name)
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data["id"] == "RILO-AP":
            data["kind"] = "self"
        elif data["kind"] == "self":
            data["kind"] = "administration"
        write_private(directory / path.name, yaml.safe_dump(data))
    return directory
