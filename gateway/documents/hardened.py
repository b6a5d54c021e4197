"""Parsing untrusted bytes: JSON and XML with every dangerous feature off.

XML: no DTD is loaded, no entity is resolved, no network is touched; a document that carries a
DOCTYPE at all is refused (no legitimate message needs one), as is one nested deeper than the
limit. JSON: strict UTF-8, no duplicate keys (two parsers must never see two different documents),
no NaN or Infinity, no NUL character in any string (XML cannot carry one either, and PostgreSQL
cannot store one).

Numbers, in either form, are I-JSON's (RFC 7493 §2.2): integers within ±(2**53 - 1), which every
partner's parser holds exactly, and other numbers finite doubles. Beyond them two parsers read
different values (and Python refuses to convert integers of over 4,300 digits at all).
"""

from __future__ import annotations

import json
import math
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


def _xml_parser(*, keep_whitespace: bool = False) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=not keep_whitespace,
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
    if len(digits) > len(str(MAX_EXACT_INTEGER)) or int(digits) > MAX_EXACT_INTEGER:
        raise DocumentError(
            f"the integer {_shown(stripped)} is out of range: message integers lie within "
            f"±{MAX_EXACT_INTEGER} (I-JSON, RFC 7493 §2.2)"
        )
    return -int(digits) if stripped.startswith("-") else int(digits)


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


def parse_json(body: bytes, *, max_bytes: int) -> Any:
    """The JSON value of ``body`` under the rules of the module docstring, or a DocumentError
    subclass (PayloadTooLargeError, MalformedBodyError, or DocumentError for a number out of
    range)."""
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
    if "\\u0000" in text and _holds_nul(document):  # the one way JSON writes NUL
        raise MalformedBodyError("the JSON contains a NUL character (\\u0000)")
    return document


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False
