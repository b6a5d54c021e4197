"""Parsing untrusted bytes: JSON and XML with every dangerous feature off.

XML: no DTD is loaded, no entity is resolved, no network is touched; a document that carries a
DOCTYPE at all is refused (no legitimate message needs one), as is one nested deeper than the
limit; comments and processing instructions are dropped.

JSON: strict UTF-8, no duplicate keys (two parsers must never see two different documents), no
NaN or Infinity, no deeper nesting than the limit, no NUL character in any string (XML cannot
carry one either, and PostgreSQL cannot store one), no surrogate or noncharacter (I-JSON, RFC 7493
§2.1).

Numbers, in either form, are I-JSON's (RFC 7493 §2.2): integers within ±(2**53 - 1), which every
partner's parser holds exactly, and other numbers finite doubles. Beyond them two parsers read
different values (and Python refuses to convert integers of over 4,300 digits at all).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

from lxml import etree

from gateway.errors import (
    DocumentError,
    ForbiddenXmlConstructError,
    MalformedBodyError,
    PayloadTooLargeError,
)

#: The largest integer magnitude a message may carry: the last one a double holds exactly.
MAX_EXACT_INTEGER = 2**53 - 1
_MAX_DIGITS = len(str(MAX_EXACT_INTEGER))


def _xml_parser(*, keep_whitespace: bool = False) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=not keep_whitespace,
        # A comment or processing instruction inside a value would split its text: the XSD
        # validates the whole ("H<!---->1" is "H1") while the element's .text is its first part
        # ("H"). Dropped at parse, the text is whole; XML Signature's usual canonicalisation
        # (without comments) does not sign them either.
        remove_comments=True,
        remove_pis=True,
    )


def _depth(root: etree._Element) -> int:
    deepest, depth = 0, 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        deepest = max(deepest, depth)
    return deepest


def parse_xml(
    body: bytes, *, max_bytes: int, max_depth: int, keep_whitespace: bool = False
) -> etree._Element:
    """The root element of ``body``, or a DocumentError subclass. ``keep_whitespace`` keeps the
    tree exactly as sent (an XML Signature covers whitespace too)."""
    if len(body) > max_bytes:
        raise PayloadTooLargeError(f"the body is over {max_bytes} bytes")
    try:
        root = etree.fromstring(body, _xml_parser(keep_whitespace=keep_whitespace))
    except etree.XMLSyntaxError as error:
        if "entity" in str(error).lower():
            raise ForbiddenXmlConstructError("entities are not allowed in messages") from error
        raise MalformedBodyError(f"the XML is not well-formed: {error}") from error
    docinfo: Any = root.getroottree().docinfo  # lxml-stubs lack doctype/internalDTD
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise ForbiddenXmlConstructError("a DOCTYPE (DTD) is not allowed in messages")
    if _depth(root) > max_depth:
        raise ForbiddenXmlConstructError(f"the XML is nested deeper than {max_depth} levels")
    return root


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedBodyError(f"the JSON has the key {key!r} twice in one object")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise MalformedBodyError(f"the JSON contains {name}, which is not JSON")


def _shown(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}… ({len(text)} characters)"


def exact_integer(text: str) -> int:
    """The integer written in ``text`` (JSON, or XSD-valid XML: sign and leading zeros allowed);
    DocumentError if its magnitude is over :data:`MAX_EXACT_INTEGER`. The digits are counted
    before any conversion: converting thousands of them is what an attacker would send."""
    stripped = text.strip()
    digits = stripped.lstrip("+-").lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS or (magnitude := int(digits)) > MAX_EXACT_INTEGER:
        raise DocumentError(
            f"the integer {_shown(stripped)} is out of range: message integers lie within "
            f"±{MAX_EXACT_INTEGER} (I-JSON, RFC 7493 §2.2)"
        )
    return -magnitude if stripped.startswith("-") else magnitude


def finite_number(text: str) -> float:
    """The number written in ``text`` as a double; DocumentError if it is not finite (an
    overflowing literal such as 1e999 and XML's INF and NaN alike)."""
    value = float(text)
    if not math.isfinite(value):
        raise DocumentError(
            f"the number {_shown(text.strip())} is out of range: message numbers are finite "
            "doubles (I-JSON, RFC 7493 §2.2)"
        )
    return value


def parse_json(body: bytes, *, max_bytes: int, max_depth: int) -> Any:
    """The JSON value of ``body`` under the rules of the module docstring, or a DocumentError
    subclass: PayloadTooLargeError, MalformedBodyError (not UTF-8, not well-formed, nested deeper
    than ``max_depth`` arrays and objects, text that is not Unicode), DocumentError (a number out
    of range)."""
    if len(body) > max_bytes:
        raise PayloadTooLargeError(f"the body is over {max_bytes} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedBodyError(f"the body is not valid UTF-8 (byte {error.start})") from error
    try:
        document = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_int=exact_integer,
            parse_float=finite_number,
        )
    except json.JSONDecodeError as error:
        raise MalformedBodyError(f"the JSON is not well-formed: {error}") from error
    except RecursionError as error:  # nested deeper than the interpreter's stack allows
        raise _too_deep(max_depth) from error
    # Counting brackets is enough to rule the walk out for most messages.
    if text.count("[") + text.count("{") > max_depth and _deeper_than(document, max_depth):
        raise _too_deep(max_depth)
    # Escapes are the only way to write NUL or a surrogate in UTF-8 text; ASCII text holds no
    # noncharacter either.
    if "\\u" in text or (not text.isascii() and _not_text(text)):
        _check_text(document)
    return document


def _too_deep(max_depth: int) -> MalformedBodyError:
    return MalformedBodyError(f"the JSON is nested deeper than {max_depth} levels")


def _deeper_than(document: Any, limit: int) -> bool:
    """Arrays and objects nested more than ``limit`` deep (the outermost is level 1)."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children: Iterable[Any] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


#: Code points no message text may hold: NUL (PostgreSQL cannot store it, XML cannot carry it),
#: surrogates and noncharacters (I-JSON, RFC 7493 §2.1: they are not text, and XML or a page
#: written from the document would fail on them). Those of the basic plane, then those above it:
#: one class of all of them costs ten times as much to search.
_NOT_TEXT_BMP = re.compile("[\x00\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_FROM_FIRST_ASTRAL_NONCHARACTER = re.compile("[\U0001fffe-\U0010ffff]")
_ASTRAL_NONCHARACTERS = re.compile(
    "["
    + "".join(
        chr(plane + 0xFFFE) + chr(plane + 0xFFFF) for plane in range(0x10000, 0x110000, 0x10000)
    )
    + "]"
)


def _not_text(value: str) -> re.Match[str] | None:
    """A code point of ``value`` that no message text may hold, if there is one."""
    found = _NOT_TEXT_BMP.search(value)
    if found is None and _FROM_FIRST_ASTRAL_NONCHARACTER.search(value):  # rare: a range first
        found = _ASTRAL_NONCHARACTERS.search(value)
    return found


def _check_text(document: Any) -> None:
    """MalformedBodyError naming a forbidden code point (:func:`_not_text`) in a key or string."""
    pending: list[Any] = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and (found := _not_text(value)):
            point = ord(found.group())
            if point == 0:
                raise MalformedBodyError("the JSON contains a NUL character (\\u0000)")
            what = "a lone surrogate" if 0xD800 <= point <= 0xDFFF else "a noncharacter"
            raise MalformedBodyError(
                f"the JSON contains U+{point:04X}, {what}, which is not text "
                "(I-JSON, RFC 7493 §2.1)"
            )
