"""policies/*.yaml → PolicySet: schema-checked, cross-checked, digested; all or nothing.

An unknown field, a value of the wrong kind, or a contradiction (a personal-data purpose that is
not a purpose; an override for a framework the partner does not hold; two files for one partner)
is a ConfigurationError naming the file and the line. The gateway does not start with a part of
a policy. The release lists (release.yaml) are checked for pointers listed twice or in two lists,
and the hub's list for anything that is not open: the hub never receives personal data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.errors import ConfigurationError
from gateway.policy.model import (
    RELEASED_TYPES,
    FrameworkPolicy,
    HubPolicy,
    PolicySet,
    ReleaseList,
    ReviewPolicy,
)
from gateway.policy.release import compile_pointers, covers
from gateway.registry import Registry
from gateway.yamlconfig import load_checked


def _framework_policy(
    where: str, data: Mapping[str, Any], base: FrameworkPolicy | None
) -> FrameworkPolicy:
    def pick(name: str, default: Any) -> Any:
        return data.get(name, default)

    if base is None and not {
        "exchange",
        "purposes",
        "personal_data_purposes",
        "retention_days",
    } <= set(data):
        raise ConfigurationError(
            f"{where}: a default framework policy needs exchange, purposes, "
            "personal_data_purposes and retention_days"
        )
    exchange = pick("exchange", None)
    policy = FrameworkPolicy(
        exchange=(
            {t: frozenset(d) for t, d in exchange.items()}
            if exchange is not None
            else base.exchange  # type: ignore[union-attr]
        ),
        purposes=frozenset(pick("purposes", base.purposes if base else ())),
        personal_data_purposes=frozenset(
            pick("personal_data_purposes", base.personal_data_purposes if base else ())
        ),
        retention_days=pick("retention_days", base.retention_days if base else 0),
        answer_deadline_days=pick(
            "answer_deadline_days", base.answer_deadline_days if base else None
        ),
        origin_verification_days=pick(
            "origin_verification_days", base.origin_verification_days if base else None
        ),
    )
    stray = policy.personal_data_purposes - policy.purposes
    if stray:
        raise ConfigurationError(
            f"{where}: personal_data_purposes {sorted(stray)} are not among its purposes"
        )
    return policy


def _digest(files: list[tuple[str, Any]]) -> str:
    canonical = json.dumps(files, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def load_policies(policy_dir: Path, registry: Registry) -> PolicySet:
    """Load every policy file under ``policy_dir``; raise ConfigurationError on the first fault."""
    schema = json.loads((policy_dir / "schema.json").read_text(encoding="utf-8"))
    paths = sorted([*policy_dir.glob("*.yaml"), *policy_dir.glob("partners/*.yaml")])
    loaded = [(path, load_checked(path, schema)) for path in paths]
    by_kind: dict[str, list[tuple[Path, Any]]] = {
        "frameworks": [],
        "partner": [],
        "hub": [],
        "release": [],
    }
    for path, data in loaded:
        by_kind[data["kind"]].append((path, data))
    for kind in ("frameworks", "hub", "release"):
        if len(by_kind[kind]) != 1:
            found = ", ".join(str(p) for p, _ in by_kind[kind]) or "none"
            raise ConfigurationError(
                f"{policy_dir}: exactly one '{kind}' policy file is needed ({found})"
            )

    defaults_path, defaults = by_kind["frameworks"][0]
    missing = {"CMAA", "EPA", "CPTPP", "AA", "OTHER"} - set(defaults["frameworks"])
    if missing:
        raise ConfigurationError(f"{defaults_path}: no default policy for {sorted(missing)}")
    frameworks = {
        kind: _framework_policy(f"{defaults_path}: frameworks/{kind}", data, None)
        for kind, data in defaults["frameworks"].items()
    }
    review = ReviewPolicy(
        personal_data_out=defaults["review"].get("personal_data_out", "second-officer"),
        handling_codes_out=defaults["review"].get("handling_codes_out", {}),
        always=frozenset(defaults["review"].get("always", ())),
    )

    overrides: dict[str, dict[str, FrameworkPolicy]] = {}
    for path, data in by_kind["partner"]:
        partner_id = data["partner"]
        if partner_id != path.stem:
            raise ConfigurationError(f"{path}: partner {partner_id!r} differs from the file name")
        try:
            held = {f.type for f in registry.get(partner_id).frameworks}
        except ConfigurationError as error:
            raise ConfigurationError(f"{path}: {error.detail}") from error
        except Exception as error:
            raise ConfigurationError(
                f"{path}: {partner_id} is not in the partner registry"
            ) from error
        for kind, data_for_kind in data["frameworks"].items():
            if kind not in held:
                raise ConfigurationError(
                    f"{path}: frameworks/{kind}: {partner_id} holds no {kind} framework"
                )
            overrides.setdefault(partner_id, {})[kind] = _framework_policy(
                f"{path}: frameworks/{kind}", data_for_kind, frameworks[kind]
            )

    release = _release_lists(*by_kind["release"][0])
    hub_path, hub = by_kind["hub"][0]
    hub_policy = HubPolicy(
        hub["hub"],
        frozenset(hub["accepts"]),
        {kind: tuple(pointers) for kind, pointers in hub["release"].items()},
        hub["retention_days"],
    )
    _check_hub_release(hub_path, hub_policy, release)
    digest = _digest([(str(path.relative_to(policy_dir)), data) for path, data in loaded])
    return PolicySet(frameworks, overrides, review, hub_policy, release, digest)


def _release_lists(path: Path, data: Mapping[str, Any]) -> dict[str, ReleaseList]:
    """release.yaml → a ReleaseList per message type; every released type must have one, and a
    pointer stands in one list only."""
    missing = set(RELEASED_TYPES) - set(data["messages"])
    if missing:
        raise ConfigurationError(f"{path}: no release list for {sorted(missing)}")
    lists: dict[str, ReleaseList] = {}
    for kind, entry in data["messages"].items():
        where = f"{path}: messages/{kind}"
        named = [*entry["open"], *entry["personal"], *entry["never"]]
        twice = sorted({p for p in named if named.count(p) > 1})
        if twice:
            raise ConfigurationError(f"{where}: {', '.join(twice)} in more than one list")
        lists[kind] = ReleaseList(
            open=tuple(entry["open"]),
            personal=tuple(entry["personal"]),
            never=tuple(entry["never"]),
            essential=tuple(entry.get("essential", ())),
        )
        stray = [p for p in lists[kind].essential if not covers(compile_pointers(named), p)]
        if stray:
            raise ConfigurationError(f"{where}: essential {', '.join(stray)} is in no list")
    return lists


def _check_hub_release(path: Path, hub: HubPolicy, release: Mapping[str, ReleaseList]) -> None:
    """The hub may receive open fields only (never personal data), of types it takes."""
    for kind, pointers in hub.release.items():
        if kind not in release:
            raise ConfigurationError(f"{path}: release/{kind}: no such message type")
        personal = [p for p in pointers if not covers(release[kind].open_tree, p)]
        if personal:
            raise ConfigurationError(
                f"{path}: release/{kind}: {', '.join(personal)} is not open in release.yaml; "
                "the hub receives no personal data"
            )
