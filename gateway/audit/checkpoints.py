"""Tree heads and proofs over the stored log (I/O around :mod:`gateway.audit.merkle`).

Proofs are computed from the stored leaf hashes of the requested tree size; that is O(size) per
request, fine at the sizes of an exchange log (1,000,000 leaves ≈ 1 s). Storing subtree hashes
is the way on when it is not.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit import merkle
from gateway.audit.tree_heads import TreeHead
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


def latest_tree_head(database: Database) -> SignedTreeHead | None:
    with database.transaction() as session:
        return (
            session.execute(
                select(SignedTreeHead).order_by(
                    SignedTreeHead.tree_size.desc(), SignedTreeHead.id.desc()
                )
            )
            .scalars()
            .first()
        )


def sign_tree_head(
    database: Database, key: SigningKey, gateway_id: str, now: datetime
) -> SignedTreeHead:
    """A signed head of the log as it is now; the previous one if the log has not grown."""
    with database.transaction() as session:
        size = log_size(session)
        previous = (
            session.execute(
                select(SignedTreeHead).order_by(
                    SignedTreeHead.tree_size.desc(), SignedTreeHead.id.desc()
                )
            )
            .scalars()
            .first()
        )
        if previous is not None and previous.tree_size == size:
            return previous
        head = TreeHead(gateway_id, size, merkle.root(leaf_hashes(session, size)), now)
        row = SignedTreeHead(
            tree_size=size, root_hash=head.root_hash, signed_at=now, token=head.sign(key)
        )
        session.add(row)
        return row


def inclusion_proof(database: Database, index: int, tree_size: int) -> tuple[bytes, list[bytes]]:
    """The leaf hash at ``index`` and its proof in the tree of ``tree_size`` leaves."""
    with database.transaction() as session:
        if not 0 <= index < tree_size <= log_size(session):
            raise NotFoundError(f"no leaf {index} in a tree of size {tree_size}")
        hashes = leaf_hashes(session, tree_size)
    return hashes[index], merkle.inclusion_proof(index, hashes)


def consistency_proof(database: Database, first: int, second: int) -> list[bytes]:
    with database.transaction() as session:
        if not 0 < first <= second <= log_size(session):
            raise NotFoundError(f"no consistency proof from size {first} to {second}")
        hashes = leaf_hashes(session, second)
    return merkle.consistency_proof(first, hashes)
