"""Release by allow-list: what a pointer names goes, everything else is withheld and named."""

from __future__ import annotations

import pytest

from gateway.policy.release import (
    canonical_sha256,
    compile_pointers,
    covers,
    has_value,
    mentions,
    present,
    release,
)

DOCUMENT = {
    "id": "R1",
    "office": {"name": "Officer NAME's desk", "locode": "JPTYO"},
    "persons": [
        {"role": "courier", "name": "A PERSON", "document": {"number": "X1"}},
        {"role": "driver"},
    ],
    "tags": ["a", "b"],
    "summary": "free text",
}


def test_only_named_members_go_and_each_withheld_one_is_named():
    tree = compile_pointers(["/id", "/office/locode", "/persons/*/role"])
    released = release(DOCUMENT, tree)
    assert released.document == {
        "id": "R1",
        "office": {"locode": "JPTYO"},
        "persons": [{"role": "courier"}, {"role": "driver"}],
    }
    assert released.withheld == (
        "/office/name",
        "/persons/0/name",
        "/persons/0/document",
        "/tags",
        "/summary",
    )


def test_a_member_nobody_named_is_withheld_deny_by_default():
    tree = compile_pointers(["/id"])
    released = release({**DOCUMENT, "added_to_the_schema_later": "CANARY"}, tree)
    assert "CANARY" not in repr(released.document)
    assert "/added_to_the_schema_later" in released.withheld


def test_naming_a_member_releases_it_whole_and_the_original_is_not_changed():
    tree = compile_pointers(["/persons", "/persons/*/name"])  # the wider pointer wins
    released = release(DOCUMENT, tree)
    assert released.document["persons"] == DOCUMENT["persons"]
    assert released.document["persons"] is not DOCUMENT["persons"]
    assert DOCUMENT["office"]["name"] == "Officer NAME's desk"


def test_a_scalar_where_members_are_named_is_withheld_not_kept():
    tree = compile_pointers(["/summary/text", "/tags/x"])
    released = release(DOCUMENT, tree)
    assert released.document == {}
    assert "/summary" in released.withheld and "/tags" in released.withheld


def test_pointers_escape_as_rfc6901_says():
    tree = compile_pointers(["/a~1b"])
    assert release({"a/b": 1, "a~1b": 2}, tree).document == {"a/b": 1}
    with pytest.raises(ValueError, match="starts with"):
        compile_pointers(["id"])


def test_covers_mentions_present_and_has_value():
    tree = compile_pointers(["/persons/*/name", "/office"])
    assert covers(tree, "/office/locode") and covers(tree, "/persons/*/name")
    assert not covers(tree, "/persons") and mentions(tree, "/persons")
    assert not mentions(tree, "/summary")
    assert present(DOCUMENT, tree) == ("/office", "/persons/0/name")
    assert has_value(DOCUMENT, "/persons/*/name")
    assert not has_value({"persons": [{"name": ""}]}, "/persons/*/name")


def test_the_original_digest_does_not_depend_on_member_order():
    assert canonical_sha256({"a": 1, "b": "é"}) == canonical_sha256({"b": "é", "a": 1})
    assert canonical_sha256({"a": 1}) != canonical_sha256({"a": 2})
