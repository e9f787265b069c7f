"""What a class store is: the shared state of a lecturer's class, which every app replica reads and writes.

A lecturer creates a room and gets (room, key): the room code goes on the projector (`?class=ROOM`), the key
stays in the lecturer's URL (`?class=ROOM&key=KEY`) and is the only proof of being the lecturer. Each replica
reads pulse() of the rooms its pages show (ten times a second, dashboard/classroom/push.py) and its pages read
view() / request() when it changed; students send drawings and poll guesses, which only the lecturer reads back.

    create() -> (room, key)                  room: ROOM_LENGTH characters of ROOM_ALPHABET; key: never stored
    exists(room), is_lecturer(room, key)     never raise (False for a bad room code or key)
    end(room, key)                           deletes the room and everything in it
    revision(room) -> int | None             one cheap read; bumps on publish/ask/clear_drawings; None: no room
    publish(room, key, view) -> revision     the lecturer's view: the page's URL parameters, dict[str, str]
    view(room) -> (revision, view) | None    the last published view ({} before the first publish)
    ask(room, key, request) -> revision      the request to the class: {"kind": "digit", "label": "7"},
                                             {"kind": "poll", "poll": n, "image": i, "model": name}, or None
    request(room) -> dict | None             the current request (None: none, or no room)
    add_drawing(room, student, label, model, code, image, recon) -> id
    drawings(room, key, model=None)          the lecturer's list of Drawing, oldest first (one model's or all)
    drawing_count(room) -> int | None        cheap, for a live count; None: no room
    pulse(room) -> (revision, drawings, guesses) | None   one cheap read of all three counters (the guesses
                                             over every poll, a replaced one not counted again); None: no room
    clear_drawings(room, key)                every drawing gone, students may send again; bumps the revision
    add_guess(room, student, poll, x, y)     one per student and poll: a second replaces the first
    guesses(room, key, poll) -> list[Guess]  the lecturer's, oldest first
    expire() -> int                          deletes every idle room now (also done on create); how many

Errors: every refusal is a ClassError whose message is one line for the page (no server path, no traceback):
a bad room code, a room that is gone, a wrong key, a payload out of bounds (bounds.py), a rate limit or a cap
reached, the store itself unavailable (a locked or unwritable file, Redis unreachable). The reads a follower
makes (revision, view, request, drawing_count, pulse) return None for a room that is gone or a malformed code, and
raise only when the store is unavailable; exists and is_lecturer never raise (False).

Writes that touch the room (keep it from going idle): create, publish, ask, clear_drawings, add_drawing,
add_guess. clear_drawings also resets each student's count and rate limit (a fresh round of drawings).
Every store takes a clock (open_store(env, clock=time.time)): the tests move it to expire rooms.

Room codes are case-insensitive ("abcde" is "ABCDE") and checked (alphabet, length) before any query. Student
ids are the page's opaque strings (bounds.STUDENT_ID_PATTERN). A room is idle once nothing was written to it
(by the lecturer or a student) for CLASS_IDLE_HOURS; an idle room is gone: reads see no room, and its data is
deleted lazily (on access, on create) and, with Redis, by the keys' TTL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


class ClassError(ValueError):
    """A refusal, in one line the page can show as it is."""


@dataclass(frozen=True)
class Drawing:
    id: int  # increasing within a room
    student: str
    label: str | None  # what the student says it is ("7"), or None
    model: str  # the model whose encoder made `code`
    code: tuple[float, ...]  # the drawing's latent code (the encoder's mean)
    image: bytes  # 784 uint8, row-major 28x28: what the student drew
    recon: bytes  # 784 uint8: the model's reconstruction of it
    at: float  # when it was stored (the store's clock, Unix seconds)


@dataclass(frozen=True)
class Guess:
    student: str
    poll: int
    x: float  # where on the lecturer's map the student thinks the image lands
    y: float
    at: float


@runtime_checkable
class ClassStore(Protocol):
    """The operations above; SQLiteStore and RedisStore implement them with the same semantics."""

    def create(self) -> tuple[str, str]: ...
    def exists(self, room: str) -> bool: ...
    def is_lecturer(self, room: str, key: str) -> bool: ...
    def end(self, room: str, key: str) -> None: ...
    def revision(self, room: str) -> int | None: ...
    def publish(self, room: str, key: str, view: dict[str, str]) -> int: ...
    def view(self, room: str) -> tuple[int, dict[str, str]] | None: ...
    def ask(self, room: str, key: str, request: dict | None) -> int: ...
    def request(self, room: str) -> dict | None: ...
    def add_drawing(self, room: str, student: str, label: str | None, model: str, code, image: bytes,
                    recon: bytes) -> int: ...
    def drawings(self, room: str, key: str, model: str | None = None) -> list[Drawing]: ...
    def drawing_count(self, room: str) -> int | None: ...
    def pulse(self, room: str) -> tuple[int, int, int] | None: ...
    def clear_drawings(self, room: str, key: str) -> None: ...
    def add_guess(self, room: str, student: str, poll: int, x: float, y: float) -> None: ...
    def guesses(self, room: str, key: str, poll: int) -> list[Guess]: ...
    def expire(self) -> int: ...
