"""A student without a browser: one Streamlit session over a websocket, replaying a real page's messages.

bench/load_protocol.py's students and trainer, bench/class_replay.py's class and bench/class_pupil.py's pupils are
this: they send what a recorded page sent (page_actions.Wire, load_protocol.Recording), follow the runs it causes
and download every image those runs put on the page, as the browser would.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from page_actions import RUN_DONE

RUN_FAILED = 1  # ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR
MAX_CONNECTIONS = 6  # a browser's limit of HTTP/1.1 connections to one host


class Student:
    """One Streamlit session over a websocket: sends recorded messages, follows the runs they cause."""

    def __init__(self, n: int, url: str, timeout: float):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.n, self.timeout, self._forward = n, timeout, ForwardMsg
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.ws_url = f"ws://{parts.hostname}:{parts.port}/_stcore/stream"
        self.finished = 0  # successful script_finished messages so far
        self.changed = asyncio.Event()
        self.fetches: list[asyncio.Task] = []
        self.problems: list[str] = []
        self.cached: set[str] = set()  # hashes of the cacheable messages this page received
        self.images = 0
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []  # kept-alive connections for _get
        self.morph_caption: str | None = None  # the last caption of the morph's GIF
        self.alerts: list[str] = []  # the text of every st.success / st.info / st.error shown
        self.cookie = ""  # behind scripts/serve_class.sh: the replica this session is pinned to, as a browser keeps it

    async def connect(self) -> None:
        import websockets

        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                           open_timeout=self.timeout,
                                           additional_headers={"Cookie": self.cookie} if self.cookie else None)
        # HAProxy pins the session with a cookie in the handshake's answer; the media files of the session's
        # runs live in that replica, so the image downloads must carry it.
        pins = [v.split(";", 1)[0] for v in self.ws.response.headers.get_all("Set-Cookie")
                if v.startswith("LE_REPLICA=")]
        self.cookie = pins[0] if pins else self.cookie  # a session that sent its pin keeps it
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                msg = self._forward.FromString(raw)
                if msg.metadata.cacheable and msg.hash:  # what a browser keeps and lists with its next reruns
                    self.cached.add(msg.hash)
                kind = msg.WhichOneof("type")
                if kind == "delta":
                    self._on_delta(msg.delta)
                elif kind == "script_finished":
                    if msg.script_finished in RUN_DONE:
                        self.finished += 1
                    elif msg.script_finished == RUN_FAILED:
                        self.problems.append("a run failed to compile")
                    self.changed.set()
                else:
                    self._on_other(kind, msg)
        except Exception as e:  # a dropped connection
            self.problems.append(f"connection: {type(e).__name__}: {str(e)[:120]}")
            self.changed.set()

    def _on_other(self, kind: str, msg) -> None:
        """A message that is neither a delta nor a run's end (a subclass may want it)."""

    def _on_delta(self, delta) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "alert":
            self.alerts.append(element.alert.body)
        elif kind == "exception":
            self.problems.append(f"exception on the page: {element.exception.message[:160]}")
        elif kind == "imgs":
            for img in element.imgs.imgs:
                if "test image #" in img.caption and "→" in img.caption:
                    self.morph_caption = img.caption
                if img.url.startswith("/"):  # a media file the browser would download (data: URLs are inline)
                    self.fetches.append(asyncio.create_task(self._get(img.url)))

    async def _get(self, path: str) -> None:
        """GET one media file as a browser does: over a kept-alive connection (HTTP/1.1) that the next download
        reuses, up to MAX_CONNECTIONS kept (a new connection per image would cost the server an accept, a
        handshake and a teardown that a browser's page does not). A kept connection the server has closed in
        the meantime (uvicorn's keep-alive timeout is 5 s), or resets as it closes it, is replaced, as a browser
        does: it retries a GET that failed on a reused connection."""
        while True:
            reused = bool(self.idle)
            reader, writer = self.idle.pop() if reused else await asyncio.open_connection(self.host, self.port)
            try:
                head, keep = await self._request(reader, writer, path)
            except (ConnectionResetError, BrokenPipeError):
                writer.close()
                if not reused:
                    raise
                continue
            except BaseException:
                writer.close()
                raise
            if head or not reused:
                break
            writer.close()
        if keep and len(self.idle) < MAX_CONNECTIONS:
            self.idle.append((reader, writer))
        else:
            writer.close()
        self.images += 1
        if b" 200 " not in head:
            self.problems.append(f"GET {path}: {head.decode(errors='replace').strip() or 'no answer'}")

    async def _request(self, reader, writer, path: str) -> tuple[bytes, bool]:
        """(the status line, or b"" if the connection was closed; whether it can be reused)."""
        cookie = f"Cookie: {self.cookie}\r\n" if self.cookie else ""
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{cookie}\r\n".encode())
        await writer.drain()
        head = await reader.readline()
        if not head:
            return b"", False
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while size := int((await reader.readline()).split(b";")[0], 16):
                await reader.readexactly(size + 2)
            await reader.readline()
        else:  # the body ends when the server closes
            await reader.read()
            return head, False
        return head, headers.get("connection", "").lower() != "close"

    async def act(self, messages: list[bytes]) -> float:
        """Send one action's messages; ms until its last run has finished and its images are downloaded."""
        t0 = time.perf_counter()
        self.fetches = []
        for raw in messages:
            before = self.finished
            self.changed.clear()
            await self.ws.send(raw)
            if not _is_rerun(raw):
                continue
            deadline = time.monotonic() + self.timeout
            while self.finished == before:
                if self.problems or time.monotonic() > deadline:
                    raise TimeoutError(self.problems[-1] if self.problems else f"no result in {self.timeout:.0f} s")
                try:
                    await asyncio.wait_for(self.changed.wait(), timeout=max(0.01, deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    pass
                self.changed.clear()
        if self.fetches:
            await asyncio.wait_for(asyncio.gather(*self.fetches), timeout=self.timeout)
        return (time.perf_counter() - t0) * 1000

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        await self.ws.close()
        self.reader.cancel()


def _is_rerun(raw: bytes) -> bool:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    return BackMsg.FromString(raw).WhichOneof("type") == "rerun_script"
