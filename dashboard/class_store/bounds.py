"""Every bound of the class store, in one place: both backends and the page read them from here.

A student's browser is not trusted: whatever it sends (its id, a drawing, a guess) is checked against these
before it is stored, and a room holds at most so much. The lecturer's key is checked before anything else.
"""

from __future__ import annotations

# A room code is read off a projector and typed on a phone: no 0/O, 1/I/L to confuse.
ROOM_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ROOM_LENGTH = 5  # 31**5 = 28.6 million codes: a collision is retried, a guessed code only lets one join
KEY_BYTES = 24  # secrets.token_urlsafe(24): 32 characters, 192 bits; only its SHA-256 is stored
MAX_KEY_CHARS = 128  # a longer "key" is not one of ours: refused before it is hashed

CLASS_IDLE_HOURS = 4.0  # a room nobody wrote to for this long is deleted with everything in it
IDLE_SECONDS = CLASS_IDLE_HOURS * 3600.0

# The lecturer's view: the page's URL parameters.
MAX_VIEW_PARAMS = 64
MAX_VIEW_KEY_CHARS = 64
MAX_VIEW_VALUE_CHARS = 1024
MAX_VIEW_BYTES = 8192  # the whole view as JSON

# The lecturer's request to the class ({"kind": "digit", "label": "7"}, {"kind": "poll", "poll": 3, ...}).
REQUEST_KINDS = ("digit", "poll")
MAX_REQUEST_BYTES = 1024  # as JSON
MAX_REQUEST_STRING_CHARS = 128

# Students and what they send.
STUDENT_ID_PATTERN = r"[A-Za-z0-9_-]{1,64}"  # an opaque id the page makes (e.g. secrets.token_urlsafe)
MAX_LABEL_CHARS = 32  # "7", "T-shirt/top"
MAX_MODEL_CHARS = 200  # a model's name as the registry lists it
IMAGE_BYTES = 28 * 28  # a drawing and its reconstruction: 784 uint8 each
MAX_CODE_DIMS = 512  # a latent code's length
MIN_SECONDS_BETWEEN_DRAWINGS = 2.0  # per student: a held-down button does not flood the lecturer's map
MAX_DRAWINGS_PER_STUDENT = 20  # per room
MAX_DRAWINGS_PER_ROOM = 2000
MAX_POLL = 10**9  # a poll's number: 0 .. MAX_POLL
MAX_GUESSES_PER_ROOM = 10000  # over all polls; a student's second guess at a poll replaces the first
MAX_COORD = 1e6  # |x|, |y| of a guess on the lecturer's map

# SQLite: how long a writer waits for another process's write lock before giving up with one line.
SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_WAL_LIMIT_BYTES = 8 * 2**20  # the WAL is cut back to this after a checkpoint (every write adds a 4 KiB page)
