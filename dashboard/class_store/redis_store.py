"""The class store in Redis: replicas on several machines share one class.

A room is five keys sharing the hash tag {ROOM} (one Redis Cluster slot): meta (a hash: key_hash, revision,
view, request, touched, drawings, guesses), seq (the drawings' ids), drawings (id -> record), students (id ->
"count last") and guesses ("poll:student" -> "x y at"). Every write is one Lua script, so its checks (the key,
idleness, a rate limit, a cap) and its changes are atomic across replicas; it sets the five keys' TTL to the
idle time (plus a margin), so an abandoned room disappears by itself. `touched` (the store's clock) decides
idleness on every access, as in SQLite, so both backends expire a room at the same moment.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import redis

from . import bounds as b
from . import checks as c
from .store import ClassError, Drawing, Guess

log = logging.getLogger(__name__)

PREFIX = "latent-class"
TTL_MARGIN_S = 3600  # Redis's own clock deletes the keys this long after the store's clock calls a room idle
_PARTS = ("meta", "seq", "drawings", "students", "guesses")

# KEYS: the room's five keys. ARGV[1..3]: now, idle seconds, TTL in ms; then each script's own.
_PROLOGUE = """
local now, idle, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local touched = redis.call('HGET', KEYS[1], 'touched')
if not touched or tonumber(touched) < now - idle then
  if touched then redis.call('DEL', unpack(KEYS)) end
  return {'gone'}
end
local function touch()
  redis.call('HSET', KEYS[1], 'touched', ARGV[1])
  for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ttl) end
end
"""
# Hashes compared with ~=: its timing could tell at most a prefix of the key's SHA-256, which does not help find
# the key (c.lecturer_hash gives b'' for a key that cannot be one, which matches no stored hash).
_EXPIRE = _PROLOGUE + """
return {'ok', 0}
"""
_LECTURER = """
if redis.call('HGET', KEYS[1], 'key_hash') ~= ARGV[4] then return {'key'} end
"""
_CREATE = """
local touched = redis.call('HGET', KEYS[1], 'touched')
if touched and tonumber(touched) >= tonumber(ARGV[1]) - tonumber(ARGV[2]) then return 0 end
redis.call('DEL', unpack(KEYS))
redis.call('HSET', KEYS[1], 'key_hash', ARGV[4], 'revision', 1, 'view', '{}', 'touched', ARGV[1],
           'drawings', 0, 'guesses', 0)
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[3])) end
return 1
"""
# ARGV[5]: the field to set, ARGV[6]: its value ('' with ARGV[7] == '1': delete the field).
_SET = _PROLOGUE + _LECTURER + """
if ARGV[7] == '1' then redis.call('HDEL', KEYS[1], ARGV[5]) else redis.call('HSET', KEYS[1], ARGV[5], ARGV[6]) end
touch()
return {'ok', redis.call('HINCRBY', KEYS[1], 'revision', 1)}
"""
_END = _PROLOGUE + _LECTURER + """
redis.call('DEL', unpack(KEYS))
return {'ok', 0}
"""
_CLEAR = _PROLOGUE + _LECTURER + """
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('HSET', KEYS[1], 'drawings', 0)
touch()
return {'ok', redis.call('HINCRBY', KEYS[1], 'revision', 1)}
"""
# ARGV[4]: student, [5]: the record, [6..9]: min seconds apart, max per student, max per room.
_DRAW = _PROLOGUE + """
if tonumber(redis.call('HGET', KEYS[1], 'drawings')) >= tonumber(ARGV[8]) then return {'room_full'} end
local mine = redis.call('HGET', KEYS[4], ARGV[4])
local count, last = 0, nil
if mine then
  local sp = string.find(mine, ' ')
  count, last = tonumber(string.sub(mine, 1, sp - 1)), tonumber(string.sub(mine, sp + 1))
end
if count >= tonumber(ARGV[7]) then return {'student_full'} end
if last and now - last < tonumber(ARGV[6]) then return {'wait'} end
local id = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[3], id, ARGV[5])
redis.call('HSET', KEYS[4], ARGV[4], (count + 1) .. ' ' .. ARGV[1])
redis.call('HINCRBY', KEYS[1], 'drawings', 1)
touch()
return {'ok', id}
"""
# ARGV[4]: "poll:student", [5]: "x y at", [6]: max guesses in the room.
_GUESS = _PROLOGUE + """
if redis.call('HEXISTS', KEYS[5], ARGV[4]) == 0 then
  if tonumber(redis.call('HGET', KEYS[1], 'guesses')) >= tonumber(ARGV[6]) then return {'full'} end
  redis.call('HINCRBY', KEYS[1], 'guesses', 1)
end
redis.call('HSET', KEYS[5], ARGV[4], ARGV[5])
touch()
return {'ok', 0}
"""


def _record(student: str, label: str | None, model: str, code: tuple[float, ...], image: bytes, recon: bytes,
            at: float) -> bytes:
    """A drawing as bytes: a JSON header line, then image, reconstruction and code (little-endian doubles)."""
    head = json.dumps({"student": student, "label": label, "model": model, "at": at}, separators=(",", ":"))
    return head.encode() + b"\n" + image + recon + c.pack_code(code)


def _drawing(drawing_id: int, record: bytes) -> Drawing:
    head, _, rest = record.partition(b"\n")
    h, n = json.loads(head), b.IMAGE_BYTES
    return Drawing(drawing_id, h["student"], h["label"], h["model"], c.unpack_code(rest[2 * n:]), rest[:n],
                   rest[n:2 * n], h["at"])


class RedisStore:
    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        try:
            self._r = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
            self._r.ping()
        except ValueError:
            raise ClassError("CLASS_STORE is not a valid redis://host:port/db address.") from None
        except redis.RedisError as e:
            log.error("cannot reach the class store's Redis: %s", e)
            raise ClassError(c.UNAVAILABLE) from None
        self._scripts = {name: self._r.register_script(src) for name, src in (
            ("create", _CREATE), ("expire", _EXPIRE), ("set", _SET), ("end", _END), ("clear", _CLEAR), ("draw", _DRAW),
            ("guess", _GUESS))}

    def __repr__(self) -> str:
        return "RedisStore()"  # not the address: it may hold a password

    def _keys(self, room: str) -> list[str]:
        return [f"{PREFIX}:{{{room}}}:{part}" for part in _PARTS]

    def _run(self, script: str, room: str, *args) -> list:
        """Run a script over the room's keys; ClassError for a room that is gone or a wrong key."""
        argv = [repr(self._clock()), repr(b.IDLE_SECONDS), int((b.IDLE_SECONDS + TTL_MARGIN_S) * 1000), *args]
        try:
            out = self._scripts[script](keys=self._keys(room), args=argv)
        except redis.RedisError as e:
            log.error("class store (Redis): %s", e)
            raise ClassError(c.UNAVAILABLE) from None
        if not isinstance(out, list):
            return [out]
        status = out[0].decode()
        if status == "gone":
            raise ClassError(c.GONE)
        if status == "key":
            raise ClassError(c.NOT_LECTURER)
        if status in c.DRAWING_REFUSALS:
            raise ClassError(c.DRAWING_REFUSALS[status])
        if status == "full":
            raise c.guesses_full()
        return out

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except redis.RedisError as e:
            log.error("class store (Redis): %s", e)
            raise ClassError(c.UNAVAILABLE) from None

    def _meta(self, room: object, *fields: str) -> list | None:
        """The live room's meta fields (bytes), or None: one HMGET."""
        code = c.valid_room(room)
        if code is None:
            return None
        touched, *values = self._call(self._r.hmget, self._keys(code)[0], "touched", *fields)
        if touched is None or float(touched) < self._clock() - b.IDLE_SECONDS:
            return None
        return values

    def _lecturer_read(self, room: str, key: str, part: str) -> dict:
        """HGETALL of one of the room's hashes, in one transaction with the key check."""
        code = c.room_code(room)
        keys = self._keys(code)
        pipe = self._r.pipeline(transaction=True)
        pipe.hmget(keys[0], "touched", "key_hash")
        pipe.hgetall(keys[_PARTS.index(part)])
        (touched, key_hash), table = self._call(pipe.execute)
        if touched is None or float(touched) < self._clock() - b.IDLE_SECONDS:
            raise ClassError(c.GONE)
        if not c.key_matches(key, key_hash):
            raise ClassError(c.NOT_LECTURER)
        return table

    # -- rooms ------------------------------------------------------------------------------------------------

    def create(self) -> tuple[str, str]:
        self.expire()
        key = c.new_key()
        for _ in range(20):
            room = c.new_room()
            if self._run("create", room, c.key_hash(key))[0] == 1:
                return room, key
        raise ClassError("No free class code was found; try again.")

    def expire(self) -> int:
        """Delete the rooms the store's clock calls idle (Redis's TTL deletes them too, a margin later)."""
        rooms = [meta.decode()[len(PREFIX) + 2:-len("}:meta")]
                 for meta in self._call(lambda: list(self._r.scan_iter(match=f"{PREFIX}:{{*}}:meta", count=500)))]
        gone = 0
        for room in rooms:  # the check and the delete in one script: a room written meanwhile stays
            try:
                self._run("expire", room)
            except ClassError as e:
                if str(e) != c.GONE:
                    raise
                gone += 1
        return gone

    def exists(self, room: str) -> bool:
        try:
            return self._meta(room) is not None
        except ClassError:
            return False

    def is_lecturer(self, room: str, key: str) -> bool:
        try:
            meta = self._meta(room, "key_hash")
        except ClassError:
            return False
        return meta is not None and c.key_matches(key, meta[0])

    def end(self, room: str, key: str) -> None:
        self._run("end", c.room_code(room), c.lecturer_hash(key))

    def revision(self, room: str) -> int | None:
        meta = self._meta(room, "revision")
        return None if meta is None else int(meta[0])

    def _set(self, room: str, key: str, field: str, value: str | None) -> int:
        delete = "1" if value is None else "0"
        return int(self._run("set", c.room_code(room), c.lecturer_hash(key), field, value or "", delete)[1])

    def publish(self, room: str, key: str, view: dict[str, str]) -> int:
        return self._set(room, key, "view", c.view_json(view))

    def view(self, room: str) -> tuple[int, dict[str, str]] | None:
        meta = self._meta(room, "revision", "view")
        return None if meta is None else (int(meta[0]), json.loads(meta[1]))

    def ask(self, room: str, key: str, request: dict | None) -> int:
        return self._set(room, key, "request", c.request_json(request))

    def request(self, room: str) -> dict | None:
        meta = self._meta(room, "request")
        return None if meta is None or meta[0] is None else json.loads(meta[0])

    # -- drawings ---------------------------------------------------------------------------------------------

    def add_drawing(self, room: str, student: str, label: str | None, model: str, code, image: bytes,
                    recon: bytes) -> int:
        room_, student = c.room_code(room), c.student_id(student)
        record = _record(student, c.label_text(label), c.model_name(model), c.latent_code(code),
                         c.image_bytes(image, "drawing"), c.image_bytes(recon, "reconstruction"), self._clock())
        return int(self._run("draw", room_, student, record, b.MIN_SECONDS_BETWEEN_DRAWINGS,
                             b.MAX_DRAWINGS_PER_STUDENT, b.MAX_DRAWINGS_PER_ROOM)[1])

    def drawings(self, room: str, key: str, model: str | None = None) -> list[Drawing]:
        table = self._lecturer_read(room, key, "drawings")
        out = sorted((_drawing(int(i), rec) for i, rec in table.items()), key=lambda d: d.id)
        return out if model is None else [d for d in out if d.model == model]

    def pulse(self, room: str) -> tuple[int, int, int] | None:
        meta = self._meta(room, "revision", "drawings", "guesses")
        return None if meta is None else (int(meta[0]), int(meta[1]), int(meta[2]))

    def drawing_count(self, room: str) -> int | None:
        meta = self._meta(room, "drawings")
        return None if meta is None else int(meta[0])

    def clear_drawings(self, room: str, key: str) -> None:
        self._run("clear", c.room_code(room), c.lecturer_hash(key))

    # -- polls ------------------------------------------------------------------------------------------------

    def add_guess(self, room: str, student: str, poll: int, x: float, y: float) -> None:
        code, student, poll = c.room_code(room), c.student_id(student), c.poll_number(poll)
        x, y = c.coordinate(x), c.coordinate(y)
        self._run("guess", code, f"{poll}:{student}", f"{x!r} {y!r} {self._clock()!r}", b.MAX_GUESSES_PER_ROOM)

    def guesses(self, room: str, key: str, poll: int) -> list[Guess]:
        poll = c.poll_number(poll)
        prefix = f"{poll}:".encode()
        out = []
        for field, value in self._lecturer_read(room, key, "guesses").items():
            if field.startswith(prefix):
                x, y, at = (float(v) for v in value.split())
                out.append(Guess(field[len(prefix):].decode(), poll, x, y, at))
        return sorted(out, key=lambda g: (g.at, g.student))
