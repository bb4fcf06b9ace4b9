"""Reading configuration files without trusting them: YAML documents and ``.env`` files.

The promise: any bytes become a Python value or a ``ConfigError`` naming the file — never a
``RecursionError``, ``UnicodeDecodeError``, ``MemoryError`` or a parser's own exception — in
time and memory bounded by the caps below, whatever aliases or nesting the file holds.

- **Size**: at most ``MAX_FILE_BYTES`` are read; a bigger file (or ``/dev/zero``) is an error.
- **Encoding**: UTF-8 (a BOM is allowed), or UTF-16/UTF-32 with a BOM; anything else is an
  error naming the byte offset.
- **Shape**: before any object is built, the YAML event stream is scanned: nesting deeper than
  ``MAX_DEPTH`` or a document that, with every alias expanded, holds more than ``MAX_NODES``
  values is an error (a billion-laughs file fails in milliseconds). Shared aliases stay shared
  objects; nothing downstream copies them more than the cap allows.
- **Tags**: only YAML's safe types, plus ``!replace`` on a mapping (a profile replaces the
  inherited mapping instead of merging into it). Nothing imports code.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path
from typing import Any

import yaml

from oneringai.config.paths import join_path
from oneringai.domain.errors import ConfigError

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "Replace",
    "read_dotenv",
    "read_text",
    "read_yaml",
]

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 48
MAX_NODES = 100_000

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


class Replace(dict[Any, Any]):
    """A mapping tagged ``!replace``: it replaces what lower layers set instead of merging."""


class _ConfigLoader(_Loader):  # type: ignore[misc]
    """The safe loader plus ``!replace``."""


def _construct_replace(loader: Any, node: Any) -> Any:
    if not isinstance(node, yaml.MappingNode):
        raise yaml.constructor.ConstructorError(
            None, None, "!replace applies to a mapping", node.start_mark
        )
    value = Replace()
    yield value
    value.update(loader.construct_mapping(node))


_ConfigLoader.add_constructor("!replace", _construct_replace)


def read_text(path: Path, what: str = "config file") -> str:
    """The decoded text of ``path``: a regular file of at most ``MAX_FILE_BYTES``."""
    source = str(path)
    try:
        if path.is_dir():
            raise ConfigError(f"{what} is a directory, not a file", source=source)
        if path.exists() and not path.is_file():
            raise ConfigError(f"{what} is not a regular file", source=source)
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", source=source) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror or exc}", source=source) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(
            f"{what} is larger than {MAX_FILE_BYTES // 1024} KiB; configuration files are small",
            source=source,
        )
    return _decode(data, source)


def _decode(data: bytes, source: str) -> str:
    codec, name = "utf-8", "UTF-8"
    for bom, bom_codec, bom_name in _BOMS:
        if data.startswith(bom):
            codec, name = bom_codec, bom_name
            break
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not valid {name} text (byte {exc.start}: {exc.reason}); save the file as UTF-8",
            source=source,
        ) from None


class _Frame:
    """An open mapping or sequence of the event scan: its anchor, expanded size, and where the
    next child sits (the key being read for a mapping, the index for a sequence)."""

    __slots__ = ("anchor", "index", "key", "keys", "mapping", "on_key", "size")

    def __init__(self, anchor: str | None, mapping: bool) -> None:
        self.anchor = anchor
        self.size = 0
        self.mapping = mapping
        self.on_key = mapping  # a mapping starts with a key
        self.keys: dict[str, int] = {}
        self.key: object = None
        self.index = 0


def _path(stack: list[_Frame]) -> str:
    path = ""
    for frame in stack:
        path = join_path(path, frame.key) if frame.mapping else f"{path}[{frame.index}]"
    return path


def _child_done(stack: list[_Frame], key: str | None, mark: Any, source: str) -> None:
    """A node of the innermost collection is complete; ``key`` is its text when it is a scalar.
    A key seen twice in one mapping is an error (YAML forbids it; PyYAML keeps the last one
    silently, so a second ``text:`` section would replace the first without a word)."""
    if not stack:
        return
    frame = stack[-1]
    if not frame.mapping:
        frame.index += 1
        return
    if frame.on_key:
        frame.key = key if key is not None else "<complex key>"
        if key is not None and key != "<<":  # merge keys may repeat
            first = frame.keys.get(key)
            if first is not None:
                line = mark.line + 1 if mark is not None else 0
                raise ConfigError(
                    f"line {line}: duplicate key (first set on line {first}); "
                    "YAML keeps only one of them, so remove or merge the other",
                    path=_path(stack),
                    source=source,
                )
            frame.keys[key] = mark.line + 1 if mark is not None else 0
    frame.on_key = not frame.on_key


def _scan(text: str, source: str) -> None:
    """Walk the event stream (no objects built): bound the depth and the expanded size, and
    refuse duplicate keys (naming their YAML path)."""
    sizes: dict[str, int] = {}
    open_anchors: set[str] = set()
    stack: list[_Frame] = []
    total = 0

    def add(count: int, mark: Any) -> None:
        nonlocal total
        total += count
        if total > MAX_NODES:
            where = f"line {mark.line + 1}: " if mark is not None else ""
            raise ConfigError(
                f"{where}the document expands to more than {MAX_NODES} values (aliases?); "
                "configuration files are small",
                source=source,
            )
        if stack:
            stack[-1].size += count

    for event in yaml.parse(text, Loader=_Loader):
        mark = getattr(event, "start_mark", None)
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                where = f"line {mark.line + 1}: " if mark is not None else ""
                raise ConfigError(f"{where}nested deeper than {MAX_DEPTH} levels", source=source)
            add(1, mark)
            stack.append(_Frame(event.anchor, isinstance(event, yaml.MappingStartEvent)))
            if event.anchor:
                open_anchors.add(event.anchor)
        elif isinstance(event, yaml.CollectionEndEvent):
            frame = stack.pop()
            if frame.anchor:
                open_anchors.discard(frame.anchor)
                sizes[frame.anchor] = frame.size + 1
            if stack:
                stack[-1].size += frame.size
            _child_done(stack, None, mark, source)
        elif isinstance(event, yaml.ScalarEvent):
            add(1, mark)
            if event.anchor:
                sizes[event.anchor] = 1
            _child_done(stack, event.value, mark, source)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor in open_anchors:
                where = f"line {mark.line + 1}: " if mark is not None else ""
                raise ConfigError(
                    f"{where}alias *{event.anchor} refers to a mapping or list that contains it",
                    source=source,
                )
            add(sizes.get(event.anchor or "", 1), mark)
            _child_done(stack, None, mark, source)


def read_yaml(path: Path) -> dict[str, Any]:
    """The top-level mapping of a YAML file (``{}`` when empty)."""
    source = str(path)
    text = read_text(path)
    try:
        _scan(text, source)
        data = yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 - a safe loader subclass
    except ConfigError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"malformed YAML: {where}{problem}", source=source) from None
    except (ValueError, OverflowError, TypeError, RecursionError) as exc:
        # e.g. a timestamp such as 2024-02-30, an integer past Python's digit limit
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"malformed YAML: {reason}", source=source) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"the top level must be a mapping of sections, not {type(data).__name__}", source=source
        )
    return data


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a ``.env`` file; a line that does not parse is an error."""
    from dotenv.main import DotEnv
    from dotenv.parser import parse_stream

    source = str(path)
    text = read_text(path, ".env file")
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            # the line itself is not shown: it may hold a secret
            raise ConfigError(
                f"line {binding.original.line}: cannot parse (expected KEY=value, quotes closed)",
                source=source,
            )
    values = DotEnv(None, stream=io.StringIO(text)).dict()
    return {key: value for key, value in values.items() if value is not None}
