"""The pure parts of the exchange statistics: buckets, delivery reasons, which events count."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gateway.audit.statistics import Stage, StatisticsQuery, delivery_reason, period_start, stage_of
from gateway.errors import RequestInvalidError


@pytest.mark.parametrize(
    ("period", "start"),
    [("day", date(2026, 3, 1)), ("week", date(2026, 2, 23)), ("month", date(2026, 3, 1))],
)
def test_buckets_start_on_the_utc_day_the_monday_and_the_first_of_the_month(period, start):
    assert period_start(datetime(2026, 3, 1, 23, 59, tzinfo=UTC), period) == start


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        (
            {
                "reason": "refused by KR: HTTP 403 https://customs.go.jp/gateway/problems/policy-denied",
                "status": 403,
            },
            "policy-denied",
        ),
        ({"reason": "refused by KR: HTTP 403 ", "status": 403}, "http-403"),
        (
            {"reason": "no answer: ConnectError: refused (after 8 attempts)", "status": None},
            "no-answer",
        ),
        ({"reason": "no endpoint for KR seizure-report", "status": None}, "no-endpoint"),
        ({"reason": "receipt not accepted: bad signature", "status": 202}, "receipt-not-accepted"),
        ({"reason": "HTTP 503 (after 8 attempts)", "status": 503}, "http-503"),
    ],
)
def test_delivery_reasons(detail, reason):
    assert delivery_reason(detail) == reason


def test_only_message_events_count():
    assert stage_of("officer:case:drafted", {"state": "awaiting-review"}) is None
    assert stage_of("officer:case:approved", {}) is None
    assert stage_of("auditor:message:read", {}) is None
    assert stage_of("policy:seizure-report:denied", {"rule": "x"}) is None
    refused = {"method": "POST", "path": "/v1/hub/seizure-report-batches", "problem": "forbidden"}
    assert stage_of("partner:hub:refused", refused) == Stage(
        "in", "seizure-report-batch", "refused", "forbidden"
    )
    assert stage_of("partner:inbox:refused", {**refused, "path": "/v1/inbox"}) is None
    assert stage_of("partner:seizure-report:refused", {**refused, "method": "GET"}) is None
    assert stage_of("system:seizure-report:withdrawn", {"before_delivery": True}) == Stage(
        "out", "seizure-report", "withdrawn", "before-delivery"
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"since": datetime(2026, 5, 2, tzinfo=UTC)},
        {"period": "year"},
        {"direction": "both"},
    ],
)
def test_queries_that_count_nothing_sensible_are_refused(changes):
    with pytest.raises(RequestInvalidError):
        StatisticsQuery(until=datetime(2026, 5, 1, tzinfo=UTC), **changes)
