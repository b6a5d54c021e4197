"""Exchange statistics for auditors, computed from the audit log alone.

What is counted
===============

**Messages, each once.** A message is what the log names by its direction, partner, message
type and message id. Only the events that occurred in ``[since, until)`` are read (the events an
export of the same range holds), and of those only the *counting events* below; every other event
(reads, cases, policy explanations, accounts, tree heads, exports…) is ignored. A message is
counted in the range when at least one of its counting events is in it, so a message whose
events straddle two ranges is counted in both.

======================================================= ========= ================= ================
counting event                                          direction outcome           reason
======================================================= ========= ================= ================
``partner:T:received``                                  in        accepted
``partner:…:refused`` of a ``POST`` to T's path          in        refused           ``problem``
``partner:T:withdrawn`` (the sender withdrew it)        in        withdrawn         by-sender
``S:T:drafted``, ``detail.state`` awaiting-review       out       awaiting-review
``S:T:drafted`` (queued, or available to pull)          out       pending
``officer:T:approved``, ``officer:T:retried``           out       pending
``system:T:delivery-failed``                            out       retrying          delivery reason
``system:T:dead-lettered``                              out       dead-letter       delivery reason
``system:T:delivered`` (pushed, receipt verified)       out       delivered
``partner:T:acknowledged`` (pulled, receipt verified)   out       pulled
``S:T:withdrawn`` with ``detail.before_delivery``       out       withdrawn         before-delivery
``S:withdrawal:drafted`` with ``detail.withdraws`` = M  out (M)   withdrawn         after-delivery
======================================================= ========= ================= ================

* T is a message type (one with a path of its own, ``gateway.exchange.delivery.PATHS``), from
  the tag; for a refusal, the type whose path was posted to
  (``detail.path``; refusals of anything but a message path are not messages). The partner is
  the event's ``partner``: the sender in, the recipient out; none for a call that did not
  authenticate. The message id is the event's ``message_id``; a refusal without one (refused
  before its id was read) is a message of its own.
* **Outcome**: that of the message's last counting event in log order; except that a refusal
  never replaces ``accepted`` or ``withdrawn`` (it refused a resend under the same id). The last
  row above makes the withdrawn message M ``withdrawn`` when M is counted in the range; the
  withdrawal itself is a message too (type ``withdrawal``, its own outcome).
* **Reason**: for a refusal, its problem kind (``detail.problem``); for a delivery failure or a
  dead letter, the kind of the partner's problem when it refused (``…/problems/<kind>`` in
  ``detail.reason``), else ``no-answer``, ``no-endpoint``, ``receipt-not-accepted`` or
  ``http-<status>``. **Rule**: for a refusal, the policy rule that decided (``detail.rule``).
* **Period**: the UTC day, ISO week (starting Monday) or calendar month of the message's first
  counting event in the range; a row's ``period`` is that bucket's first day.
* Filters: ``partner`` selects events; ``direction`` and ``message_type`` select messages.

Refusals the gateway only counted (``partner:excess:refused``: callers over their allowance)
are not messages: they are given apart, as ``excess_refusals`` (refusals per period, partner
and problem), and not when a direction ``out`` or a message type is asked for.

To reconcile: export the same range (``gateway audit export``), apply the table to its events in
log order, and count.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select

from gateway.audit.queries import EventQuery, matching, stream_events
from gateway.errors import RequestInvalidError
from gateway.exchange.delivery import PATHS
from gateway.exchange.refusals import EXCESS_TAG
from gateway.store.db import Database
from gateway.store.models import AuditEvent

PERIODS = ("day", "week", "month")
DIRECTIONS = ("in", "out")
OUTCOMES = (
    "accepted",
    "refused",
    "withdrawn",
    "awaiting-review",
    "pending",
    "retrying",
    "dead-letter",
    "delivered",
    "pulled",
)
CSV_COLUMNS = (
    "period",
    "partner",
    "direction",
    "message_type",
    "outcome",
    "reason",
    "rule",
    "messages",
)
#: The message type posted to each message path.
_TYPE_BY_PATH = {path: message_type for message_type, path in PATHS.items()}
_PROBLEM_KIND = re.compile(r"/problems/([a-z0-9-]+)")
_RELEASED = ("approved", "retried")
#: A row's and an excess row's key: what they count by.
RowKey = tuple[date, str | None, str, str, str, str | None, str | None]
ExcessKey = tuple[date, str | None, str]
_DELIVERY = {
    "delivery-failed": "retrying",
    "dead-lettered": "dead-letter",
    "delivered": "delivered",
}


@dataclass(frozen=True)
class StatisticsQuery:
    """The range ``[since, until)`` (``since`` None: from the log's start), the bucket size and
    the filters."""

    until: datetime
    since: datetime | None = None
    period: str = "day"
    partner: str | None = None
    message_type: str | None = None
    direction: str | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.since >= self.until:
            raise RequestInvalidError("since must be before until")
        if self.period not in PERIODS:
            raise RequestInvalidError(f"period is one of {', '.join(PERIODS)}")
        if self.direction not in (None, *DIRECTIONS):
            raise RequestInvalidError("direction is in or out")


@dataclass(frozen=True)
class Stage:
    """What a counting event says of its message."""

    direction: str
    message_type: str
    outcome: str
    reason: str | None = None
    rule: str | None = None


@dataclass(frozen=True)
class Row:
    period: date
    partner: str | None
    direction: str
    message_type: str
    outcome: str
    reason: str | None
    rule: str | None
    messages: int

    def to_dict(self) -> dict[str, Any]:
        view = {
            "period": self.period.isoformat(),
            "partner": self.partner,
            "direction": self.direction,
            "message_type": self.message_type,
            "outcome": self.outcome,
            "reason": self.reason,
            "rule": self.rule,
            "messages": self.messages,
        }
        return {k: v for k, v in view.items() if v is not None}


@dataclass(frozen=True)
class ExcessRow:
    period: date
    partner: str | None
    problem: str
    refusals: int

    def to_dict(self) -> dict[str, Any]:
        view = {"period": self.period.isoformat(), "partner": self.partner}
        return {
            **{k: v for k, v in view.items() if v is not None},
            "problem": self.problem,
            "refusals": self.refusals,
        }


@dataclass(frozen=True)
class Statistics:
    query: StatisticsQuery
    rows: tuple[Row, ...]
    excess_refusals: tuple[ExcessRow, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``GET /v1/audit/statistics``, ``gateway audit statistics``)."""
        by_outcome: Counter[str] = Counter()
        for row in self.rows:
            by_outcome[row.outcome] += row.messages
        filters = {
            "partner": self.query.partner,
            "message_type": self.query.message_type,
            "direction": self.query.direction,
        }
        return {
            **({"since": self.query.since.isoformat()} if self.query.since else {}),
            "until": self.query.until.isoformat(),
            "period": self.query.period,
            "filters": {k: v for k, v in filters.items() if v is not None},
            "rows": [row.to_dict() for row in self.rows],
            "totals": {"messages": sum(by_outcome.values()), "by_outcome": dict(by_outcome)},
            "excess_refusals": [row.to_dict() for row in self.excess_refusals],
        }

    def to_csv(self) -> str:
        """One line per row of messages (``excess_refusals`` are in the JSON only). Every value
        is the gateway's own (tags it wrote, problem kinds, policy rule names, registry ids):
        none can start a spreadsheet formula."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({**{c: "" for c in CSV_COLUMNS}, **row.to_dict()})
        return out.getvalue()


def period_start(moment: datetime, period: str) -> date:
    """The first day of ``moment``'s UTC day, ISO week (Monday) or calendar month."""
    day = moment.date()
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def delivery_reason(detail: Mapping[str, Any]) -> str:
    """Why a delivery attempt failed, from its event's ``reason`` and ``status``."""
    reason = str(detail.get("reason") or "")
    kind = _PROBLEM_KIND.search(reason)
    if reason.startswith("refused by") and kind:
        return kind.group(1)
    for start, name in (
        ("no answer", "no-answer"),
        ("no endpoint", "no-endpoint"),
        ("receipt not accepted", "receipt-not-accepted"),
    ):
        if reason.startswith(start):
            return name
    return f"http-{detail['status']}" if detail.get("status") else "other"


def stage_of(tag: str, detail: Mapping[str, Any]) -> Stage | None:
    """The stage a counting event gives its message (module docstring); None for any other."""
    source, _, rest = tag.partition(":")
    message_type, _, action = rest.rpartition(":")
    if message_type not in PATHS and action != "refused":
        return None  # not a message: a case, an account, a policy, the log itself…
    if source == "partner" and action == "refused":
        refused_type = _TYPE_BY_PATH.get(str(detail.get("path")))
        if detail.get("method") != "POST" or refused_type is None:
            return None
        return Stage(
            "in", refused_type, "refused", detail.get("problem"), detail.get("rule") or None
        )
    if action == "withdrawn":
        if detail.get("before_delivery"):
            return Stage("out", message_type, "withdrawn", "before-delivery")
        if source == "partner":
            return Stage("in", message_type, "withdrawn", "by-sender")
        return None
    if source == "partner" and action in ("received", "acknowledged"):
        return Stage(
            "in" if action == "received" else "out",
            message_type,
            "accepted" if action == "received" else "pulled",
        )
    if action == "drafted":
        held = detail.get("state") == "awaiting-review"
        return Stage("out", message_type, "awaiting-review" if held else "pending")
    if source == "officer" and action in _RELEASED:
        return Stage("out", message_type, "pending")
    if source == "system" and action in _DELIVERY:
        reason = delivery_reason(detail) if action != "delivered" else None
        return Stage("out", message_type, _DELIVERY[action], reason)
    return None


@dataclass
class _Message:
    direction: str
    partner: str | None
    message_type: str
    message_id: str | None
    first_at: datetime
    last_index: int
    outcome: str
    reason: str | None
    rule: str | None

    def advance(self, stage: Stage, log_index: int) -> None:
        """The later event's outcome, but a refusal never undoes an acceptance."""
        self.last_index = log_index
        if stage.outcome == "refused" and self.outcome in ("accepted", "withdrawn"):
            return
        self.outcome, self.reason, self.rule = stage.outcome, stage.reason, stage.rule


@dataclass
class _Tally:
    query: StatisticsQuery
    rows: Counter[RowKey] = field(default_factory=Counter)
    excess: Counter[ExcessKey] = field(default_factory=Counter)

    def message(self, message: _Message) -> None:
        if self.query.direction not in (None, message.direction):
            return
        if self.query.message_type not in (None, message.message_type):
            return
        key: RowKey = (
            period_start(message.first_at, self.query.period),
            message.partner,
            message.direction,
            message.message_type,
            message.outcome,
            message.reason,
            message.rule,
        )
        self.rows[key] += 1

    def excess_event(self, event: AuditEvent) -> None:
        if self.query.direction == "out" or self.query.message_type is not None:
            return
        period = period_start(event.occurred_at, self.query.period)
        for problem, count in (event.detail.get("problems") or {}).items():
            self.excess[(period, event.partner, str(problem))] += int(count)

    def statistics(self) -> Statistics:
        def order(key: tuple[Any, ...]) -> tuple[Any, ...]:
            """Sorted as text, none before any value."""
            return tuple("" if part is None else part for part in key)

        return Statistics(
            query=self.query,
            rows=tuple(
                Row(*key, n) for key, n in sorted(self.rows.items(), key=lambda i: order(i[0]))
            ),
            excess_refusals=tuple(
                ExcessRow(*key, n)
                for key, n in sorted(self.excess.items(), key=lambda i: order(i[0]))
            ),
        )


def _in_range(query: StatisticsQuery) -> Select[AuditEvent]:
    return matching(EventQuery(partner=query.partner, start=query.since, end=query.until))


def _withdrawn_after_delivery(database: Database, query: StatisticsQuery) -> dict[Any, int]:
    """(recipient, message id) → log index of the drafted withdrawal naming it, in the range."""
    statement = _in_range(query).where(AuditEvent.tag.endswith(":withdrawal:drafted"))
    found: dict[Any, int] = {}
    for event in stream_events(database, statement.order_by(AuditEvent.log_index)):
        withdraws = event.detail.get("withdraws")
        if withdraws:
            found[(event.partner, str(withdraws))] = event.log_index
    return found


def _groups(events: Iterable[AuditEvent]) -> Iterator[list[AuditEvent]]:
    """Events ordered by message id, grouped by it; each event without one alone."""
    group: list[AuditEvent] = []
    for event in events:
        if group and (event.message_id is None or event.message_id != group[0].message_id):
            yield group
            group = []
        group.append(event)
    if group:
        yield group


def _messages(group: list[AuditEvent], withdrawn: Mapping[Any, int]) -> Iterator[_Message]:
    """The messages one message id's events (in log order) name."""
    messages: dict[tuple[Any, ...], _Message] = {}
    for event in group:
        stage = stage_of(event.tag, event.detail)
        if stage is None:
            continue
        key = (stage.direction, event.partner, stage.message_type)
        message = messages.get(key)
        if message is None:
            messages[key] = _Message(
                stage.direction,
                event.partner,
                stage.message_type,
                event.message_id,
                event.occurred_at,
                event.log_index,
                stage.outcome,
                stage.reason,
                stage.rule,
            )
        else:
            message.advance(stage, event.log_index)
    for message in messages.values():
        later = withdrawn.get((message.partner, message.message_id))
        if message.direction == "out" and later is not None and later > message.last_index:
            message.advance(
                Stage("out", message.message_type, "withdrawn", "after-delivery"), later
            )
        yield message


def compute(database: Database, query: StatisticsQuery) -> Statistics:
    """The statistics of ``query`` (module docstring). One pass over the range's events ordered
    by message id, streamed: memory holds one message's events, the counts, and the ids of the
    messages withdrawn after delivery in the range (read first)."""
    withdrawn = _withdrawn_after_delivery(database, query)
    statement = (
        _in_range(query)
        .where(AuditEvent.message_id.is_not(None) | AuditEvent.tag.endswith(":refused"))
        .order_by(AuditEvent.message_id, AuditEvent.log_index)
    )
    tally = _Tally(query)
    for group in _groups(stream_events(database, statement)):
        if group[0].tag == EXCESS_TAG:
            tally.excess_event(group[0])
            continue
        for message in _messages(group, withdrawn):
            tally.message(message)
    return tally.statistics()
