"""The checks both backends make before they touch storage, so that they refuse the same things in the same words.

Each returns the value in the form stored (a room code in capitals, a view as JSON, a code as a tuple of floats)
or raises ClassError with one line for the page.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
import struct

from . import bounds as b
from .store import ClassError

_STUDENT = re.compile(b.STUDENT_ID_PATTERN)
GONE = "This class has ended (or its code is wrong): ask the lecturer for the code on the screen."
UNAVAILABLE = "The class store is unavailable just now (the server log says why); try again in a moment."
NOT_LECTURER = "Only the lecturer of this class can do that (the lecturer's link has the class's key)."


def new_room() -> str:
    return "".join(secrets.choice(b.ROOM_ALPHABET) for _ in range(b.ROOM_LENGTH))


def new_key() -> str:
    return secrets.token_urlsafe(b.KEY_BYTES)


def room_code(room: object) -> str:
    """The room code in capitals, or ClassError when it cannot be one."""
    if isinstance(room, str):
        code = room.strip().upper()
        if len(code) == b.ROOM_LENGTH and all(c in b.ROOM_ALPHABET for c in code):
            return code
    raise ClassError(f"A class code is {b.ROOM_LENGTH} letters and digits, as on the lecturer's screen.")


def valid_room(room: object) -> str | None:
    """room_code(room), or None for a malformed code (for the reads that never raise)."""
    try:
        return room_code(room)
    except ClassError:
        return None


def key_hash(key: str) -> bytes:
    # The key is 192 random bits: a plain hash cannot be reversed, no salt or slow hash needed.
    return hashlib.sha256(key.encode()).digest()


def lecturer_hash(key: object) -> bytes:
    """key_hash(key), or b'' (which matches no room) for what cannot be a key."""
    return key_hash(key) if isinstance(key, str) and 0 < len(key) <= b.MAX_KEY_CHARS else b""


def key_matches(key: object, stored: bytes | None) -> bool:
    if not isinstance(key, str) or not key or len(key) > b.MAX_KEY_CHARS or stored is None:
        return False
    return hmac.compare_digest(key_hash(key), bytes(stored))


def student_id(student: object) -> str:
    if isinstance(student, str) and _STUDENT.fullmatch(student):
        return student
    raise ClassError("This page's student id is not valid: reload the page.")


def view_json(view: object) -> str:
    """The lecturer's view (the page's URL parameters) as compact JSON, size-checked."""
    if not isinstance(view, dict) or len(view) > b.MAX_VIEW_PARAMS:
        raise ClassError(f"A class view is at most {b.MAX_VIEW_PARAMS} settings.")
    for k, v in view.items():
        if not isinstance(k, str) or not isinstance(v, str) or not k or len(k) > b.MAX_VIEW_KEY_CHARS \
                or len(v) > b.MAX_VIEW_VALUE_CHARS:
            raise ClassError("A class view's settings are short text values.")
    text = json.dumps(view, separators=(",", ":"))  # in the lecturer's order: a round trip gives the same dict
    if len(text.encode()) > b.MAX_VIEW_BYTES:
        raise ClassError(f"This view is too large to share with the class ({b.MAX_VIEW_BYTES} bytes at most).")
    return text


def _request_value(v: object) -> bool:
    if v is None or isinstance(v, bool | int):
        return True
    if isinstance(v, float):
        return math.isfinite(v)
    return isinstance(v, str) and len(v) <= b.MAX_REQUEST_STRING_CHARS


def request_json(request: object) -> str | None:
    """The lecturer's request as JSON (None for no request): a known kind, flat, small."""
    if request is None:
        return None
    if not isinstance(request, dict) or request.get("kind") not in b.REQUEST_KINDS:
        raise ClassError(f"A request to the class is one of: {', '.join(b.REQUEST_KINDS)}.")
    if not all(isinstance(k, str) and len(k) <= b.MAX_REQUEST_STRING_CHARS and _request_value(v)
               for k, v in request.items()):
        raise ClassError("A request to the class holds short text and numbers only.")
    if request["kind"] == "poll":
        poll_number(request.get("poll"))
    text = json.dumps(request, separators=(",", ":"))
    if len(text.encode()) > b.MAX_REQUEST_BYTES:
        raise ClassError(f"A request to the class is at most {b.MAX_REQUEST_BYTES} bytes.")
    return text


def poll_number(poll: object) -> int:
    if isinstance(poll, int) and not isinstance(poll, bool) and 0 <= poll <= b.MAX_POLL:
        return poll
    raise ClassError("That poll is not one of this class's.")


def label_text(label: object) -> str | None:
    if label is None:
        return None
    if isinstance(label, str) and 0 < len(label) <= b.MAX_LABEL_CHARS and label.isprintable():
        return label
    raise ClassError(f"A drawing's label is a short name ({b.MAX_LABEL_CHARS} characters at most).")


def model_name(model: object) -> str:
    if isinstance(model, str) and 0 < len(model) <= b.MAX_MODEL_CHARS and model.isprintable():
        return model
    raise ClassError("A drawing names the model that encoded it.")


def image_bytes(image: object, what: str) -> bytes:
    if isinstance(image, bytes | bytearray | memoryview) and len(bytes(image)) == b.IMAGE_BYTES:
        return bytes(image)
    raise ClassError(f"A {what} is a 28×28 image ({b.IMAGE_BYTES} bytes).")


def latent_code(code: object) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in code)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        values = ()
    if not 0 < len(values) <= b.MAX_CODE_DIMS or not all(math.isfinite(v) for v in values):
        raise ClassError(f"A drawing's code is 1 to {b.MAX_CODE_DIMS} finite numbers.")
    return values


def coordinate(value: object) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        v = math.nan
    if math.isfinite(v) and abs(v) <= b.MAX_COORD:
        return v
    raise ClassError("A guess is a point on the map.")


DRAWING_REFUSALS = {  # why a drawing is refused, in the order the limits are checked (both backends)
    "room_full": f"This class has all the drawings it can take ({b.MAX_DRAWINGS_PER_ROOM}).",
    "student_full": f"You have sent the most drawings one student can ({b.MAX_DRAWINGS_PER_STUDENT}).",
    "wait": "Wait a moment before sending another drawing.",
}


def drawing_refusal(count_of_student: int, last_of_student: float | None, count_of_room: int,
                    now: float) -> str | None:
    """Which limit forbids another drawing (a DRAWING_REFUSALS key), from the counts the store holds now."""
    if count_of_room >= b.MAX_DRAWINGS_PER_ROOM:
        return "room_full"
    if count_of_student >= b.MAX_DRAWINGS_PER_STUDENT:
        return "student_full"
    if last_of_student is not None and now - last_of_student < b.MIN_SECONDS_BETWEEN_DRAWINGS:
        return "wait"
    return None


def pack_code(code: tuple[float, ...]) -> bytes:
    return struct.pack(f"<{len(code)}d", *code)  # little-endian doubles: exact, and the same in both backends


def unpack_code(blob: bytes) -> tuple[float, ...]:
    return struct.unpack(f"<{len(blob) // 8}d", blob)


def guesses_full() -> ClassError:
    return ClassError(f"This class has all the guesses it can take ({b.MAX_GUESSES_PER_ROOM}).")
