"""A student of bench/class_replay.py without a browser: a Streamlit session over a websocket that replays one real
student page's recorded messages (bench/protocol_student.py's Student), keeps its address as its browser would, and
answers the lecturer's requests with the recorded drawing. The server pushes the lecturer's moves (its follow
push reruns the page's fragments itself); a page the server tells to poll instead (an auto_rerun message: no push
on that server) sends that fragment's rerun at the interval it names, as a browser would."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol_student import Student  # noqa: E402


class Pupil(Student):
    """A Student of bench/protocol_student.py that also keeps its address (page_info_changed), an auto-rerun the
    server asks for, and the request its page shows; its reruns carry its current address, as a browser's."""

    def __init__(self, n: int, url: str, timeout: float, room: str):
        super().__init__(n, url, timeout)
        self.qs = f"class={room}"
        self.addresses: list[tuple[float, str]] = []  # (time.time(), query string) as received
        self.fragment: tuple[str, float] | None = None  # (fragment id, interval s) of the auto-rerun
        self.asked: list[tuple[float, str]] = []  # (time.time(), the request's line) as received
        self.sent_at: list[float] = []
        self.sent_ok = 0
        self.pad_shown = 0  # runs that drew the pad's drawing "as the model sees it"

    def _on_delta(self, delta) -> None:
        super()._on_delta(delta)
        el = delta.new_element if delta.WhichOneof("type") == "new_element" else None
        body = el.markdown.body if el is not None and el.WhichOneof("type") == "markdown" else ""
        if "lecturer asks" in body and (not self.asked or self.asked[-1][1] != body):
            self.asked.append((time.time(), body))  # a new request (every run draws it again)
        if el is not None and el.WhichOneof("type") == "imgs" and any(
                i.caption == "as the model sees it" for i in el.imgs.imgs):
            self.pad_shown += 1  # the drawing is in: the page enables Send

    def _on_other(self, kind: str, msg) -> None:
        if kind == "page_info_changed":
            self.qs = msg.page_info_changed.query_string
            self.addresses.append((time.time(), self.qs))
        elif kind == "auto_rerun":
            self.fragment = (msg.auto_rerun.fragment_id, msg.auto_rerun.interval)

    def here(self, raw: bytes, fragment_id: str | None = None) -> bytes:
        """A recorded message as this page would send it now: its address, and the fragment the server named."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg.FromString(raw)
        if msg.WhichOneof("type") != "rerun_script":
            return raw
        msg.rerun_script.query_string = self.qs
        # This page's cache, not the recorded browser's: for a hash listed here the server sends only a reference,
        # which a page that never received that message could not resolve.
        del msg.rerun_script.cached_message_hashes[:]
        msg.rerun_script.cached_message_hashes.extend(sorted(self.cached))
        if fragment_id:
            msg.rerun_script.fragment_id = fragment_id
        return msg.SerializeToString()


async def draw(s: Pupil, rec: dict, rng: random.Random) -> None:
    """Answer the request: the recorded drawing and Send, 0.5-5 s after it showed (the follow goes on)."""
    await asyncio.sleep(rng.uniform(0.5, 5.0))
    shown = s.pad_shown
    await s.act([s.here(m) for m in rec["draw"]])
    # A person taps Send once the page shows the drawing (Send is disabled until then); the run that act() saw end
    # may be another (a push), with the drawing's run still to come.
    deadline = time.monotonic() + s.timeout
    while s.pad_shown == shown and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    s.sent_at.append(time.time())
    before = sum("Sent: your" in a for a in s.alerts)
    await s.act([s.here(m) for m in rec["send"]])
    deadline = time.monotonic() + s.timeout  # a poll's run may have ended first: wait for the page's answer
    while sum("Sent: your" in a for a in s.alerts) == before and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    s.sent_ok += sum("Sent: your" in a for a in s.alerts) > before


async def pupil(n: int, drawer: bool, url: str, room: str, rec: dict, args, out: dict, start_at: float,
                stop: asyncio.Event) -> None:
    rng = random.Random(args.seed * 1000 + n)
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    s = Pupil(n, url, args.action_timeout, room)
    out["pupils"].append(s)
    drawing = None
    try:
        await s.connect()
        await s.act([s.here(m) for m in rec["page load"]])
        out["joined"] += 1
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=s.fragment[1] if s.fragment else 1.0)
            if drawer and len(s.asked) > len(s.sent_at) and (drawing is None or drawing.done()):
                drawing = asyncio.create_task(draw(s, rec, rng))
            if s.fragment is not None and rec["poll"] is not None and not stop.is_set():
                await s.act([s.here(rec["poll"], s.fragment[0])])
        if drawing is not None:
            await drawing
        await s.close()
    except Exception as e:
        out["errors"].append(f"student {n}: {type(e).__name__}: {str(e)[:200]}")
    out["errors"] += [f"student {n}: {p}" for p in s.problems]
