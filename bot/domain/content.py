"""The shape of Lantern's content files (the questionnaire, the prompt library, prompt import
files), checked by schema before their meaning is: an unknown key or a wrong type is reported
with the file, the key and the line, so a typo never loads as a silent default.

The models forbid unknown keys; what each value means (ids, areas, Discord's limits) is checked
afterwards by ``bot.domain.questionnaire`` and ``bot.domain.prompts``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from pydantic import ValidationError as _ValidationError

M = TypeVar("M", bound=BaseModel)


class ContentError(ValueError):
    """A content file that does not fit its schema; ``problems`` lists each, with its line."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ------------------------------------------------------------------------------ prompts


class PromptEntryModel(_Strict):
    """One ``[[prompt]]`` of the shipped library."""

    id: StrictStr
    area: StrictStr
    text: StrictStr
    follow_ups: list[StrictStr] = Field(default_factory=list)


class PromptFileModel(_Strict):
    """``data/prompts.toml``."""

    prompt: list[PromptEntryModel]


class ImportEntryModel(PromptEntryModel):
    """One prompt in an import file: the library entry, and whether it is retired."""

    retired: StrictBool = False


class ImportFileModel(_Strict):
    """A prompt library file as ``/prompts export`` writes it and ``/prompts import`` reads it."""

    version: StrictInt = 1
    prompt: list[ImportEntryModel] = Field(default_factory=list)


# ------------------------------------------------------------------------ questionnaire


class OptionModel(_Strict):
    value: StrictStr
    label: StrictStr


class QuestionModel(_Strict):
    id: StrictStr
    kind: StrictStr
    label: StrictStr
    required: StrictBool = False
    roles: list[StrictStr] | None = None
    options: list[OptionModel] | Literal["areas", "shareable"] | None = None
    placeholder: StrictStr | None = None
    max_length: StrictInt = 1000
    max_values: StrictInt = 1
    count: StrictInt = 1
    source: StrictStr | None = None


class PageModel(_Strict):
    id: StrictStr
    title: StrictStr
    intro: StrictStr = ""
    questions: list[QuestionModel]


class ConsentModel(_Strict):
    version: StrictStr
    title: StrictStr
    text: StrictStr


class QuestionnaireFileModel(_Strict):
    """``data/questionnaire.toml``."""

    version: StrictInt
    consent: ConsentModel
    pages: list[PageModel] = Field(default_factory=list)
    heritage_details: dict[StrictStr, dict[StrictStr, StrictStr]] = Field(default_factory=dict)


# ---------------------------------------------------------------------------- checking


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parsed TOML, or a ContentError naming the file and the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContentError([f"{source}: is not valid TOML ({exc})"]) from None


def validate(model: type[M], text: str, source: str) -> tuple[M, dict[str, Any]]:
    """The file's text checked against ``model``: the model and the raw data, or a
    ContentError whose problems read ``file:line: key: what was expected``."""
    data = parse_toml(text, source)
    try:
        return model.model_validate(data), data
    except _ValidationError as exc:
        lines = key_lines(text)
        problems = []
        for error, loc in _specific(exc.errors()):
            line = locate(lines, loc)
            where = f"{source}:{line}" if line else source
            key = _dotted(loc)
            if error["type"] == "extra_forbidden":
                message = "unknown key (a typo?)"
            elif error["type"] == "missing":
                message = "is required but missing"
            else:
                message = error["msg"].lower()
            problems.append(f"{where}: {key}: {message}")
        raise ContentError(_unique(problems)) from None


def _is_branch(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or "'" in part)


def _specific(errors: Sequence[Any]) -> list[tuple[Any, tuple[Any, ...]]]:
    """Each error with its path; of a union's branches (options: a list or a word), only the
    errors of the branch that got furthest, with the branch names left out of the path."""
    out: list[tuple[Any, tuple[Any, ...]]] = []
    deepest: dict[tuple[Any, ...], int] = {}
    for error in errors:
        loc = tuple(error["loc"])
        cut = next((i for i, p in enumerate(loc) if _is_branch(p)), None)
        if cut is not None:
            deepest[loc[:cut]] = max(deepest.get(loc[:cut], 0), len(loc))
    for error in errors:
        loc = tuple(error["loc"])
        cut = next((i for i, p in enumerate(loc) if _is_branch(p)), None)
        if cut is not None and len(loc) < deepest[loc[:cut]]:
            continue
        out.append((error, tuple(p for p in loc if not _is_branch(p))))
    return out


def _unique(items: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def _dotted(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]+"|'[^']+'|[A-Za-z0-9_-]+)\s*=""")


def key_lines(text: str) -> dict[tuple[Any, ...], int]:
    """Where each table and key of a TOML document starts: path (with array indexes) -> line.

    Enough of TOML for Lantern's files: tables, arrays of tables, ``key = value`` lines and
    multi-line strings (skipped). Keys inside inline tables share their key's line.
    """
    found: dict[tuple[Any, ...], int] = {}
    counts: dict[tuple[Any, ...], int] = {}
    arrays: set[tuple[str, ...]] = set()
    current: tuple[Any, ...] = ()
    in_string = False
    array: tuple[Any, ...] | None = None  # a multi-line array of inline tables being read
    depth = item = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if array is not None:
            if line.startswith("{"):
                found.setdefault((*array, item), number)
                for inner in _INLINE_KEY.findall(line):
                    found.setdefault((*array, item, inner), number)
                item += 1
            depth += _brackets(line)
            if depth <= 0:
                array = None
            continue
        if in_string:
            if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
                in_string = False
            continue
        if not line or line.startswith("#"):
            continue
        header = _HEADER.match(line)
        if header and not _KEY.match(line):
            names = tuple(n.strip().strip("\"'") for n in header.group(2).split("."))
            path: tuple[Any, ...] = ()
            for i, name in enumerate(names):
                path += (name,)
                if names[: i + 1] in arrays and i < len(names) - 1:
                    path += (counts.get(path, 1) - 1,)
            if header.group(1) == "[[":
                arrays.add(names)
                index = counts.get(path, 0)
                counts[path] = index + 1
                path += (index,)
            current = path
            found.setdefault(path, number)
            continue
        key = _KEY.match(line)
        if key:
            found.setdefault((*current, key.group(1).strip("\"'")), number)
            after = line.split("=", 1)[1]
            if after.strip().startswith("[") and _brackets(after) > 0:
                array, depth, item = (*current, key.group(1).strip("\"'")), _brackets(after), 0
            if after.count('"""') % 2 == 1 or after.count("'''") % 2 == 1:
                in_string = True
    return found


_INLINE_KEY = re.compile(r"([A-Za-z0-9_-]+)\s*=")


def _brackets(text: str) -> int:
    """Open minus closed square brackets outside double-quoted strings."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', "", text)
    return bare.count("[") - bare.count("]")


def locate(lines: dict[tuple[Any, ...], int], loc: Sequence[Any]) -> int | None:
    """The line of ``loc``, or of its nearest enclosing key or table."""
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None
