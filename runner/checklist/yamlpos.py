"""Safe YAML loading that remembers where every key and value came from.

A `yaml.CSafeLoader` subclass composes the node tree (C speed, safe tags only);
we build plain Python values from it ourselves so we can record each key's and
value's line:column and refuse duplicate keys, which PyYAML keeps silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from runner.errors import Problem

Path = tuple[str | int, ...]

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PositionLoader(_BaseLoader):
    """Safe loader (no Python tags) used only to compose nodes."""


@dataclass
class Document:
    """Parsed YAML plus positions: `values[path]` and `keys[path]` are (line, column), 1-based."""

    file: str
    data: Any = None
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def where(self, path: Path, *, key: bool = False) -> tuple[int | None, int | None]:
        """Position of `path` (its key when `key`), else of its nearest known parent."""
        probe = tuple(path)
        while True:
            table = self.keys if key and probe in self.keys else self.values
            if probe in table:
                return table[probe]
            if not probe:
                return None, None
            probe = probe[:-1]

    def problem(
        self, path: Path, message: str, *, key: bool = False, hint: str | None = None
    ) -> Problem:
        line, column = self.where(path, key=key)
        return Problem(message, self.file, line, column, dotted(path) or None, hint)


def dotted(path: Path) -> str:
    """`tests[2].steps[0].retry` from ("tests", 2, "steps", 0, "retry")."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def parse(text: str, file: str) -> Document:
    """Parse one YAML document; syntax errors become problems (never exceptions)."""
    doc = Document(file)
    loader = PositionLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            doc.data = _build(loader, node, (), doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML syntax error: {exc.problem or exc.context}"
        hint = None
        if "\t" in str(exc) or "tab" in str(exc).lower():
            hint = "YAML indentation must use spaces, not tabs"
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        doc.problems.append(Problem(message, file, line, column, None, hint))
    except yaml.YAMLError as exc:
        line, column = _reader_position(exc, text)
        doc.problems.append(Problem(f"not a readable YAML file: {exc}", file, line, column))
    finally:
        loader.dispose()
    return doc


def _reader_position(exc: yaml.YAMLError, text: str) -> tuple[int | None, int | None]:
    position = getattr(exc, "position", None)
    if not isinstance(position, int):
        return None, None
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1


def _build(loader: PositionLoader, node: yaml.Node, path: Path, doc: Document) -> Any:
    doc.values[path] = _mark(node)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        line, column = _mark(node)
        doc.problems.append(
            Problem(
                f"YAML tag {node.tag!r} is not allowed",
                doc.file,
                line,
                column,
                dotted(path) or None,
            )
        )
        return None
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # YAML merge keys (<<)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # Keys are names: keep their text, so YAML 1.1 `on:`/`yes:` do not become booleans.
            if isinstance(key_node, yaml.ScalarNode):
                key: Any = key_node.value
            else:
                key = loader.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                line, column = _mark(key_node)
                doc.problems.append(
                    Problem(
                        "a key must be a plain value, not a list or mapping",
                        doc.file,
                        line,
                        column,
                        dotted(path) or None,
                    )
                )
                continue
            key_path = (*path, key if isinstance(key, str) else str(key))
            if key in result:
                first = doc.keys.get(key_path, (None, None))
                line, column = _mark(key_node)
                doc.problems.append(
                    Problem(
                        f"duplicate key {key!r} (first defined at line {first[0]})",
                        doc.file,
                        line,
                        column,
                        dotted(key_path),
                        "each key may appear once in a mapping",
                    )
                )
                continue
            doc.keys[key_path] = _mark(key_node)
            result[key] = _build(loader, value_node, key_path, doc)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), doc) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
