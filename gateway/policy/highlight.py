"""What looks like personal data inside free text that is about to go (an aid, never the gate).

The release lists decide what goes (:mod:`gateway.policy.release`); this module only points an
officer at what may deserve a second look in the free text that a basis with the FY2012
provisions lets through: names written in capitals, passport and identity-number shapes, phone
numbers (Google's libphonenumber, through ``phonenumbers``), dates that read as dates of birth,
e-mail addresses and vehicle plates. It errs towards showing too much: a highlight costs the
officer a glance, a miss may cost a person more.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers

from gateway.policy.model import Decision

#: Each kind with the pattern that finds it (phone numbers are found by phonenumbers).
PATTERNS: Mapping[str, re.Pattern[str]] = {
    "e-mail": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    # two or more words in capitals (a surname written as travel documents write it)
    "name-in-capitals": re.compile(r"\b[A-Z][A-Z'-]+(?:\s+[A-Z][A-Z'-]+)+\b"),
    # one or two letters and six to nine digits: most passports and national identity cards
    "document-number": re.compile(r"\b[A-Z]{1,2}\s?\d{6,9}\b"),
    "date": re.compile(
        r"\b(?:(?:19|20)\d\d[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])"
        r"|(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|1[0-2])[-/.](?:19|20)\d\d)\b"
    ),
    # Japanese plates (品川 300 あ 12-34) and Latin letter-digit groups (AB 12 CDE, 7ABC123)
    "plate": re.compile(
        r"[\u4e00-\u9fff]{1,4}\s?\d{2,3}\s?[\u3040-\u309f]\s?\d{1,2}-?\d{2}"
        r"|\b[A-Z]{2}\s?\d{2}\s?[A-Z]{3}\b|\b\d[A-Z]{3}\d{3}\b"
    ),
}
#: Regions whose numbering plans phone numbers written without a country code are tried in.
PHONE_REGIONS = ("JP", "KR", "US", "GB", "CN")


@dataclass(frozen=True)
class Highlight:
    pointer: str
    kind: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "pointer": self.pointer,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }


def of_decision(decision: Decision) -> list[Highlight]:
    """What looks like personal data in the personal data and free text ``decision`` lets go."""
    return highlights(decision.document, decision.personal_released)


def highlights(document: Mapping[str, Any], pointers: tuple[str, ...]) -> list[Highlight]:
    """What looks like personal data in the strings at ``pointers`` (concrete, as the release
    reports them) and beneath them, in document order."""
    found: list[Highlight] = []
    for pointer in pointers:
        for where, text in _strings(_at(document, pointer), pointer):
            found += find(text, where)
    return found


def find(text: str, pointer: str = "") -> list[Highlight]:
    """Every span of ``text`` that looks like personal data, by kind, ordered by position."""
    spans = [
        Highlight(pointer, kind, m.start(), m.end(), m.group())
        for kind, pattern in PATTERNS.items()
        for m in pattern.finditer(text)
    ]
    seen: set[tuple[int, int]] = set()
    for region in PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(text, region):
            if (match.start, match.end) not in seen:
                seen.add((match.start, match.end))
                spans.append(Highlight(pointer, "phone", match.start, match.end, match.raw_string))
    return sorted(spans, key=lambda h: (h.start, h.end, h.kind))


def _at(document: Any, pointer: str) -> Any:
    node = document
    for step in pointer.split("/")[1:]:
        step = step.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        elif isinstance(node, Mapping) and step in node:
            node = node[step]
        else:
            return None
    return node


def _strings(value: Any, at: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield at, value
    elif isinstance(value, Mapping):
        for name, item in value.items():
            yield from _strings(item, f"{at}/{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{at}/{index}")
