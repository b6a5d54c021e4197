"""Tree heads and proofs over the stored log (I/O around :mod:`gateway.audit.merkle`).

Proofs are computed from the stored leaf hashes of the requested tree size; that is O(size) per
request, fine at the sizes of an exchange log (1,000,000 leaves ≈ 1 s). Storing subtree hashes
is the way on when it is not.

What a partner learns is bounded (PROTOCOL §8): it is served heads signed on a cadence
(:func:`cadence_tree_head`), proofs only within the latest signed head, and inclusion proofs only
of the leaves about its own messages (:mod:`gateway.audit.visibility`). Anything else is refused
exactly as what does not exist.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit import merkle
from gateway.audit.tree_heads import TreeHead
from gateway.audit.visibility import concerns_partner
from gateway.errors import NotFoundError
from gateway.store.db import Database
from gateway.store.models import AuditEvent, AuditHead, SignedTreeHead
from gateway.trust.keys import SigningKey


def leaf_hashes(session: Session, tree_size: int | None = None) -> list[bytes]:
    query = select(AuditEvent.leaf_hash).order_by(AuditEvent.log_index)
    if tree_size is not None:
        query = query.where(AuditEvent.log_index < tree_size)
    return list(session.execute(query).scalars())


def log_size(session: Session) -> int:
    return session.execute(select(AuditHead.size).where(AuditHead.id == 1)).scalar_one()


def _latest(session: Session) -> SignedTreeHead | None:
    """The latest signed head: the largest tree (heads are signed of a growing log)."""
    return (
        session.execute(
            select(SignedTreeHead).order_by(
                SignedTreeHead.tree_size.desc(), SignedTreeHead.id.desc()
            )
        )
        .scalars()
        .first()
    )


def latest_tree_head(database: Database) -> SignedTreeHead | None:
    with database.transaction() as session:
        return _latest(session)


def sign_tree_head(
    database: Database, key: SigningKey, gateway_id: str, now: datetime
) -> SignedTreeHead:
    """A signed head of the log as it is now; the previous one if the log has not grown."""
    with database.transaction() as session:
        size = log_size(session)
        previous = _latest(session)
        if previous is not None and previous.tree_size == size:
            return previous
        head = TreeHead(gateway_id, size, merkle.root(leaf_hashes(session, size)), now)
        row = SignedTreeHead(
            tree_size=size, root_hash=head.root_hash, signed_at=now, token=head.sign(key)
        )
        session.add(row)
        return row


def cadence_tree_head(
    database: Database, key: SigningKey, gateway_id: str, now: datetime, interval: timedelta
) -> SignedTreeHead:
    """The head served on ``GET /v1/audit/tree-head``: the latest signed head while it was signed
    less than ``interval`` before ``now``, else a new one (:func:`sign_tree_head`).

    So a caller polling learns the log's size at most once an ``interval``, whatever it polls
    and whatever passes through the log meanwhile. Heads signed otherwise (``gateway audit
    checkpoint``, an export) are served too while they are the latest. Two workers that find the
    latest head stale at the same moment may each sign one: a second head, never a finer view."""
    latest = latest_tree_head(database)
    if latest is not None and now - latest.signed_at < interval:
        return latest
    return sign_tree_head(database, key, gateway_id, now)


def _bound(session: Session, partner: str | None) -> int:
    """The largest tree a caller may be proved against: the log for an auditor, the latest
    signed head for a partner (a larger size would tell it how large the log is now)."""
    if partner is None:
        return log_size(session)
    latest = _latest(session)
    return latest.tree_size if latest is not None else 0


def inclusion_proof(
    database: Database, index: int, tree_size: int, *, partner: str | None = None
) -> tuple[bytes, list[bytes]]:
    """The leaf hash at ``index`` and its proof in the tree of ``tree_size`` leaves.

    For ``partner`` (None: an auditor, who may ask any), only a leaf about its own messages
    (:func:`gateway.audit.visibility.concerns_partner`) in a tree no larger than the latest
    signed head. Any other is NotFoundError with the very detail of a leaf that does not exist:
    the refusal tells the partner nothing about the log."""
    with database.transaction() as session:
        if not 0 <= index < tree_size <= _bound(session, partner) or (
            partner is not None and not concerns_partner(session, partner, index)
        ):
            raise NotFoundError(f"no leaf {index} in a tree of size {tree_size}")
        hashes = leaf_hashes(session, tree_size)
    return hashes[index], merkle.inclusion_proof(index, hashes)


def consistency_proof(
    database: Database, first: int, second: int, *, partner: str | None = None
) -> list[bytes]:
    """The proof that the tree of ``first`` leaves is a prefix of the tree of ``second``.

    It names no leaf, so a partner may ask it between any sizes; but only up to the latest
    signed head (else NotFoundError, worded as for sizes beyond the log), or asking ever larger
    sizes would find the log's size now."""
    with database.transaction() as session:
        if not 0 < first <= second <= _bound(session, partner):
            raise NotFoundError(f"no consistency proof from size {first} to {second}")
        hashes = leaf_hashes(session, second)
    return merkle.consistency_proof(first, hashes)
