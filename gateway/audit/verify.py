"""Offline verification of an audit export: no database, no network, only the file and keys.

Checks, in order, and reports each failure with the log index where it is seen:

0. the file has an export's form (specs/audit-export.schema.json): a file that does not is
   reported as such, never half-read;
1. the tree head's signature (against keys the auditor supplies, or, with a warning, the file's);
2. every exported event, position by position: its index is the next one (a gap, an insertion or a
   reordering shows here), the stored columns say what the hashed entry says, the entry hashes to
   its leaf, and the hash chain links it to the one before;
3. the Merkle root of all leaf hashes is the signed root;
4. with an earlier tree head (or an earlier export), the log is consistent with it: it did not
   shrink and its first leaves are unchanged (an earlier export names the first changed index);
5. every exported message: its bytes hash to the recorded digest, the sender's signature verifies
   over them with the sender's keys, this gateway's receipt verifies and points at the right leaf.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import jsonschema

from gateway.audit import merkle
from gateway.audit.export import EXPORT_FORMAT
from gateway.audit.hashing import GENESIS, chain_hash, leaf_hash
from gateway.audit.tree_heads import TreeHead, verify_tree_head
from gateway.documents.schemas import Draft202012Validator
from gateway.errors import GatewayError
from gateway.settings import PROJECT_ROOT
from gateway.trust.jws import verify_detached
from gateway.trust.keys import PinnedKey

ENTRY_FIELDS = ("tag", "occurred_at", "actor", "partner", "message_id", "body_sha256", "detail")


@dataclass(frozen=True)
class Failure:
    index: int | None
    reason: str


@dataclass
class VerificationReport:
    tree_size: int = 0
    root_hash: str = ""
    events_checked: int = 0
    messages_checked: int = 0
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def first_failure(self) -> Failure | None:
        indexed = [f for f in self.failures if f.index is not None]
        if indexed:
            return min(indexed, key=lambda f: f.index or 0)
        return self.failures[0] if self.failures else None

    def fail(self, index: int | None, reason: str) -> None:
        self.failures.append(Failure(index, reason))

    def summary(self) -> str:
        lines = [
            f"tree size {self.tree_size}, root {self.root_hash}",
            f"{self.events_checked} events and {self.messages_checked} messages checked",
        ]
        lines += [f"warning: {w}" for w in self.warnings]
        if self.ok:
            lines.append("VERIFIED")
        else:
            first = self.first_failure
            assert first is not None
            where = f"index {first.index}" if first.index is not None else "the log as a whole"
            lines.append(f"FAILED at {where}: {first.reason}")
            lines += [
                f"  also: index {f.index}: {f.reason}" for f in self.failures if f is not first
            ]
        return "\n".join(lines)


def _keys(jwks: Mapping[str, Any]) -> list[PinnedKey]:
    return [PinnedKey.from_jwk(jwk) for jwk in jwks.get("keys", [])]


def _hex(value: Any) -> bytes:
    return bytes.fromhex(value) if isinstance(value, str) else b""


#: The form of an export, published beside the API's spec for those who write their own verifier.
EXPORT_SCHEMA = PROJECT_ROOT / "specs" / "audit-export.schema.json"


@cache
def _export_validator() -> Any:
    schema = json.loads(EXPORT_SCHEMA.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def form_problem(data: Any) -> str | None:
    """Why ``data`` (a parsed file) does not have an export's form, with the JSON path of the
    first problem; None if it has it."""
    if not isinstance(data, Mapping) or data.get("format") != EXPORT_FORMAT:
        return f"not an export of format {EXPORT_FORMAT}"
    error = jsonschema.exceptions.best_match(_export_validator().iter_errors(data))
    if error is None:
        return None
    return f"not an export's form: /{'/'.join(map(str, error.absolute_path))}: {error.message}"


def verify_export(
    data: Any,
    *,
    trusted_keys: Sequence[PinnedKey] | None = None,
    previous_head: str | None = None,
    previous_export: Any = None,
) -> VerificationReport:
    """The report on ``data`` (an export file, parsed) and, if given, its consistency with an
    earlier tree head or export. Never raises on what the files hold: a file without an export's
    form is a failure of the log as a whole."""
    report = VerificationReport()
    problem = form_problem(data)
    if problem is not None:
        report.fail(None, f"the file is {problem}")
        return report
    if previous_export is not None and (problem := form_problem(previous_export)) is not None:
        report.fail(None, f"the earlier export is {problem}")
        return report
    gateway = data["gateway"]
    gateway_keys = list(trusted_keys) if trusted_keys else _keys(data["keys"].get(gateway, {}))
    if not trusted_keys:
        report.warnings.append(
            f"{gateway}'s keys were taken from the file itself; pass --jwks with keys you hold"
        )
    try:
        head = verify_tree_head(data["tree_head"], gateway_keys)
    except GatewayError as error:
        report.fail(None, f"the tree head does not verify: {error.detail}")
        return report
    report.tree_size, report.root_hash = head.tree_size, head.root_hash.hex()
    hashes = [_hex(h) for h in data["leaf_hashes"]]
    if len(hashes) != head.tree_size:
        report.fail(
            min(len(hashes), head.tree_size),
            f"the head says {head.tree_size} leaves, the file holds {len(hashes)}",
        )

    _check_events(data, hashes, report)
    if merkle.root(hashes) != head.root_hash:
        report.fail(None, "the leaf hashes do not give the signed root")
    _check_previous(head, hashes, gateway_keys, previous_head, previous_export, report)
    _check_messages(data, hashes, gateway_keys, report)
    return report


def _check_events(
    data: Mapping[str, Any], hashes: Sequence[bytes], report: VerificationReport
) -> None:
    position = int(data["first_index"])
    chain = _hex(data["chain_before"]) if position else GENESIS
    for event in data["events"]:
        index = position
        position += 1
        report.events_checked += 1
        if event.get("log_index") != index:
            report.fail(
                index,
                f"expected event {index}, found event {event.get('log_index')} "
                "(missing, inserted or reordered)",
            )
            chain = _hex(event.get("chain_hash"))
            continue
        try:
            entry = base64.b64decode(event["entry"], validate=True)
            hashed = json.loads(entry)
        except (binascii.Error, ValueError) as error:
            report.fail(index, f"the entry is unreadable: {error}")
            continue
        if hashed.get("log_index") != index:
            report.fail(index, f"the hashed entry says it is event {hashed.get('log_index')}")
        differing = [name for name in ENTRY_FIELDS if hashed.get(name) != event.get(name)]
        if differing:
            report.fail(index, f"stored {', '.join(differing)} differ from the hashed entry")
        leaf = leaf_hash(entry)
        if leaf != _hex(event.get("leaf_hash")) or index >= len(hashes) or leaf != hashes[index]:
            report.fail(index, "the entry does not hash to its leaf")
        chain = chain_hash(chain, leaf)
        if chain != _hex(event.get("chain_hash")):
            report.fail(index, "the hash chain is broken here")
            chain = _hex(event.get("chain_hash"))


def _check_previous(
    head: TreeHead,
    hashes: Sequence[bytes],
    keys: Sequence[PinnedKey],
    previous_head: str | None,
    previous_export: Mapping[str, Any] | None,
    report: VerificationReport,
) -> None:
    if previous_export is not None:
        previous_head = previous_export["tree_head"]
    if previous_head is None:
        return
    try:
        earlier = verify_tree_head(previous_head, keys)
    except GatewayError as error:
        report.fail(None, f"the previous tree head does not verify: {error.detail}")
        return
    if earlier.tree_size > head.tree_size:
        report.fail(
            head.tree_size, f"the log shrank from {earlier.tree_size} to {head.tree_size} leaves"
        )
        return
    if merkle.root(hashes[: earlier.tree_size]) == earlier.root_hash:
        return
    changed: int | None = None
    if previous_export is not None:
        old = [_hex(h) for h in previous_export["leaf_hashes"]]
        changed = next(
            (i for i, (a, b) in enumerate(zip(old, hashes, strict=False)) if a != b), None
        )
    report.fail(changed, f"not consistent with the earlier tree head of size {earlier.tree_size}")


def _check_messages(
    data: Mapping[str, Any],
    hashes: Sequence[bytes],
    gateway_keys: Sequence[PinnedKey],
    report: VerificationReport,
) -> None:
    exported_at = datetime.fromisoformat(data["exported_at"])
    for message_id, message in sorted(data["messages"].items()):
        report.messages_checked += 1
        index = message.get("log_index")
        if message["body"] is None:
            report.warnings.append(
                f"message {message_id}: body deleted under retention "
                f"at {message['body_deleted_at']}"
            )
        else:
            body = base64.b64decode(message["body"])
            if hashlib.sha256(body).hexdigest() != message["body_sha256"]:
                report.fail(
                    index, f"message {message_id}: its bytes do not hash to the recorded digest"
                )
            sender_keys = _keys(data["keys"].get(message["sender"], {}))
            try:
                verify_detached(
                    message["signature"],
                    body,
                    sender_keys,
                    now=exported_at,
                    clock_skew=timedelta(days=36500),
                )
            except GatewayError as error:
                report.fail(
                    index,
                    f"message {message_id}: the sender's signature does not verify "
                    f"({error.detail})",
                )
        receipt = base64.b64decode(message["receipt"])
        try:
            verify_detached(
                message["receipt_signature"],
                receipt,
                gateway_keys,
                now=exported_at,
                clock_skew=timedelta(days=36500),
            )
            fields = json.loads(receipt)
        except (GatewayError, ValueError) as error:
            reason = error.detail if isinstance(error, GatewayError) else str(error)
            report.fail(index, f"message {message_id}: the receipt does not verify ({reason})")
            continue
        if (
            fields.get("message_id") != message_id
            or fields.get("body_sha256") != message["body_sha256"]
        ):
            report.fail(index, f"message {message_id}: the receipt names another message or digest")
        log_index = fields.get("log_index")
        if (
            not isinstance(log_index, int)
            or log_index >= len(hashes)
            or hashes[log_index].hex() != fields.get("leaf_hash")
        ):
            report.fail(index, f"message {message_id}: the receipt's leaf is not in the log")
