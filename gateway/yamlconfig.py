"""Schema-checked YAML configuration files (partners/, later policies/).

An error names the file and the line of the offending value, so an operator can fix it without
guessing. Duplicate keys are an error too: YAML would otherwise keep the last one silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from gateway.errors import ConfigurationError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_of(root: yaml.Node | None, path: Sequence[Any]) -> int | None:
    """1-based line of the node at ``path`` (keys and list indexes), as deep as it exists."""
    node, line = root, None
    for step in path:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(step)), None)
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value)
        ):
            node = node.value[step]
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line


def load_checked(path: Path, schema: Mapping[str, Any]) -> Any:
    """Load ``path`` and check it against ``schema``; raise ConfigurationError with file:line."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader  # nosec B506
    except OSError as error:
        raise ConfigurationError(f"{path}: cannot read: {error}") from error
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigurationError(f"{where}: {error.problem or error}") from error
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        first = errors[0]
        line = _line_of(yaml.compose(text, Loader=yaml.SafeLoader), list(first.absolute_path))
        where = f"{path}:{line}" if line else str(path)
        field = "/".join(map(str, first.absolute_path)) or "(top level)"
        raise ConfigurationError(f"{where}: {field}: {first.message}")
    return data
