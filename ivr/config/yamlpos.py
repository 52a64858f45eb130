"""Read YAML while remembering the line of every key and list item.

PyYAML's `safe_load` forgets where values came from; here the document is
composed into nodes first and built by hand, so every problem found later
(by pydantic or by the cross-checks) can point at its own line.

Two deliberate differences from `safe_load`:
- a plain scalar YAML would read as an integer keeps its text ("12345",
  "0943...", "110"): phone numbers are strings, and a leading zero must not
  turn a number into an octal integer. Integer fields still work because
  pydantic accepts "5038" for an int.
- mapping keys are always their text, and a repeated key is reported instead
  of silently overriding the first one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from ivr.config.problems import Path

INT_TAG = "tag:yaml.org,2002:int"
SEQ_TAG = "tag:yaml.org,2002:seq"
MAP_TAG = "tag:yaml.org,2002:map"
MAX_NODES = 200_000  # an alias bomb must not exhaust memory


class YamlSyntaxError(Exception):
    def __init__(self, line: int, reason: str):
        self.line, self.reason = line, reason
        super().__init__(f"line {line}: {reason}")


@dataclass
class Document:
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    # (path, line, reason): things wrong at the YAML level that do not stop reading
    issues: list[tuple[Path, int, str]] = field(default_factory=list)

    def line_of(self, path: Path) -> int:
        """Line of `path`, or of its nearest ancestor present in the file (1 for the root)."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def read_yaml(text: str) -> Document:
    """Parse one YAML document; raise `YamlSyntaxError` if it is not valid YAML."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # the whole text is checked for control characters up front
        raise YamlSyntaxError(text[: exc.position].count("\n") + 1, f"{exc.reason} #x{exc.character:04x}") from None
    try:
        node = loader.get_single_node()
        doc = Document(None)
        if node is not None:
            doc.data = _Builder(loader, doc).build(node, ())
        return doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = str(exc.problem or "invalid YAML")
        if exc.context and exc.context_mark and exc.context_mark.line != getattr(mark, "line", None):
            reason += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise YamlSyntaxError(mark.line + 1 if mark else 1, reason) from None
    finally:
        loader.dispose()


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, doc: Document):
        self.loader, self.doc = loader, doc
        self.active: set[int] = set()  # nodes on the current path: detects recursive aliases
        self.count = 0

    def build(self, node: yaml.Node, path: Path) -> Any:
        line = node.start_mark.line + 1
        self.doc.lines.setdefault(path, line)
        self.count += 1
        if self.count > MAX_NODES:
            self._issue(path, line, f"document too large (more than {MAX_NODES} values)")
            return None
        if id(node) in self.active:
            self._issue(path, line, "recursive alias")
            return None
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if node.tag not in (SEQ_TAG, MAP_TAG):
            self._issue(path, line, f"unsupported YAML tag {node.tag!r}")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
            return self._mapping(node, path)
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict:
        self.loader.flatten_mapping(node)  # resolves "<<: *anchor" merge keys
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self._issue(path, line, "a key must be a plain value, not a list or mapping")
                continue
            key = key_node.value
            if key in out:
                first = self.doc.lines[path + (key,)]
                self._issue(path + (key,), line, f"duplicate key {key!r} (first at line {first})")
                continue
            self.doc.lines[path + (key,)] = line
            out[key] = self.build(value_node, path + (key,))
        return out

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        if node.tag == INT_TAG:
            return node.value
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            self._issue(path, node.start_mark.line + 1, str(exc.problem or "cannot read this value"))
            return node.value
        except ValueError:  # e.g. a timestamp like 2026-13-01: let validation explain it
            return node.value

    def _issue(self, path: Path, line: int, reason: str) -> None:
        self.doc.issues.append((path, line, reason))
