"""The class store (dashboard/class_store), each test against both backends: SQLite in a tmp file and a real
redis-server started for the module (skipped when Debian's redis-server is absent, except in CI, where
LATENT_EXPLORER_REQUIRE_REDIS=1 makes that a failure).

What must hold: only the lecturer's key changes a room or reads what students sent; every bound of bounds.py
is enforced with one line; a room idle for CLASS_IDLE_HOURS is gone with its data (a clock the test moves);
two processes (replicas) writing at once never pass a cap and see each other's writes.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from dashboard import paths
from dashboard.class_store import ClassError, ClassStore, Drawing, RedisStore, SQLiteStore, bounds, open_store
from dashboard.class_store.redis_store import PREFIX
from redis_server import REQUIRE_ENV, redis_server, redis_server_binary

IMAGE = bytes(range(256)) * 3 + bytes(16)  # 784 distinct-ish bytes: a round trip that reorders them fails
RECON = bytes(reversed(IMAGE))
CODE = (0.1, -2.5, 1e-300, 3.0)


class Clock:
    """The store's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    if redis_server_binary() is None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but redis-server is not installed")
        pytest.skip("redis-server is not installed (apt-get install redis-server): the Redis backend is untested")
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


class Backend:
    """One backend under test: a store on the test's clock, and what it holds of a room, read around the API."""

    def __init__(self, kind: str, tmp_path, request) -> None:
        self.kind = kind
        if kind == "sqlite":
            self.target = f"sqlite:///{tmp_path / 'class.sqlite3'}"
        else:
            self.target = request.getfixturevalue("redis_url")
            redis.Redis.from_url(self.target).flushdb()
        self.clock = Clock()
        self.store = self.open()

    def open(self, clock=None):
        return open_store({"CLASS_STORE": self.target}, clock=clock or self.clock)

    def raw_rows(self, room: str) -> list:
        """Everything stored for the room, as raw values (rows or Redis keys' contents)."""
        if self.kind == "sqlite":
            db = sqlite3.connect(self.target[len("sqlite:///"):])
            try:
                return [row for table in ("rooms", "drawings", "students", "guesses")
                        for row in db.execute(f"SELECT * FROM {table} WHERE room = ?", (room,))]
            finally:
                db.close()
        r = redis.Redis.from_url(self.target)
        return [r.dump(k) for k in r.keys(f"{PREFIX}:{{{room}}}:*")]


@pytest.fixture(params=["sqlite", "redis"])
def backend(request, tmp_path):
    return Backend(request.param, tmp_path, request)


def draw(store, room, student="s1", **kw):
    args = dict(label="7", model="mnist-2d", code=CODE, image=IMAGE, recon=RECON) | kw
    return store.add_drawing(room, student, **args)


def test_create_join_and_the_key(backend):
    s = backend.store
    assert isinstance(s, ClassStore)
    room, key = s.create()
    assert len(room) == bounds.ROOM_LENGTH and set(room) <= set(bounds.ROOM_ALPHABET)
    assert not set(room) & set("0O1IL") and len(key) >= 32
    assert s.exists(room) and s.exists(room.lower()) and s.exists(f" {room} ")
    assert s.revision(room) == 1 and s.view(room) == (1, {}) and s.request(room) is None and s.drawing_count(room) == 0
    assert s.is_lecturer(room, key) and s.is_lecturer(room.lower(), key)
    other_room, other_key = s.create()
    assert other_room != room
    for bad in ("", None, key[:-1], key + "x", other_key, "x" * 10_000, 7):
        assert s.is_lecturer(room, bad) is False
    # Only a hash of the key is stored: the key itself is nowhere in what the store holds.
    assert backend.raw_rows(room) and key.encode() not in repr(backend.raw_rows(room)).encode()
    # A second store on the same file or server (another replica) sees the same room.
    again = backend.open()
    assert again.is_lecturer(room, key) and again.revision(room) == 1


def test_a_student_without_the_key_changes_and_reads_nothing(backend):
    s = backend.store
    room, key = s.create()
    _, other_key = s.create()
    s.publish(room, key, {"model": "mnist-2d"})
    draw(s, room)
    s.add_guess(room, "s1", 0, 1.0, 2.0)
    for bad in (None, "", "wrong", other_key, key[:-1]):
        for act in (lambda k: s.publish(room, k, {"model": "other"}), lambda k: s.ask(room, k, {"kind": "digit"}),
                    lambda k: s.drawings(room, k), lambda k: s.guesses(room, k, 0),
                    lambda k: s.clear_drawings(room, k), lambda k: s.end(room, k)):
            with pytest.raises(ClassError, match="Only the lecturer") as e:
                act(bad)
            assert "\n" not in str(e.value)
    assert s.view(room) == (2, {"model": "mnist-2d"}) and s.request(room) is None
    assert s.drawing_count(room) == 1 and len(s.drawings(room, key)) == 1 and len(s.guesses(room, key, 0)) == 1


def test_revision_bumps_on_every_lecturer_change_only(backend):
    s, clock = backend.store, backend.clock
    room, key = s.create()
    assert s.publish(room, key, {"a": "1", "b": "x y"}) == 2 == s.revision(room)
    assert s.view(room) == (2, {"a": "1", "b": "x y"})
    s.publish(room, key, {"z": "1", "a": "2"})
    assert list(s.view(room)[1]) == ["z", "a"]  # the lecturer's order, as the address had it
    poll = {"kind": "poll", "poll": 3, "image": 42, "model": "mnist-2d"}
    assert s.ask(room, key, poll) == 4 and s.request(room) == poll
    clock.now += 5
    assert s.pulse(room) == (4, 0, 0)
    draw(s, room)
    s.add_guess(room, "s2", 3, 0.5, -0.5)
    assert s.revision(room) == 4  # what students send does not move the followers
    assert s.pulse(room) == (4, 1, 1)  # but the lecturer's page, which shows the counts, sees them move
    s.add_guess(room, "s2", 3, 0.75, -0.5)
    assert s.pulse(room) == (4, 1, 1) and s.pulse("nope!") is None and s.pulse("AAAAA") is None
    assert s.ask(room, key, None) == 5 and s.request(room) is None
    s.clear_drawings(room, key)
    assert s.revision(room) == 6 and s.drawing_count(room) == 0 and s.drawings(room, key) == []
    assert s.view(room) == (6, {"z": "1", "a": "2"}) and s.pulse(room) == (6, 0, 1)
    s.end(room, key)
    assert s.pulse(room) is None


def test_drawings_round_trip_and_filter_by_model(backend):
    s, clock = backend.store, backend.clock
    room, key = s.create()
    first = draw(s, room, "s1")
    clock.now += 1
    second = draw(s, room, "s2", label=None, model="fashion-16d", code=[0.25] * 16)
    assert second > first and s.drawing_count(room) == 2
    got = s.drawings(room, key)
    assert got[0] == Drawing(first, "s1", "7", "mnist-2d", CODE, IMAGE, RECON, 1_000_000.0)
    assert got[1].label is None and got[1].code == (0.25,) * 16 and got[1].at == 1_000_001.0
    assert [d.id for d in s.drawings(room, key, model="fashion-16d")] == [second]
    assert s.drawings(room, key, model="nothing") == []


@pytest.mark.parametrize("view, why", [
    ({f"k{i}": "v" for i in range(bounds.MAX_VIEW_PARAMS + 1)}, "at most"),
    ({"k": "v" * (bounds.MAX_VIEW_VALUE_CHARS + 1)}, "short text"),
    ({f"k{i}": "v" * 1000 for i in range(10)}, "too large"),
    ({"k": 1}, "short text"),
    ({"": "v"}, "short text"),
    ("model=x", "at most"),
])
def test_an_oversize_or_odd_view_is_refused(backend, view, why):
    s = backend.store
    room, key = s.create()
    with pytest.raises(ClassError, match=why):
        s.publish(room, key, view)
    assert s.view(room) == (1, {})


def test_what_a_student_sends_is_checked(backend):
    s = backend.store
    room, key = s.create()
    bad_drawings = [
        dict(image=IMAGE[:-1]), dict(recon=IMAGE + b"x"), dict(image="x" * 784), dict(code=[]),
        dict(code=[0.0] * (bounds.MAX_CODE_DIMS + 1)), dict(code=[0.0, math.nan]), dict(code=[math.inf]),
        dict(code=["a"]), dict(code=None), dict(label="x" * (bounds.MAX_LABEL_CHARS + 1)), dict(label="a\nb"),
        dict(model=""), dict(model=None),
    ]
    for kw in bad_drawings:
        with pytest.raises(ClassError):
            draw(s, room, **kw)
    for student in ("", "a b", "x" * 65, None, "é", "a/b"):
        with pytest.raises(ClassError, match="student id"):
            draw(s, room, student)
        with pytest.raises(ClassError, match="student id"):
            s.add_guess(room, student, 0, 0.0, 0.0)
    for poll, x, y in ((-1, 0, 0), (bounds.MAX_POLL + 1, 0, 0), (True, 0, 0), ("1", 0, 0), (0, math.nan, 0),
                       (0, 0, math.inf), (0, 2 * bounds.MAX_COORD, 0), (0, "x", 0)):
        with pytest.raises(ClassError):
            s.add_guess(room, "s1", poll, x, y)
    for request in ({"kind": "shout"}, {"label": "7"}, {"kind": "poll"}, {"kind": "poll", "poll": -2},
                    {"kind": "digit", "label": ["7"]}, {"kind": "digit", "x": "y" * 200},
                    {"kind": "digit", "v": math.nan}, "digit"):
        with pytest.raises(ClassError):
            s.ask(room, key, request)
    assert s.drawing_count(room) == 0 and s.guesses(room, key, 0) == [] and s.revision(room) == 1


@pytest.mark.parametrize("room", ["ABCD", "ABCDEF", "ABCD0", "ABCDO", "ABCD1", "ABCDI", "ABCDL", "AB CD", "", None,
                                  12345, "ABC'D", "ABCDE;"])
def test_a_bad_room_code_is_refused_before_any_query(backend, room):
    s = backend.store
    assert s.revision(room) is None and s.view(room) is None and s.request(room) is None
    assert s.drawing_count(room) is None and not s.exists(room) and not s.is_lecturer(room, "k")
    for act in (lambda: s.publish(room, "k", {}), lambda: draw(s, room), lambda: s.add_guess(room, "s1", 0, 0, 0),
                lambda: s.end(room, "k"), lambda: s.drawings(room, "k")):
        with pytest.raises(ClassError, match="class code is 5 letters"):
            act()


def test_a_room_that_does_not_exist(backend):
    s = backend.store
    assert s.revision("ABCDE") is None and not s.exists("ABCDE")
    for act in (lambda: s.publish("ABCDE", "k", {}), lambda: draw(s, "ABCDE"),
                lambda: s.add_guess("ABCDE", "s1", 0, 0, 0), lambda: s.end("ABCDE", "k")):
        with pytest.raises(ClassError, match="has ended"):
            act()


def test_rate_limits_and_caps(backend, monkeypatch):
    s, clock = backend.store, backend.clock
    room, key = s.create()
    draw(s, room, "s1")
    clock.now += bounds.MIN_SECONDS_BETWEEN_DRAWINGS - 0.1
    with pytest.raises(ClassError, match="Wait a moment"):
        draw(s, room, "s1")
    draw(s, room, "s2")  # the limit is per student
    for _ in range(bounds.MAX_DRAWINGS_PER_STUDENT - 1):
        clock.now += bounds.MIN_SECONDS_BETWEEN_DRAWINGS
        draw(s, room, "s1")
    clock.now += 60
    with pytest.raises(ClassError, match=f"most drawings one student can \\({bounds.MAX_DRAWINGS_PER_STUDENT}\\)"):
        draw(s, room, "s1")
    assert s.drawing_count(room) == bounds.MAX_DRAWINGS_PER_STUDENT + 1
    s.clear_drawings(room, key)  # a fresh round: everyone may draw again
    draw(s, room, "s1")

    monkeypatch.setattr(bounds, "MAX_DRAWINGS_PER_ROOM", 3)
    draw(s, room, "s2")
    draw(s, room, "s3")
    with pytest.raises(ClassError, match="all the drawings it can take"):
        draw(s, room, "s4")
    assert s.drawing_count(room) == 3

    monkeypatch.setattr(bounds, "MAX_GUESSES_PER_ROOM", 2)
    s.add_guess(room, "s1", 1, 0.0, 0.0)
    s.add_guess(room, "s2", 1, 0.0, 0.0)
    clock.now += 1
    s.add_guess(room, "s1", 1, 5.0, -5.0)  # a second guess replaces the first, even with the room full
    with pytest.raises(ClassError, match="all the guesses"):
        s.add_guess(room, "s3", 1, 0.0, 0.0)
    with pytest.raises(ClassError, match="all the guesses"):
        s.add_guess(room, "s1", 2, 0.0, 0.0)
    got = s.guesses(room, key, 1)
    assert [(g.student, g.x, g.y, g.at) for g in got] == [("s2", 0.0, 0.0, clock.now - 1), ("s1", 5.0, -5.0, clock.now)]
    assert s.guesses(room, key, 2) == []


def test_an_idle_room_is_gone_with_its_data(backend):
    s, clock = backend.store, backend.clock
    room, key = s.create()
    kept, kept_key = s.create()
    draw(s, room)
    s.add_guess(room, "s1", 0, 1.0, 1.0)
    clock.now += bounds.IDLE_SECONDS - 10
    s.publish(kept, kept_key, {"a": "b"})  # a write keeps a room alive
    assert s.revision(room) == 1
    clock.now += 20  # `room` idle for longer than CLASS_IDLE_HOURS; `kept` written 20 s ago
    assert s.revision(room) is None and not s.exists(room) and s.view(room) is None
    assert not s.is_lecturer(room, key) and s.drawing_count(room) is None
    with pytest.raises(ClassError, match="has ended"):
        s.publish(room, key, {})
    with pytest.raises(ClassError, match="has ended"):
        draw(s, room, "s2")
    assert backend.raw_rows(room) == []  # deleted at that access
    assert s.revision(kept) == 2

    clock.now += bounds.IDLE_SECONDS + 1  # `kept` idle too: a create sweeps it away without anyone asking
    assert backend.raw_rows(kept)
    s.create()
    assert backend.raw_rows(kept) == []


def test_end_deletes_everything_of_the_room(backend):
    s = backend.store
    room, key = s.create()
    other, other_key = s.create()
    draw(s, room)
    draw(s, other)
    s.add_guess(room, "s1", 0, 1.0, 1.0)
    s.end(room, key)
    assert backend.raw_rows(room) == [] and s.revision(room) is None
    with pytest.raises(ClassError, match="has ended"):
        s.end(room, key)
    assert s.drawing_count(other) == 1 and s.is_lecturer(other, other_key)


def _replica(target: str, room: str, key: str, students: int, views: int, cap: int, out) -> None:
    """Another process (a replica): its own store on the same file or server, drawing until the room is full
    and publishing a view after each drawing; sends back how many of its drawings were taken."""
    bounds.MAX_DRAWINGS_PER_ROOM = cap
    store = open_store({"CLASS_STORE": target})
    taken = 0
    for i in range(students):
        if i < views:
            store.publish(room, key, {"step": str(i)})
        try:
            draw(store, room, f"a{i}")
            taken += 1
        except ClassError as e:
            assert "all the drawings" in str(e), e
    out.put(taken)


def test_two_processes_share_one_store(backend, monkeypatch):
    s = backend.open(clock=time.time)  # the other process's store keeps real time
    room, key = s.create()
    cap, students, views = 30, 25, 20
    monkeypatch.setattr(bounds, "MAX_DRAWINGS_PER_ROOM", cap)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    other = ctx.Process(target=_replica, args=(backend.target, room, key, students, views, cap, out))
    other.start()
    seen = [s.revision(room)]
    while seen[-1] == 1 and other.is_alive():  # until its first publish: then both write at once
        seen.append(s.revision(room))
        time.sleep(0.005)
    taken = 0
    for i in range(students):  # this process draws too, and reads the revision the other one moves
        try:
            draw(s, room, f"b{i}")
            taken += 1
        except ClassError as e:
            assert "all the drawings" in str(e), e
        seen.append(s.revision(room))
    other.join(60)
    assert other.exitcode == 0
    taken += out.get(timeout=10)
    assert taken == cap == s.drawing_count(room) == len(s.drawings(room, key))  # never past the cap
    assert {d.student[0] for d in s.drawings(room, key)} == {"a", "b"}
    assert seen == sorted(seen) and s.revision(room) == 1 + views
    assert s.view(room) == (1 + views, {"step": str(views - 1)})


def test_threads_of_one_process_share_one_store(backend):
    s = backend.store
    room, key = s.create()
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda i: draw(s, room, f"t{i}"), range(40)))
    assert len(set(ids)) == 40 and s.drawing_count(room) == 40


def test_open_store_picks_the_backend_from_class_store(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_EXPLORER_MODELS_DIR", str(tmp_path / "models"))
    store = open_store({})
    assert isinstance(store, SQLiteStore) and store.path == paths.class_store_path() == \
        tmp_path / "models" / "_class" / "class.sqlite3"
    assert store.path.is_file() and isinstance(open_store({"CLASS_STORE": " "}), SQLiteStore)
    assert open_store({"CLASS_STORE": f"sqlite:///{tmp_path / 'x.db'}"}).path == tmp_path / "x.db"
    for bad in ("mysql://h/db", "sqlite:///", "sqlite://x", "redis", "/tmp/x.db"):
        with pytest.raises(ClassError, match="CLASS_STORE must be") as e:
            open_store({"CLASS_STORE": bad})
        assert "\n" not in str(e.value)
    for unreachable in ("redis://127.0.0.1:1/0", "redis://127.0.0.1:notaport/0"):
        with pytest.raises(ClassError) as e:
            RedisStore(unreachable)
        assert "127.0.0.1" not in str(e.value) and "\n" not in str(e.value)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ClassError, match="unavailable") as e:
        open_store({"CLASS_STORE": f"sqlite:///{blocker / 'class.db'}"})
    assert str(tmp_path) not in str(e.value)


def _forked_draw(store, room: str, out) -> None:
    parents = {id(db) for db in store._idle}  # SQLite forbids using a connection across a fork
    drawing = draw(store, room, "forked")
    out.put((drawing, bool(parents), parents.isdisjoint(id(db) for db in store._idle)))


def test_a_forked_process_opens_connections_of_its_own(tmp_path):
    s = SQLiteStore(tmp_path / "class.sqlite3")
    room, key = s.create()  # the parent's pool now holds a connection
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_forked_draw, args=(s, room, out))
    child.start()
    child.join(60)
    assert child.exitcode == 0 and out.get(timeout=10) == (1, True, True)  # its own connection, not the parent's
    assert [d.student for d in s.drawings(room, key)] == ["forked"] and s.publish(room, key, {}) == 2
