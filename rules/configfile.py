"""Load a YAML config file into a pydantic model, with errors that name file, key path and line.

Every package validates its own config section with its own model; this module only does the
reading and the error reporting, so `lookout config check` can say
`configs/rules.yaml:14 cameras.gate.rules[0].polygon: polygon self-intersects`.

It lives in `rules` because fence files are what engineers edit most, and every package above
(`alerts`, `ingest`, `api`) may import it (see docs/DESIGN-NOTES.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ConfigIssue:
    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(ValueError):
    """One or more problems in config files; `issues` lists each with file, key and line."""

    def __init__(self, issues: list[ConfigIssue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def _plain(node: Any) -> Any:
    if isinstance(node, CommentedMap):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v) for v in node]
    return node


def line_of(root: Any, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest node on `loc` that the YAML tree knows."""
    node, line = root, None
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            pos = node.lc.key(part) if hasattr(node.lc, "key") else None
            if pos:
                line = pos[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            pos = node.lc.item(part)
            if pos:
                line = pos[0] + 1
            node = node[part]
        else:
            break
    if line is None and hasattr(root, "lc") and root.lc.line is not None:
        line = root.lc.line + 1
    return line


def _clean_loc(tree: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The error location as the user wrote it: without pydantic's union tags.

    A discriminated union reports `rules[0].tripwire.line`; `tripwire` is the value of the
    item's `kind`, not a key in the file, so it is dropped by walking the YAML tree alongside.
    """
    out: list[Any] = []
    node = tree
    for part in loc:
        if isinstance(part, str) and (part.startswith("function-") or ("[" in part and "]" in part)):
            continue
        if isinstance(node, CommentedMap):
            if part in node:
                node = node[part]
            elif isinstance(part, str) and part in {str(v) for v in node.values() if isinstance(v, str)}:
                continue  # a union tag such as kind: tripwire
            else:
                node = None
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
        out.append(part)
    return tuple(out)


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def read_yaml(path: Path) -> Any:
    """The YAML tree with line information, or ConfigError naming the line of a syntax error."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigIssue(str(path), None, "", f"cannot read: {exc.strerror}")]) from exc
    try:
        return YAML(typ="rt").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigIssue(str(path), line, "", f"YAML syntax: {problem}")]) from exc


def validate_tree(model: type[M], tree: Any, path: Path | str, context: dict | None = None) -> M:
    """Validate an already-read YAML tree; errors carry the line of the offending key."""
    try:
        return model.model_validate(_plain(tree) if tree is not None else {}, context=context)
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            clean = _clean_loc(tree, err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            issues.append(ConfigIssue(str(path), line_of(tree, clean), _key_path(clean), msg))
        raise ConfigError(issues) from None


def load_model(model: type[M], path: Path | str, context: dict | None = None) -> M:
    """Read `path` and validate it against `model`."""
    path = Path(path)
    return validate_tree(model, read_yaml(path), path, context)
