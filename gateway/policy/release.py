"""Release by allow-list (pure): what of a document may go is what a list of pointers names.

A pointer is a JSON pointer whose steps are member names or ``*`` (every item of a list):
``/persons/*/nationality``. Naming a member releases it with everything beneath it; a member no
pointer reaches is withheld, and so is anything a schema gains later until a policy names it.
:func:`release` returns the released copy and the concrete pointers it withheld
(``/persons/0/name``), each the highest one withheld, for the decision's record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: A compiled allow-list: step → what is allowed below it; ``ALL`` marks a released subtree.
Tree = dict[str, Any]
ALL = "\0all"


def steps(pointer: str) -> list[str]:
    """``/a/*/b`` → ``["a", "*", "b"]`` (RFC 6901's escapes ``~1`` and ``~0`` read)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"a pointer starts with '/': {pointer!r}")
    return [s.replace("~1", "/").replace("~0", "~") for s in pointer[1:].split("/")]


def _escape(step: str) -> str:
    return step.replace("~", "~0").replace("/", "~1")


def compile_pointers(pointers: Iterable[str]) -> Tree:
    """The allow-list as a tree of steps, built once per policy."""
    tree: Tree = {}
    for pointer in pointers:
        node = tree
        for step in steps(pointer):
            if node.get(ALL):
                break  # an ancestor releases the whole subtree already
            node = node.setdefault(step, {})
        else:
            node.clear()
            node[ALL] = True
    return tree


def covers(tree: Tree, pointer: str) -> bool:
    """Whether ``pointer`` (with ``*`` for list items) is released by ``tree`` as a whole."""
    whole, node = _reach(tree, pointer)
    return whole or bool(node is not None and node.get(ALL))


def mentions(tree: Tree, pointer: str) -> bool:
    """Whether ``tree`` releases ``pointer``, something above it or something below it."""
    whole, node = _reach(tree, pointer)
    return whole or node is not None


def _reach(tree: Tree, pointer: str) -> tuple[bool, Tree | None]:
    """Walk ``pointer`` down ``tree``: (an ancestor releases it whole, the node it reaches)."""
    node = tree
    for step in steps(pointer):
        if node.get(ALL):
            return True, node
        if step not in node:
            return False, None
        node = node[step]
    return False, node


@dataclass(frozen=True)
class Released:
    document: dict[str, Any]
    withheld: tuple[str, ...]


def release(document: Mapping[str, Any], tree: Tree) -> Released:
    """A copy of ``document`` holding only what ``tree`` releases, and what it withheld.

    A member is kept if the tree releases it whole or releases something below it; an object
    or list kept only for what lies below may come out empty (the schema says whether the
    message can go so: see :func:`gateway.policy.engine.decide`'s callers)."""
    withheld: list[str] = []
    kept = _release(document, tree, "", withheld)
    return Released(kept if isinstance(kept, dict) else {}, tuple(withheld))


def _release(value: Any, tree: Tree, at: str, withheld: list[str]) -> Any:
    """``value`` as released; ``tree`` reaches it (whole, or by what lies below it)."""
    if tree.get(ALL):
        return _copy(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for name, item in value.items():
            where = f"{at}/{_escape(str(name))}"
            if name in tree and _reaches(tree[name], item):
                out[name] = _release(item, tree[name], where, withheld)
            else:
                withheld.append(where)
        return out
    return [_release(item, tree["*"], f"{at}/{i}", withheld) for i, item in enumerate(value)]


def _reaches(tree: Tree, value: Any) -> bool:
    """Whether ``tree`` releases something of ``value``: the whole of it, a member of an
    object, or the items of a list (a scalar where members are named is not released)."""
    if tree.get(ALL):
        return True
    if isinstance(value, Mapping):
        return True
    return isinstance(value, list) and "*" in tree


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def present(document: Mapping[str, Any], tree: Tree) -> tuple[str, ...]:
    """The concrete pointers of ``document`` that ``tree`` names, where a value is present (not
    empty): which personal-data fields a document carries, for instance."""
    found: list[str] = []
    _present(document, tree, "", found)
    return tuple(found)


def _present(value: Any, tree: Tree, at: str, found: list[str]) -> None:
    if value in (None, "", [], {}):
        return
    if tree.get(ALL):
        found.append(at)
    elif isinstance(value, Mapping):
        for name, item in value.items():
            if name in tree:
                _present(item, tree[name], f"{at}/{_escape(str(name))}", found)
    elif isinstance(value, list) and "*" in tree:
        for i, item in enumerate(value):
            _present(item, tree["*"], f"{at}/{i}", found)


def has_value(document: Mapping[str, Any], pointer: str) -> bool:
    """Whether ``document`` holds a non-empty value at ``pointer`` (any item, for ``*``)."""
    return bool(present(document, compile_pointers([pointer])))


def canonical_sha256(document: Mapping[str, Any]) -> str:
    """SHA-256 of ``document``'s canonical JSON (members sorted, no white space, UTF-8): what a
    redacted message names as its original, so an auditor holding the original can check it."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
