"""ORM models. Every change to them is an Alembic revision in ``migrations/versions``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back time-zone aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def table_of(model: type[Base]) -> Table:
    """A model's table, for Core statements on the hot paths (typed as a Table, which
    ``Model.__table__`` is not)."""
    return Base.metadata.tables[model.__tablename__]


class Message(Base):
    """A message exactly as verified: the bytes, the sender's signature, the parsed fields, and
    the signed receipt that acknowledged it."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    direction: Mapped[str] = mapped_column(String(8))
    sender: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(16))
    message_type: Mapped[str] = mapped_column(String(40))
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
    signature_kid: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime]
    received_at: Mapped[datetime]
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    receipt: Mapped[bytes] = mapped_column(LargeBinary)
    receipt_signature: Mapped[str] = mapped_column(Text)
    log_index: Mapped[int] = mapped_column(BigInteger)
    #: The policy decision that let the message in, with the digest of the policy set.
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: When the body was deleted at the end of its retention period (its audit leaf stays).
    body_deleted_at: Mapped[datetime | None]
    #: When its sender withdrew it, and by which withdrawal message (PROTOCOL §7).
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(36))
    #: Markings in force, kept for originator control on every onward exchange: as received,
    #: or as the originator changed them since (PROTOCOL §7).
    originator: Mapped[str | None] = mapped_column(String(16))
    handling_code: Mapped[str | None] = mapped_column(String(2))
    tlp: Mapped[str | None] = mapped_column(String(20))
    #: The whole markings the originator changed them to, and by which marking-change message
    #: (None: the markings are those of the document as received).
    changed_markings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    markings_changed_by: Mapped[str | None] = mapped_column(String(36))

    def in_force(self) -> dict[str, Any]:
        """The document with the markings in force (what every onward decision reads)."""
        if self.changed_markings is None:
            return dict(self.document)
        return {**self.document, "markings": dict(self.changed_markings)}

    __table_args__ = (Index("ix_message_sender_received_at", "sender", "received_at"),)


class OriginatorConsent(Base):
    """The originator's consent to pass a message on to one administration (SIENA H2/H3)."""

    __tablename__ = "originator_consent"
    __table_args__ = (UniqueConstraint("message_id", "recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("message.message_id"), index=True)
    recipient: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime]


class SeenAssertion(Base):
    """A client assertion's ``jti``, kept until the assertion expires (the replay guard)."""

    __tablename__ = "seen_assertion"

    issuer: Mapped[str] = mapped_column(String(16), primary_key=True)
    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AuditEvent(Base):
    """One leaf of the audit log. ``entry`` is the exact byte string that was hashed."""

    __tablename__ = "audit_event"

    log_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    tag: Mapped[str] = mapped_column(String(80), index=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))
    partner: Mapped[str | None] = mapped_column(String(16), index=True)
    message_id: Mapped[str | None] = mapped_column(String(36), index=True)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class OutboxMessage(Base):
    """A message this gateway sends: decided, redacted and signed before it is written here.

    States: awaiting-review → queued → sending → acknowledged | retrying → … | failed (dead
    letter). ``claimed_until`` is a worker's lease: a claim not finished by then is taken over.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    recipient: Mapped[str] = mapped_column(String(16), index=True)
    message_type: Mapped[str] = mapped_column(String(40))
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The received message this one passes on, if any (a withdrawal of that one follows it here).
    source_message_id: Mapped[str | None] = mapped_column(String(36), index=True)
    state: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(100))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    problem: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    receipt: Mapped[bytes | None] = mapped_column(LargeBinary)
    receipt_signature: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None]


class SignedTreeHead(Base):
    """A tree head of the audit log as signed by this gateway (PROTOCOL §8)."""

    __tablename__ = "signed_tree_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_at: Mapped[datetime]
    token: Mapped[str] = mapped_column(Text)


class AuditHead(Base):
    """The single row that serialises appends: size of the log and the hash chain's head."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class Certificate(Base):
    """A certificate of origin or origin declaration this gateway sent (``direction`` out: we are
    the exporting party) or received (in), and where it stands on both sides.

    ``status`` is the exporting side's: issued → amended (a later version replaces the earlier)
    → cancelled (only while unused) or revoked. ``usage`` is the importing side's: received →
    used (in a declaration) → preference-granted | preference-refused. Both sides keep both, from
    the signed status notices they exchange.
    """

    __tablename__ = "certificate_of_origin"
    __table_args__ = (
        UniqueConstraint("exporting_party", "number", "issue_date"),
        Index("ix_certificate_of_origin_number_issue_date", "number", "issue_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    direction: Mapped[str] = mapped_column(String(3))
    exporting_party: Mapped[str] = mapped_column(String(16))
    importing_party: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(64))
    issue_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(24))
    agreement: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    usage: Mapped[str | None] = mapped_column(String(24))
    declaration_number: Mapped[str | None] = mapped_column(String(64))
    status_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class CertificateVersion(Base):
    """One version of a certificate as exchanged: its message, digest, JSON form and, for an
    authority-issued one, the pinned certificate that verified its XML Signature."""

    __tablename__ = "certificate_version"
    __table_args__ = (UniqueConstraint("certificate_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate_of_origin.id"))
    version: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    body_sha256: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    signed_by: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_at: Mapped[datetime]


class OriginVerification(Base):
    """A verification request about a certificate: ``direction`` out when we asked (we import),
    in when a partner asks us (we issued). Open until answered; overdue after ``due_date``."""

    __tablename__ = "origin_verification"
    __table_args__ = (Index("ix_origin_verification_state_due_date", "state", "due_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(36), unique=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate_of_origin.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))
    partner: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(40))
    questions: Mapped[list[str]] = mapped_column(JSON)
    items: Mapped[list[int] | None] = mapped_column(JSON)
    requested_at: Mapped[datetime]
    due_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(String(24))
    findings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    answer_id: Mapped[str | None] = mapped_column(String(36))
    answered_at: Mapped[datetime | None]


class Account(Base):
    """A person who signs in to the pages (or is named by a trusted SSO header): roles and an
    argon2id password hash (none for SSO-only accounts)."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(Text)
    roles: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    last_sign_in_at: Mapped[datetime | None]


class AccountSession(Base):
    """A sign-in held by the server: the pages' session, a CLI sign-in or an officer's token on
    the operator API. Only the SHA-256 of its random token is stored."""

    __tablename__ = "account_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # web | cli | api
    #: Where it was opened: the client address (web), the operator system (api), the host (cli).
    via: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_because: Mapped[str | None] = mapped_column(String(40))


class ReviewCase(Base):
    """A case of the IIO review workflow: a partner's request for assistance (``kind`` request)
    or a disclosure an officer drafted (disclosure). ``outbox_id`` is the answer or the draft
    held in the outbox; ``draft`` the document as the officer wrote it, before the policy."""

    __tablename__ = "review_case"
    __table_args__ = (Index("ix_review_case_state_due_date", "state", "due_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(32))
    partner: Mapped[str] = mapped_column(String(16))
    message_type: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    outbox_id: Mapped[str | None] = mapped_column(String(36))
    subject: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(String(32))
    assignee: Mapped[str | None] = mapped_column(String(64), index=True)
    drafted_by: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    due_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class HubReport(Base):
    """A seizure report as the RILO A/P hub holds it: sanitised by the member's feed, with its
    provenance (member, batch message, time), validation status and match key (date, commodity
    type, mode, unit). A copy of a report already held (the same administration's report id,
    forwarded by another member) or a report an analyst confirmed as another administration's
    report of the same seizure points at the counted one (``duplicate_of``) and is not counted
    again."""

    __tablename__ = "hub_report"
    __table_args__ = (
        UniqueConstraint("member", "report_id"),
        Index("ix_hub_report_month_unit_amount", "month", "unit", "amount"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: The member whose feed brought it (provenance).
    member: Mapped[str] = mapped_column(String(16))
    #: The administration that reported the seizure (the member itself, or one it forwards).
    reported_by: Mapped[str] = mapped_column(String(16))
    report_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(36))
    seizure_date: Mapped[date] = mapped_column(Date)
    month: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(24))
    commodity_type: Mapped[str] = mapped_column(String(100))
    origin: Mapped[str | None] = mapped_column(String(2))
    departure: Mapped[str | None] = mapped_column(String(2))
    destination: Mapped[str | None] = mapped_column(String(2))
    mode: Mapped[str] = mapped_column(String(24))
    unit: Mapped[str] = mapped_column(String(8))
    amount: Mapped[float] = mapped_column(Float)
    validation: Mapped[str] = mapped_column(String(20))
    seizure_key: Mapped[str] = mapped_column(String(200), index=True)
    #: No index of its own: nearly every row is NULL here, and SQLite would pick such an index
    #: over the seizure key's; duplicates are found through their seizure key.
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    withdrawn_at: Mapped[datetime | None]
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime]


class HubDuplicateCandidate(Base):
    """Two reports of different administrations that may be one seizure (same day, commodity,
    mode and known route, quantities within 5%, the same office or port where both carry one):
    counted as two until an analyst confirms them (then once) or rejects them."""

    __tablename__ = "hub_duplicate_candidate"
    __table_args__ = (UniqueConstraint("report", "original"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: The later report (``hub_report.id``): the one not counted once confirmed.
    report: Mapped[int] = mapped_column(Integer)
    #: The earlier report it may repeat.
    original: Mapped[int] = mapped_column(Integer, index=True)
    #: ``open``, ``confirmed``, ``rejected``, or ``withdrawn`` (either report was withdrawn).
    state: Mapped[str] = mapped_column(String(12), index=True)
    found_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))


class HubRelease(Base):
    """One release of a period's trend report to a disclosure-controlled audience (members, the
    public), kept as sent: the ledger every later release to that audience is planned against.
    ``truth`` (the seizures of each suppressed or withheld cell), ``amounts`` (their quantities,
    per unit; none for releases made before quantities were audited) and ``fingerprints`` (of
    each month's figures, to tell a revised month) stay at the hub."""

    __tablename__ = "hub_release"
    __table_args__ = (Index("ix_hub_release_audience_period", "audience", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    audience: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(8))
    released_at: Mapped[datetime]
    released_by: Mapped[str] = mapped_column(String(100))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    truth: Mapped[dict[str, Any]] = mapped_column(JSON)
    amounts: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    fingerprints: Mapped[dict[str, Any]] = mapped_column(JSON)


class HubRollup(Base):
    """Counts kept at ingest: seizures and normalised quantities per month, dimension, value and
    reporting member (what a trend report reads instead of the reports)."""

    __tablename__ = "hub_rollup"

    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(24), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    member: Mapped[str] = mapped_column(String(16), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer)
    kg: Mapped[float] = mapped_column(Float)
    litres: Mapped[float] = mapped_column(Float)
    tablets: Mapped[float] = mapped_column(Float)
    pieces: Mapped[float] = mapped_column(Float)


class HubFeedItem(Base):
    """A seizure report this member gateway fed to the hub, and the batch that carried it (so
    that its withdrawal follows it there)."""

    __tablename__ = "hub_feed_item"

    source_message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    batch_message_id: Mapped[str] = mapped_column(String(36), index=True)
    report_id: Mapped[str] = mapped_column(String(64))
    fed_at: Mapped[datetime]
