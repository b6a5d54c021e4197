"""Regression tests for what the API fuzzing found (test_api_fuzzing.py), and what probing by
hand beside it found, one per finding.

Each was a 500 or an answer the spec did not describe; each is now a documented 400 problem.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import yaml

from gateway.settings import Settings
from tests.conftest import AUDITOR_TOKEN, acting_headers

PROBLEMS = "https://customs.go.jp/gateway/problems/"


def documented(path: str, method: str, status: int) -> bool:
    spec = yaml.safe_load(Settings().spec_path.read_text())
    return str(status) in spec["paths"][path][method]["responses"]


def test_case_id_beyond_the_database_integer_is_refused_not_a_500(client, people):
    """Found: GET /v1/cases/429544260242657247232 overflowed SQLite's INTEGER (500)."""
    response = client.get(
        "/v1/cases/429544260242657247232",
        headers=acting_headers(client, "suzuki"),
    )
    assert response.status_code == 400
    assert response.json()["type"] == PROBLEMS + "request-invalid"


def test_proof_parameters_that_are_not_integers_get_a_documented_400(client):
    """Found: a 400 the spec did not list for the proof operations."""
    response = client.get(
        "/v1/audit/proofs/inclusion?index=4%C3%AA%C2%B8&tree_size=null",
        headers={"Authorization": f"Bearer {AUDITOR_TOKEN}"},
    )
    assert response.status_code == 400
    assert documented("/v1/audit/proofs/inclusion", "get", 400)
    assert documented("/v1/audit/proofs/consistency", "get", 400)


def test_nul_in_a_query_parameter_is_refused_not_a_500(client):
    """Found: GET /v1/audit/events?actor=a%00b made PostgreSQL refuse the string (500)."""
    for query in ("actor=a%00b", "tag=x%00", "partner=K%00R"):
        response = client.get(
            f"/v1/audit/events?{query}", headers={"Authorization": f"Bearer {AUDITOR_TOKEN}"}
        )
        assert response.status_code == 400, (query, response.text)
        assert response.json()["type"] == PROBLEMS + "request-invalid"


def test_nul_in_a_json_document_is_refused_as_malformed(partner, sample_json):
    """Found with the above: a NUL inside a document's string cannot be stored on PostgreSQL."""
    document = json.loads(sample_json)
    document["office"]["name"] = "Narita\u0000Airport"
    answer = partner("KR").send(
        "/v1/seizure-reports",
        json.dumps(document).encode(),
        content_type="application/json",
        message_type="seizure-report",
    )
    assert answer.status == 400
    assert answer.json()["type"] == PROBLEMS + "malformed-body"
    assert "NUL" in answer.json()["detail"]


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+09:00"])
def test_date_time_beyond_the_calendar_in_utc_is_refused_not_a_500(client, partner, moment):
    """Found by hand: a valid RFC 3339 date-time whose UTC instant is in the year 10000 or 0
    overflowed Python's datetime (500) in the audit search and the partner's inbox."""
    for query in (f"since={quote(moment)}", f"until={quote(moment)}"):
        response = client.get(
            f"/v1/audit/events?{query}", headers={"Authorization": f"Bearer {AUDITOR_TOKEN}"}
        )
        assert response.status_code == 400, (query, response.text)
        assert response.json()["type"] == PROBLEMS + "request-invalid"
        assert "outside the years 1 to 9999 in UTC" in response.json()["detail"]
    answer = partner("US").get(f"/v1/inbox?added_after={quote(moment)}")
    assert answer.status == 400, answer.body
    assert answer.json()["type"] == PROBLEMS + "request-invalid"
    assert documented("/v1/audit/events", "get", 400) and documented("/v1/inbox", "get", 400)


def test_query_value_with_a_newline_after_its_pattern_is_refused(client):
    """Found by hand: ?partner=KR%0A met the pattern ^([A-Z]{2}|RILO-AP)$ (Python's $)."""
    response = client.get(
        "/v1/audit/events?partner=KR%0A", headers={"Authorization": f"Bearer {AUDITOR_TOKEN}"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["type"] == PROBLEMS + "request-invalid"
