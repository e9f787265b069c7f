"""A student's actions in a real page, each timed on screen and on the page's websocket.

bench/load.py's explorers, bench/load_protocol.py's recorded page and bench/action_cost.py drive a headless
Chromium page with these: PAGE_PROBE (installed before the page's scripts) times an action from its input event
to the frame that shows its result; Wire reads the page's websocket at the browser's network layer (the rerun
requests sent and the runs' ends), so the server's share is timed without the page's busy main thread.
"""

from __future__ import annotations

import asyncio
import base64
import random
import time
from dataclasses import dataclass

KINDS = ("slider", "map", "slider", "morph")
MORPH_OPEN = "to morph between them"  # dashboard/explore/morph.py, the ends message: the Morph tab is open
RUN_DONE = (0, 3)  # ForwardMsg.ScriptFinishedStatus: FINISHED_SUCCESSFULLY, FINISHED_FRAGMENT_RUN_SUCCESSFULLY

# Installed in every page before its scripts run. arm(kind, spec) notes what the result will be (the Live map's
# next update from Python, a caption, a text), then the next keydown / pointerdown starts the clock; the first
# animation frame after the result is on the page (and any image in it decoded) stops it. Results go to
# window.__load.done.
PAGE_PROBE = r"""(() => {
  const P = (window.__load = { pending: null, done: [] });
  const now = () => performance.now();
  for (const t of ['keydown', 'pointerdown']) document.addEventListener(t, () => {
    if (P.pending && P.pending.t0 === null) P.pending.t0 = now();
  }, true);
  const images = () => document.querySelectorAll('[data-testid="stImage"]');
  const withText = (text) => [...images()].find((e) => e.textContent.includes(text))?.querySelector('img');
  const main = () => document.querySelector('[data-testid="stMain"]');
  P.arm = (kind, spec) => {
    let check;
    const LP = () => window.__latentPlane;
    const renders = LP() ? LP().renders : 0;
    // the Live map's own update from Python's rerun (a canvas redraw: no DOM mutation, so polled every frame)
    if (kind === 'render') check = () => (LP() && LP().renders > renders && LP().ready ? true : null);
    else if (kind === 'caption') check = () => withText(spec) || null;
    else check = () => ((main()?.textContent || '').includes(spec) ? true : null);
    P.pending = { check, t0: null, armed: now() };
    if (kind === 'render') {
      const poll = () => { if (P.pending && P.pending.check === check) { look(); requestAnimationFrame(poll); } };
      requestAnimationFrame(poll);
    }
  };
  let scheduled = false;
  const look = () => {
    scheduled = false;
    const p = P.pending;
    const hit = p && p.check();
    if (!hit) return;
    P.pending = null;
    const t0 = p.t0 === null ? p.armed : p.t0;
    const finish = () => requestAnimationFrame(() => P.done.push(now() - t0));
    if (hit instanceof HTMLImageElement) hit.decode().then(finish, finish); else finish();
  };
  new MutationObserver(() => {
    if (P.pending && !scheduled) { scheduled = true; requestAnimationFrame(look); }
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
})()"""

READY = "() => window.__latentPlane && window.__latentPlane.ready"


# --- the websocket, seen from the browser's network layer --------------------------------------


class Wire:
    """Rerun requests sent and successful ends of runs, with the browser's network timestamps (seconds)."""

    def __init__(self) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._back, self._forward = BackMsg, ForwardMsg
        self.reruns: list[float] = []
        self.finished: list[float] = []

    async def attach(self, ctx, page) -> None:
        cdp = await ctx.new_cdp_session(page)
        cdp.on("Network.webSocketFrameSent", self._sent)
        cdp.on("Network.webSocketFrameReceived", self._received)
        await cdp.send("Network.enable")

    def _sent(self, p: dict) -> None:
        frame = p["response"]
        if frame.get("opcode") == 2:
            msg = self._back.FromString(base64.b64decode(frame["payloadData"]))
            if msg.WhichOneof("type") == "rerun_script":
                self.reruns.append(p["timestamp"])

    def _received(self, p: dict) -> None:
        frame = p["response"]
        # script_finished messages are tiny; the big ones (deltas) need not be decoded.
        if frame.get("opcode") == 2 and len(frame["payloadData"]) < 400:
            msg = self._forward.FromString(base64.b64decode(frame["payloadData"]))
            if msg.WhichOneof("type") == "script_finished" and msg.script_finished in RUN_DONE:
                self.finished.append(p["timestamp"])

    def mark(self) -> tuple[int, int]:
        return len(self.reruns), len(self.finished)

    async def server_ms(self, since: tuple[int, int], timeout: float) -> float | None:
        """From the first rerun request after `since` to the first successful end of a run after the last such
        request; waits for that end (it can come after the result is on screen). None if it never came."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.reruns[since[0]:]
            if sent:
                ends = [t for t in self.finished[since[1]:] if t >= sent[-1]]
                if ends:
                    return (ends[0] - sent[0]) * 1000
            await asyncio.sleep(0.05)
        return None


# --- the actions --------------------------------------------------------------------------------


class ActionFailed(Exception):
    pass


@dataclass
class Session:
    page: object
    wire: Wire
    timeout: float

    async def timed(self, kind: str, check: str, spec: str | None, act) -> tuple[float, float | None]:
        """Arm the page's probe, do the action, wait for its result: (on-screen ms, server ms).
        check "run": the page shows the result itself at once (the Live map's ★ and digit); done when Python has
        it, the end of the run it caused as the browser receives it (both figures are then that)."""
        page = self.page
        since = self.wire.mark()
        if check == "run":
            await act()
            ms = await self.wire.server_ms(since, self.timeout)
            if ms is None:
                raise ActionFailed(f"{kind}: no run ended within {self.timeout:.0f} s")
            return ms, ms
        await page.evaluate("([k, s]) => window.__load.arm(k, s)", [check, spec])
        await act()
        try:
            await page.wait_for_function("() => window.__load.done.length > 0 && !window.__load.pending",
                                         timeout=self.timeout * 1000, polling=50)
        except Exception as e:
            await page.evaluate("() => { window.__load.pending = null; }")
            raise ActionFailed(f"{kind}: no result within {self.timeout:.0f} s") from e
        done = await page.evaluate("() => window.__load.done.splice(0)")
        return float(done[-1]), await self.wire.server_ms(since, self.timeout)


async def page_problems(page) -> list[str]:
    """Streamlit's own error displays: an exception box, or the status widget saying the connection is lost."""
    return await page.evaluate("""() => {
        const out = [];
        for (const e of document.querySelectorAll('[data-testid="stException"]'))
            out.push('exception: ' + e.textContent.slice(0, 200));
        const s = document.querySelector('[data-testid="stStatusWidget"]');
        if (s && /connect/i.test(s.textContent)) out.push('status: ' + s.textContent.slice(0, 100));
        return out;
    }""")


async def slider_step(s: Session, rng: random.Random, picks: list[int]):
    # the Live map's own z1 or z2 slider: the page decodes the step, then releases it to Python (a fragment run)
    slider = s.page.locator(".lp-slider-input").nth(rng.choice((0, 1)))
    await slider.focus()
    key = rng.choice(("ArrowRight", "ArrowLeft"))
    return await s.timed("slider", "run", None, lambda: s.page.keyboard.press(key))


async def map_click(s: Session, rng: random.Random, picks: list[int]):
    page = s.page
    await page.locator(".lp-overlay").scroll_into_view_if_needed()
    z = (rng.uniform(-2.5, 2.5), rng.uniform(-2.5, 2.5))
    xy = await page.evaluate("([x, y]) => window.__latentPlane.locate(x, y)", list(z))
    result = await s.timed("map", "run", None, lambda: page.mouse.click(xy["x"], xy["y"]))
    last = await page.evaluate("() => window.__latentPlane.triggers.at(-1)")
    if last and last.get("event") == "pick":  # a dot was hit: it is now the last pick (explore.pick)
        index = int(last["value"]["index"])
        picks[:] = [p for p in picks if p != index][-1:] + [index]
    return result


async def morph_pick(s: Session, rng: random.Random, picks: list[int]):
    index = rng.randrange(10_000)
    while index in picks:
        index = rng.randrange(10_000)
    await s.page.get_by_label("Test image #", exact=True).fill(str(index))
    if picks:
        check, spec = "caption", f"test image #{picks[-1]} → #{index},"
    else:
        check, spec = "text", "; 1 so far"
    button = s.page.get_by_role("button", name="Pick", exact=True)
    result = await s.timed("morph", check, spec, lambda: button.click())
    picks[:] = picks[-1:] + [index]
    return result


ACTIONS = {"slider": slider_step, "map": map_click, "morph": morph_pick}
