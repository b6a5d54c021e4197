"""The registry against agreements.csv: expectations are computed here from the CSV itself."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from gateway.errors import ConfigurationError, UnknownPartnerError
from gateway.registry import Registry
from gateway.settings import PROJECT_ROOT

AGREEMENTS = PROJECT_ROOT / "data" / "agreements.csv"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load(PROJECT_ROOT / "partners")


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    if not AGREEMENTS.exists():
        pytest.fail(f"{AGREEMENTS} is missing: the registry cannot be checked against its source")
    with AGREEMENTS.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_partner_of_the_csv_is_registered_with_its_frameworks(registry, rows):
    def month(text: str) -> date | None:
        return date(*map(int, text.split("-")), 1) if text else None  # type: ignore[misc]

    expected: dict[str, set[tuple[str, date | None, date | None, bool]]] = {}
    for row in rows:
        expected.setdefault(row["partner"], set()).add(
            (
                row["framework"],
                month(row["in_force"]),
                month(row["revised"]),
                row["fy2012_enhanced"] == "true",
            )
        )
    assert len(expected) == 41
    administrations = {p.id for p in registry.partners.values() if p.kind == "administration"}
    assert administrations == set(expected)
    for partner_id, frameworks in expected.items():
        got = {
            (f.type, f.in_force, f.revised, f.fy2012_enhanced)
            for f in registry.get(partner_id).frameworks
        }
        assert got == frameworks, partner_id


def test_jp_itself_and_the_hub_are_registered(registry):
    assert registry.partners["JP"].kind == "self"
    assert registry.partners["RILO-AP"].kind == "hub"
    with pytest.raises(UnknownPartnerError):
        registry.get("JP")  # this gateway is not its own partner


def test_iran_framework_enters_into_force_in_june_2025(registry):
    iran = registry.get("IR")
    assert iran.frameworks_in_force(date(2025, 5, 31)) == ()
    assert [f.type for f in iran.frameworks_in_force(date(2025, 6, 1))] == ["CMAA"]


def test_norway_is_not_false(registry):
    """Regression: an unquoted `id: NO` is a YAML boolean; the files quote ids."""
    assert registry.get("NO").name == "Norway"


def _write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


@pytest.fixture
def scratch_registry(tmp_path: Path) -> Path:
    (tmp_path / "schema.json").write_bytes((PROJECT_ROOT / "partners" / "schema.json").read_bytes())
    return tmp_path


def test_invalid_partner_file_is_reported_with_file_and_line(scratch_registry):
    _write(
        scratch_registry,
        "KR.yaml",
        'id: "KR"\nname: Korea\nkind: administration\n'
        'rilo_ap_member: true\nframeworks:\n  - type: TREATY\n    in_force: "2004-12"\n'
        "    fy2012_enhanced: false\nkeys: []\n",
    )
    with pytest.raises(ConfigurationError, match=r"KR\.yaml:6: frameworks/0/type"):
        Registry.load(scratch_registry)


def test_duplicate_key_is_refused(scratch_registry):
    _write(scratch_registry, "KR.yaml", 'id: "KR"\nid: "KR"\n')
    with pytest.raises(ConfigurationError, match="duplicate key"):
        Registry.load(scratch_registry)


def test_file_name_must_match_id(scratch_registry):
    _write(
        scratch_registry,
        "KR.yaml",
        'id: "US"\nname: x\nkind: administration\nrilo_ap_member: false\n'
        "frameworks: []\nkeys: []\n",
    )
    with pytest.raises(ConfigurationError, match="differs from the file name"):
        Registry.load(scratch_registry)
