"""A lecture as data: a list of scenes, each a title, a view (its link's parameters) and a line for the lecturer.

The file is JSON (lecture.json beside this module is the shipped one), read with pydantic's JSON parser and
checked against the schema below; nothing else is ever done with a file's bytes. A file that does not fit says
why in one line (LectureError), and the lecture in use stays as it was.

    {"format": "latent-explorer-lecture", "version": 1, "title": "...",
     "scenes": [{"title": "Dragging a 1 into a 7", "state": {"m": "pretrained/mnist-mlp", "z": "-1.2,-0.5",
                 "pr": "1"}, "line": "Drag the ★ from the 1s to the 7s."}, ...]}

A scene's state holds the query parameters of dashboard/explore/url.py PARAMS (its model "m" always, the
lecture's own scene number "sc" never); whether its values fit the model is checked when the scene is shown,
as for any link.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..explore.url import PARAMS

__all__ = ["Scene", "Lecture", "LectureError", "SHIPPED", "FORMAT", "MAX_BYTES", "SCENE_CODES", "parse",
           "dump", "shipped", "scene_of"]

FORMAT = "latent-explorer-lecture"
SHIPPED = Path(__file__).resolve().parent / "lecture.json"
MAX_BYTES = 256 * 1024  # a lecture of 200 scenes is under 100 KB
MAX_SCENES = 200
MAX_TITLE = 80
MAX_LINE = 400
MAX_VALUE = 400  # a parameter's text (url.py reads at most this many characters of a list of numbers)
SCENE_CODES = frozenset(p.code for p in PARAMS) - {"sc"}


class LectureError(ValueError):
    """A lecture file that cannot be used; str(e) is one line for the page."""


class Scene(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=MAX_TITLE)
    state: dict[str, str]
    line: str = Field(default="", max_length=MAX_LINE)

    @field_validator("state")
    @classmethod
    def _a_view(cls, state: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(state) - SCENE_CODES)
        if unknown:
            raise ValueError(f"unknown view parameters {', '.join(unknown)[:60]}")
        if not state.get("m"):
            raise ValueError("the view names no model (m)")
        long = sorted(k for k, v in state.items() if len(v) > MAX_VALUE)
        if long:
            raise ValueError(f"the value of {', '.join(long)} is too long")
        return {p.code: state[p.code] for p in PARAMS if p.code in state}  # url.py's order, the link's


class Lecture(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    format: Literal["latent-explorer-lecture"] = FORMAT
    version: Literal[1] = 1
    title: str = Field(default="Lecture", min_length=1, max_length=MAX_TITLE)
    scenes: tuple[Scene, ...] = Field(min_length=1, max_length=MAX_SCENES)


def _where(loc: tuple) -> str:
    """('scenes', 2, 'state') -> 'scene 3, state'."""
    parts, items = [], list(loc)
    while items:
        item = items.pop(0)
        if item == "scenes" and items and isinstance(items[0], int):
            parts.append(f"scene {items.pop(0) + 1}")
        else:
            parts.append(str(item))
    return ", ".join(parts)


def _one_line(e: ValidationError) -> str:
    errors = e.errors(include_url=False, include_input=False)
    first = errors[0]
    msg = str(first.get("msg", "")).removeprefix("Value error, ")
    if first.get("type") == "json_invalid":
        msg = "it is not JSON"
    where = _where(tuple(first.get("loc", ())))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {msg}{more}" if where else f"{msg}{more}"


def parse(data: bytes, name: str = "the file") -> Lecture:
    """The lecture in a file's bytes; LectureError (one line naming `name`) when it is not one."""
    if len(data) > MAX_BYTES:
        raise LectureError(f"{name} is {len(data) / 1024:.0f} KB; a lecture file is at most {MAX_BYTES // 1024} KB.")
    try:
        return Lecture.model_validate_json(data)
    except ValidationError as e:
        raise LectureError(f"{name} is not a lecture file: {_one_line(e)}.") from None


def dump(lecture: Lecture) -> bytes:
    """The lecture as the file parse() reads (UTF-8 JSON, one scene a few lines)."""
    return (json.dumps(lecture.model_dump(mode="json"), ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def shipped() -> Lecture:
    """The lecture shipped with the app (docs/lecture.md, step by step); LectureError if its file is broken."""
    try:
        data = SHIPPED.read_bytes()
    except OSError:
        raise LectureError("The shipped lecture file is missing.") from None
    return parse(data, "The shipped lecture")


def scene_of(title: str, params: dict[str, str], line: str = "") -> Scene:
    """A scene of the view whose link parameters are `params` (url.params_for's; its scene number left out)."""
    title = " ".join(title.split())[:MAX_TITLE] or "Scene"
    return Scene(title=title, state={k: v for k, v in params.items() if k in SCENE_CODES},
                 line=" ".join(line.split())[:MAX_LINE])
