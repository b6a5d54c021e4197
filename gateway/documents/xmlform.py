"""The convention shared by the XML forms of the gateway's documents, and its two directions.

An XML form mirrors its JSON form: element names are the JSON member names in PascalCase, a JSON
array becomes a container element holding one item element per entry, and every element is in
the document's namespace. A leaf's JSON type is not in the XML, so each form names its numeric and
boolean leaves. ``to_dict`` expects an element that already passed its XSD; its numbers are held
to the same bounds as the JSON form's (:mod:`gateway.documents.hardened`), which an XSD's
``xs:double`` (INF, NaN) and unbounded ``xs:decimal``/``xs:positiveInteger`` do not state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from lxml import etree

from gateway.documents.hardened import exact_integer, finite_number


@cache  # a document repeats a few dozen names thousands of times
def pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


@cache
def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname


@dataclass(frozen=True)
class XmlForm:
    namespace: str
    root: str
    #: JSON array member → XML item element name.
    list_items: Mapping[str, str]
    #: Members that are JSON objects (their XML element may be empty, as ``<Route/>``).
    object_members: frozenset[str] = frozenset()
    integer_leaves: frozenset[str] = frozenset()
    number_leaves: frozenset[str] = frozenset()
    boolean_leaves: frozenset[str] = frozenset()
    #: Elements of other namespaces (e.g. ds:Signature) that are not part of the JSON form.
    foreign: frozenset[str] = field(default_factory=frozenset)

    def to_dict(self, element: etree._Element) -> dict[str, Any]:
        """The JSON form of an XML element."""
        result: dict[str, Any] = {}
        for child in element:
            if not isinstance(child.tag, str) or etree.QName(child).namespace != self.namespace:
                continue  # comments, processing instructions, the signature
            key = snake(local_name(child))
            if key in self.list_items:
                result[key] = [self.to_dict(i) if len(i) else self._leaf(key, i) for i in child]
            elif len(child) or key in self.object_members:
                result[key] = self.to_dict(child)
            else:
                result[key] = self._leaf(key, child)
        return result

    def _leaf(self, key: str, element: etree._Element) -> Any:
        text = (element.text or "").strip()
        if key in self.integer_leaves:
            return exact_integer(text)
        if key in self.number_leaves:
            return finite_number(text)
        if key in self.boolean_leaves:
            return text in ("true", "1")
        return element.text or ""

    def to_element(self, document: Mapping[str, Any]) -> etree._Element:
        """The XML form of a JSON document (member order as in the dict, which must follow the
        XSD's sequence)."""
        nsmap: Any = {None: self.namespace}  # the default namespace; lxml-stubs want str keys
        root = etree.Element(f"{{{self.namespace}}}{self.root}", nsmap=nsmap)
        for key, value in document.items():
            self._append(root, key, value)
        return root

    def to_bytes(self, document: Mapping[str, Any]) -> bytes:
        return bytes(
            etree.tostring(
                self.to_element(document),
                xml_declaration=True,
                encoding="UTF-8",
                pretty_print=True,
            )
        )

    def _append(self, parent: etree._Element, key: str, value: Any) -> None:
        element = etree.SubElement(parent, f"{{{self.namespace}}}{pascal(key)}")
        if key in self.list_items:
            for item in value:
                child = etree.SubElement(element, f"{{{self.namespace}}}{self.list_items[key]}")
                if isinstance(item, Mapping):
                    for item_key, item_value in item.items():
                        self._append(child, item_key, item_value)
                else:
                    child.text = str(item)
        elif isinstance(value, Mapping):
            for child_key, child_value in value.items():
                self._append(element, child_key, child_value)
        elif isinstance(value, bool):
            element.text = "true" if value else "false"
        else:
            element.text = repr(value) if isinstance(value, float) else str(value)
