"""The class store in one SQLite file: every replica on one machine opens the same file (WAL, busy_timeout).

A connection is lent to one thread at a time from a small pool (Streamlit runs every script run in a new
thread; a forked process opens its own). A write that reads counts first (a drawing's rate limit, a room's
cap) runs in one BEGIN IMMEDIATE transaction, so two replicas cannot both take the last place. revision() is
one SELECT by primary key.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from . import bounds as b
from . import checks as c
from .store import ClassError, Drawing, Guess

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    room TEXT PRIMARY KEY, key_hash BLOB NOT NULL, revision INTEGER NOT NULL, view TEXT NOT NULL,
    request TEXT, touched REAL NOT NULL, drawings INTEGER NOT NULL, guesses INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS drawings (
    id INTEGER PRIMARY KEY AUTOINCREMENT, room TEXT NOT NULL, student TEXT NOT NULL, label TEXT,
    model TEXT NOT NULL, code BLOB NOT NULL, image BLOB NOT NULL, recon BLOB NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS drawings_of_room ON drawings (room, id);
CREATE TABLE IF NOT EXISTS students (
    room TEXT NOT NULL, student TEXT NOT NULL, drawings INTEGER NOT NULL, last REAL NOT NULL,
    PRIMARY KEY (room, student)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS guesses (
    room TEXT NOT NULL, poll INTEGER NOT NULL, student TEXT NOT NULL, x REAL NOT NULL, y REAL NOT NULL,
    at REAL NOT NULL, PRIMARY KEY (room, poll, student)) WITHOUT ROWID;
"""
ROOM_TABLES = ("drawings", "students", "guesses", "rooms")
MAX_IDLE_CONNECTIONS = 8  # kept open for the next caller; more at once are opened and closed as needed


class _Gone(ClassError):
    """The room is gone: what the transaction did (deleting an idle room's data) is kept."""


class SQLiteStore:
    def __init__(self, path: str | os.PathLike, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._inherited: list[sqlite3.Connection] = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connection() as db:
                db.execute("PRAGMA journal_mode=WAL")  # persistent in the file; outside a transaction, as SQLite asks
                db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as e:
            log.error("cannot create the class store %s: %s", self.path, e)
            raise ClassError(c.UNAVAILABLE) from None

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # -- connections and transactions -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=b.SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                             check_same_thread=False)  # one thread at a time: it is lent from the pool
        db.execute(f"PRAGMA busy_timeout={int(b.SQLITE_BUSY_TIMEOUT_MS)}")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across a crash of the app, not of the machine
        db.execute(f"PRAGMA journal_size_limit={int(b.SQLITE_WAL_LIMIT_BYTES)}")
        return db

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection lent to this thread: Streamlit runs every script run in a thread of its own, so a
        connection per thread would be a new one each rerun; the pool keeps a few idle ones instead."""
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's connections are not its to use or close
                self._inherited, self._idle, self._pid = self._inherited + self._idle, [], os.getpid()
            db = self._idle.pop() if self._idle else None
        db = db or self._connect()
        try:
            yield db
        finally:
            if db.in_transaction:  # a failed ROLLBACK: this connection is not lent again
                db.close()
            else:
                with self._lock:
                    keep = len(self._idle) < MAX_IDLE_CONNECTIONS and self._pid == os.getpid()
                    if keep:
                        self._idle.append(db)
                if not keep:
                    db.close()

    @contextlib.contextmanager
    def _tx(self, immediate: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction (BEGIN IMMEDIATE: the write lock first, so counts read inside it stay true)."""
        try:
            with self._connection() as db:
                db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
                try:
                    yield db
                except _Gone:
                    db.execute("COMMIT")
                    raise
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
        except sqlite3.Error as e:
            log.error("class store %s: %s", self.path, e)
            raise ClassError(c.UNAVAILABLE) from None

    def _read(self, sql: str, args: tuple) -> list[tuple]:
        try:
            with self._connection() as db:
                return db.execute(sql, args).fetchall()
        except sqlite3.Error as e:
            log.error("class store %s: %s", self.path, e)
            raise ClassError(c.UNAVAILABLE) from None

    def _stale(self, touched: float) -> bool:
        return touched < self._clock() - b.IDLE_SECONDS

    def _delete(self, db: sqlite3.Connection, room: str) -> None:
        for table in ROOM_TABLES:
            db.execute(f"DELETE FROM {table} WHERE room = ?", (room,))

    def _live(self, db: sqlite3.Connection, room: str) -> tuple:
        """The room's row (key_hash, revision, drawings, guesses) inside a write; an idle one is deleted now."""
        row = db.execute("SELECT key_hash, revision, drawings, guesses, touched FROM rooms WHERE room = ?",
                         (room,)).fetchone()
        if row is not None and self._stale(row[4]):
            self._delete(db, room)
            row = None
        if row is None:
            raise _Gone(c.GONE)
        return row

    def _lecturer(self, db: sqlite3.Connection, room: str, key: str) -> tuple:
        row = self._live(db, room)
        if not c.key_matches(key, row[0]):
            raise ClassError(c.NOT_LECTURER)
        return row

    def _bump(self, db: sqlite3.Connection, room: str, **columns) -> int:
        sets = "".join(f", {name} = ?" for name in columns)
        db.execute(f"UPDATE rooms SET revision = revision + 1, touched = ?{sets} WHERE room = ?",
                   (self._clock(), *columns.values(), room))
        return db.execute("SELECT revision FROM rooms WHERE room = ?", (room,)).fetchone()[0]

    # -- rooms ------------------------------------------------------------------------------------------------

    def create(self) -> tuple[str, str]:
        self.expire()
        key = c.new_key()
        with self._tx() as db:
            for _ in range(20):
                room = c.new_room()
                if db.execute("SELECT 1 FROM rooms WHERE room = ?", (room,)).fetchone() is None:
                    db.execute("INSERT INTO rooms VALUES (?, ?, 1, '{}', NULL, ?, 0, 0)",
                               (room, c.key_hash(key), self._clock()))
                    return room, key
        raise ClassError("No free class code was found; try again.")

    def expire(self) -> int:
        with self._tx() as db:
            stale = [r for (r,) in db.execute("SELECT room FROM rooms WHERE touched < ?",
                                              (self._clock() - b.IDLE_SECONDS,))]
            for room in stale:
                self._delete(db, room)
        return len(stale)

    def _row(self, room: object, columns: str) -> tuple | None:
        code = c.valid_room(room)
        if code is None:
            return None
        rows = self._read(f"SELECT touched, {columns} FROM rooms WHERE room = ?", (code,))
        if not rows or self._stale(rows[0][0]):
            return None
        return rows[0][1:]

    def exists(self, room: str) -> bool:
        try:
            return self._row(room, "1") is not None
        except ClassError:
            return False

    def is_lecturer(self, room: str, key: str) -> bool:
        try:
            row = self._row(room, "key_hash")
        except ClassError:
            return False
        return row is not None and c.key_matches(key, row[0])

    def end(self, room: str, key: str) -> None:
        code = c.room_code(room)
        with self._tx() as db:
            self._lecturer(db, code, key)
            self._delete(db, code)

    def revision(self, room: str) -> int | None:
        row = self._row(room, "revision")
        return None if row is None else row[0]

    def publish(self, room: str, key: str, view: dict[str, str]) -> int:
        code, text = c.room_code(room), c.view_json(view)
        with self._tx() as db:
            self._lecturer(db, code, key)
            return self._bump(db, code, view=text)

    def view(self, room: str) -> tuple[int, dict[str, str]] | None:
        row = self._row(room, "revision, view")
        return None if row is None else (row[0], json.loads(row[1]))

    def ask(self, room: str, key: str, request: dict | None) -> int:
        code, text = c.room_code(room), c.request_json(request)
        with self._tx() as db:
            self._lecturer(db, code, key)
            return self._bump(db, code, request=text)

    def request(self, room: str) -> dict | None:
        row = self._row(room, "request")
        return None if row is None or row[0] is None else json.loads(row[0])

    # -- drawings ---------------------------------------------------------------------------------------------

    def add_drawing(self, room: str, student: str, label: str | None, model: str, code, image: bytes,
                    recon: bytes) -> int:
        room_, student = c.room_code(room), c.student_id(student)
        label, model, values = c.label_text(label), c.model_name(model), c.latent_code(code)
        image, recon = c.image_bytes(image, "drawing"), c.image_bytes(recon, "reconstruction")
        with self._tx() as db:
            row = self._live(db, room_)
            mine = db.execute("SELECT drawings, last FROM students WHERE room = ? AND student = ?",
                              (room_, student)).fetchone()
            now = self._clock()
            refusal = c.drawing_refusal(mine[0] if mine else 0, mine[1] if mine else None, row[2], now)
            if refusal is not None:
                raise ClassError(c.DRAWING_REFUSALS[refusal])
            cur = db.execute("INSERT INTO drawings (room, student, label, model, code, image, recon, at) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (room_, student, label, model, c.pack_code(values), image, recon, now))
            db.execute("INSERT INTO students VALUES (?, ?, 1, ?) ON CONFLICT (room, student) "
                       "DO UPDATE SET drawings = drawings + 1, last = excluded.last", (room_, student, now))
            db.execute("UPDATE rooms SET drawings = drawings + 1, touched = ? WHERE room = ?", (now, room_))
            return cur.lastrowid

    def drawings(self, room: str, key: str, model: str | None = None) -> list[Drawing]:
        code = c.room_code(room)
        with self._tx(immediate=False) as db:
            self._lecturer(db, code, key)
            sql = "SELECT id, student, label, model, code, image, recon, at FROM drawings WHERE room = ?"
            args: tuple = (code,)
            if model is not None:
                sql, args = sql + " AND model = ?", (code, model)
            rows = db.execute(sql + " ORDER BY id", args).fetchall()
        return [Drawing(i, s, lab, m, c.unpack_code(z), bytes(im), bytes(re), at)
                for i, s, lab, m, z, im, re, at in rows]

    def drawing_count(self, room: str) -> int | None:
        row = self._row(room, "drawings")
        return None if row is None else row[0]

    def pulse(self, room: str) -> tuple[int, int, int] | None:
        row = self._row(room, "revision, drawings, guesses")
        return None if row is None else (int(row[0]), int(row[1]), int(row[2]))

    def clear_drawings(self, room: str, key: str) -> None:
        code = c.room_code(room)
        with self._tx() as db:
            self._lecturer(db, code, key)
            db.execute("DELETE FROM drawings WHERE room = ?", (code,))
            db.execute("DELETE FROM students WHERE room = ?", (code,))
            self._bump(db, code, drawings=0)

    # -- polls ------------------------------------------------------------------------------------------------

    def add_guess(self, room: str, student: str, poll: int, x: float, y: float) -> None:
        code, student, poll = c.room_code(room), c.student_id(student), c.poll_number(poll)
        x, y = c.coordinate(x), c.coordinate(y)
        with self._tx() as db:
            row = self._live(db, code)
            now = self._clock()
            known = db.execute("SELECT 1 FROM guesses WHERE room = ? AND poll = ? AND student = ?",
                               (code, poll, student)).fetchone()
            if known is None and row[3] >= b.MAX_GUESSES_PER_ROOM:
                raise c.guesses_full()
            db.execute("INSERT OR REPLACE INTO guesses VALUES (?, ?, ?, ?, ?, ?)", (code, poll, student, x, y, now))
            db.execute("UPDATE rooms SET guesses = guesses + ?, touched = ? WHERE room = ?",
                       (int(known is None), now, code))

    def guesses(self, room: str, key: str, poll: int) -> list[Guess]:
        code, poll = c.room_code(room), c.poll_number(poll)
        with self._tx(immediate=False) as db:
            self._lecturer(db, code, key)
            rows = db.execute("SELECT student, poll, x, y, at FROM guesses WHERE room = ? AND poll = ? "
                              "ORDER BY at, student", (code, poll)).fetchall()
        return [Guess(*r) for r in rows]
