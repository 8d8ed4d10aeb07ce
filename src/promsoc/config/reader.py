"""Read a YAML config as a node tree, so every error can name its file, line and key.

`yaml.safe_load` forgets where values came from; composing the node tree keeps each
value's line. `Reader` walks that tree with typed getters that reject unknown keys,
wrong types and missing environment variables with a `ConfigError` carrying
`file`, `line` and `key` (a dotted path like `sources[0].tls.ca_file`).
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from promsoc import times

_ENV = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Scalar = str | int | float | bool
MAX_CONFIG_BYTES = 1 << 20
"""A config file is at most 1 MiB (a real one is a few kB); more is refused unread."""


class ConfigError(Exception):
    """A configuration mistake; `str()` is `path:line: key: message` (parts omitted if unknown)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.key = key
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}"


@dataclass(frozen=True)
class Value:
    """A scalar read from the file, with where it was and whether `${ENV}` supplied it."""

    value: Scalar | None
    line: int
    key: str
    from_env: bool = False


def parse_duration(text: str) -> float | None:
    """`30s`, `1m30s`, `500ms`, `1.5s` -> seconds (`promsoc.times`); None if it is not a duration."""
    try:
        return times.parse_duration(text, fractions=True)
    except times.TimeError:
        return None


def read_config(path: Path) -> str:
    """The file's text, read with a bound (so `/dev/zero` or a huge file cannot hang or eat memory)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError("config file not found", file=str(path)) from None
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise ConfigError(f"cannot read config file: {reason}", file=str(path)) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"config file is larger than {MAX_CONFIG_BYTES >> 20} MiB; is it the right file?",
            file=str(path),
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError("not UTF-8 text", file=str(path), line=line) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ConfigError("contains a NUL character (is it a text file?)", file=str(path), line=line)
    return text


class Reader:
    """Typed, located access to one YAML document's node tree."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        try:
            self._loader = yaml.SafeLoader(text)
            root = self._loader.get_single_node()
        except RecursionError:
            raise ConfigError("YAML nested too deeply", file=path) from None
        except yaml.reader.ReaderError as exc:
            where = text.count("\n", 0, max(exc.position, 0)) + 1
            raise ConfigError(
                f"character #x{exc.character:04x} is not allowed in YAML ({exc.reason})", file=path, line=where
            ) from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            problem = " ".join(str(exc.problem or exc).split())
            raise ConfigError(f"YAML syntax error: {problem}", file=path, line=line) from None
        except yaml.YAMLError as exc:
            problem = " ".join(str(exc).split())
            raise ConfigError(f"YAML error: {problem}", file=path) from None
        self.root: yaml.Node = (
            root if root is not None else yaml.MappingNode("tag:yaml.org,2002:map", [])
        )

    def error(self, node: yaml.Node | None, key: str, message: str) -> ConfigError:
        """A ConfigError pointing at `node`'s line."""
        line = node.start_mark.line + 1 if node is not None and node.start_mark else None
        return ConfigError(message, file=self.path, line=line, key=key or None)

    def mapping(
        self, node: yaml.Node, key: str, allowed: frozenset[str] | None = None
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """A mapping's entries by key name; unknown (if `allowed`) and duplicate keys rejected."""
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, key, f"expected a mapping (key: value), got {_kind(node)}")
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            name = self._loader.construct_object(key_node, deep=True)
            if not isinstance(name, str):
                raise self.error(key_node, key, f"keys must be text, got {name!r}")
            child = f"{key}.{name}" if key else name
            if name in entries:
                raise self.error(key_node, child, "duplicate key")
            if allowed is not None and name not in allowed:
                hint = difflib.get_close_matches(name, sorted(allowed), n=1)
                tip = f" (did you mean {hint[0]!r}?)" if hint else ""
                known = ", ".join(sorted(allowed))
                raise self.error(key_node, child, f"unknown key{tip}; known keys: {known}")
            entries[name] = (key_node, value_node)
        return entries

    def sequence(self, node: yaml.Node, key: str) -> Iterator[tuple[str, yaml.Node]]:
        """(`key[i]`, item node) for each item of a list."""
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, key, f"expected a list, got {_kind(node)}")
        for index, item in enumerate(node.value):
            yield f"{key}[{index}]", item

    def scalar(self, node: yaml.Node, key: str) -> Value:
        """A scalar with `${ENV}` expanded in text (a missing variable is an error)."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, key, f"expected a single value, got {_kind(node)}")
        raw = self._loader.construct_object(node, deep=True)
        line = node.start_mark.line + 1
        if not isinstance(raw, str) or "$" not in raw:
            return Value(raw, line, key)
        expanded = self._expand(raw, node, key)
        if node.style is None and expanded != raw:
            # An unquoted `${PORT}` may stand for a number or a boolean: resolve it like YAML would.
            loaded = yaml.safe_load(expanded) if expanded.strip() else None
            if isinstance(loaded, int | float | bool):
                return Value(loaded, line, key, from_env=True)
        return Value(expanded, line, key, from_env=expanded != raw)

    def _expand(self, raw: str, node: yaml.Node, key: str) -> str:
        def substitute(match: re.Match[str]) -> str:
            if match.group() == "$$":
                return "$"
            name, default = match.group(1), match.group(2)
            value = os.environ.get(name)
            if value is None or (value == "" and default is not None):
                if default is not None:
                    return default
                raise self.error(node, key, f"environment variable {name} is not set")
            return value

        return _ENV.sub(substitute, raw)

    def text(
        self, node: yaml.Node, key: str, *, empty_ok: bool = False, secret: bool = False
    ) -> Value:
        """A string value (numbers are refused: quote them if you mean text)."""
        value = self.scalar(node, key)
        if not isinstance(value.value, str):
            got = "a value that is not text (quote it)" if secret else _describe(value.value)
            raise self.error(node, key, f"expected text, got {got}")
        if not empty_ok and not value.value.strip():
            raise self.error(node, key, "must not be empty")
        return value

    def boolean(self, node: yaml.Node, key: str) -> bool:
        value = self.scalar(node, key).value
        if not isinstance(value, bool):
            raise self.error(node, key, f"expected true or false, got {_describe(value)}")
        return value

    def integer(
        self, node: yaml.Node, key: str, *, minimum: float | None = 1, maximum: float | None = None
    ) -> int:
        """A whole number within [minimum, maximum]."""
        value = self.scalar(node, key).value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, key, f"expected a whole number, got {_describe(value)}")
        if minimum is not None and value < minimum:
            raise self.error(node, key, f"must be at least {minimum:g}, got {value}")
        if maximum is not None and value > maximum:
            raise self.error(node, key, f"must be at most {maximum:g}, got {value}")
        return value

    def seconds(
        self, node: yaml.Node, key: str, *, minimum: float | None = None, maximum: float | None = None
    ) -> float:
        """A finite duration above zero (and within bounds): seconds, or a Prometheus one like `2m`."""
        value = self.scalar(node, key).value
        seconds: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = float(value)
        elif isinstance(value, str):
            seconds = parse_duration(value)
        if seconds is None:
            raise self.error(
                node, key, f"expected seconds or a duration like 30s, got {_describe(value)}"
            )
        if not math.isfinite(seconds):
            raise self.error(node, key, f"must be a finite duration, got {_describe(value)}")
        if seconds <= 0:
            raise self.error(node, key, f"must be greater than zero, got {_describe(value)}")
        if minimum is not None and seconds < minimum:
            raise self.error(node, key, f"must be at least {minimum:g} seconds, got {_describe(value)}")
        if maximum is not None and seconds > maximum:
            raise self.error(node, key, f"must be at most {maximum:g} seconds, got {_describe(value)}")
        return seconds

    def text_list(self, node: yaml.Node, key: str) -> tuple[str, ...]:
        return tuple(str(self.text(item, k).value) for k, item in self.sequence(node, key))

    def text_map(self, node: yaml.Node, key: str) -> dict[str, Value]:
        """A mapping of names to text; numbers and booleans are turned into their YAML text."""
        out: dict[str, Value] = {}
        for name, (_, value_node) in self.mapping(node, key).items():
            value = self.scalar(value_node, f"{key}.{name}")
            if value.value is None:
                raise self.error(value_node, f"{key}.{name}", "must have a value")
            text = _yaml_text(value.value)
            out[name] = Value(text, value.line, value.key, value.from_env)
        return out


def _yaml_text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"the value {node.value!r}"


def _describe(value: object) -> str:
    if value is None:
        return "nothing (null)"
    shown = repr(value)
    return f"{type(value).__name__} {shown if len(shown) <= 60 else shown[:59] + '…'}"


__all__ = ["MAX_CONFIG_BYTES", "ConfigError", "Reader", "Scalar", "Value", "parse_duration", "read_config"]
