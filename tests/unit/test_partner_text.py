"""What the gateway keeps of a partner's words (gateway.client.bounded): bounded, known members
only, whatever the partner sent."""

from __future__ import annotations

import json

import pytest

from gateway.client.bounded import MAX_PARTNER_TEXT, bounded_text, partner_problem


def test_short_text_is_kept_as_it_is():
    assert bounded_text("refused: no framework in force") == "refused: no framework in force"


def test_long_text_is_cut_with_an_ellipsis_and_its_length():
    cut = bounded_text("a" * 5120)
    assert cut == "a" * MAX_PARTNER_TEXT + "… (5120 characters)"


def test_control_and_direction_characters_become_spaces():
    assert bounded_text("a\nb\x1b[2Jc\u202ed\x00") == "a b [2Jc d "


def test_problem_keeps_known_members_only():
    body = json.dumps(
        {
            "type": "https://kr.example/problems/policy-denied",
            "title": "Exchange not allowed",
            "status": 403,
            "detail": "d",
            "instance": "urn:uuid:1",
            "rule": "no-framework-in-force",
            "extra": "x" * 5000,
            "errors": [{"a": 1}],
        }
    ).encode()
    assert set(partner_problem(body)) == {"type", "title", "status", "detail", "instance", "rule"}


@pytest.mark.parametrize("status", [True, "403", 42, 1000, 403.0])
def test_a_status_that_is_not_an_http_status_is_dropped(status):
    assert "status" not in partner_problem(json.dumps({"status": status}).encode())


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        (b"", {}),
        (b'"just a string"', {"detail": '"just a string"'}),
        (b"[1, 2]", {"detail": "[1, 2]"}),
        (b"\xff\xfe not utf-8", {"detail": "\ufffd\ufffd not utf-8"}),
        (b'{"type": 1, "title": null}', {}),
    ],
)
def test_what_is_not_a_problem_is_kept_as_its_bounded_text(body, kept):
    assert partner_problem(body) == kept


def test_json_nested_beyond_the_stack_is_text_not_a_crash():
    body = b"[" * 200_000 + b"]" * 200_000
    kept = partner_problem(body)
    assert kept["detail"].startswith("[[[") and kept["detail"].endswith("(400000 characters)")
