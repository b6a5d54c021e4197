"""Fixtures of the functional tests shared by several files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.app import build_services, create_app
from tests.conftest import partner_client


@pytest.fixture
def feeding_jp(settings: Any, signing_keys: Any) -> Iterator[dict[str, Any]]:
    """JP with its feed to the hub on (the batches wait in the outbox: their bytes are read
    there, as the delivery worker would send them)."""
    fed = replace(settings, hub_feed=True)
    services = build_services(fed)
    with TestClient(create_app(fed, services)) as client:
        yield {
            "services": services,
            "client": client,
            "partner": lambda admin: partner_client(client, signing_keys, admin),
        }
    services.database.dispose()
