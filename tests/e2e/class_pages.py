"""A class across two replicas, in a real Chromium: the lecturer's page pinned to r1 and a student's to r2 (the
LE_REPLICA cookie HAProxy reads), so every word between them goes through the class store (the SQLite file the
replicas share, or Redis). Called by tests/e2e/test_serve_class.py (SQLite) and test_class_replicas.py (Redis)."""

from __future__ import annotations

import re
import time

from .conftest import LP, plane_settled, settled_box, url_param

FOLLOW_MS = 60_000  # a move reaches a following page within a second or two; a loaded machine gets slack


def pinned(browser, url: str, replica: str, query: str, viewport: dict):
    """A new context's page on `replica` at ?query, once its map is ready; the replica that served it."""
    ctx = browser.new_context(viewport=viewport)
    ctx.add_cookies([{"name": "LE_REPLICA", "value": replica, "url": url}])
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    served = page.goto(f"{url}/?{query}").headers.get("x-replica")
    page.wait_for_function(f"{LP} && {LP}.ready", timeout=180_000)
    page.errors = errors
    return ctx, page, served


def a_class_across_two_replicas(browser, url: str, store) -> None:
    lctx, lect, served = pinned(browser, url, "r1", "class=new", {"width": 1280, "height": 720})
    assert served == "r1"
    lect.wait_for_function("() => /[?&]key=/.test(location.search)", timeout=60_000)
    room, key = url_param(lect, "class"), url_param(lect, "key")
    assert store.is_lecturer(room, key), "the lecturer's replica wrote the room to the shared store"
    sctx, pupil, served = pinned(browser, url, "r2", f"class={room}", {"width": 390, "height": 844})
    assert served == "r2"
    pupil.get_by_text("Following the lecturer").wait_for(timeout=FOLLOW_MS)

    # the lecturer moves the ★ on r1; the student's page on r2 shows the same ★ in its address
    lect.locator(".st-key-explore_plane").scroll_into_view_if_needed()
    plane_settled(lect)
    at = lect.evaluate(f"{LP}.locate(1.5, -1.0)")
    lect.mouse.click(at["x"], at["y"])
    lect.wait_for_function("() => /[?&]z=/.test(location.search)", timeout=60_000)
    z = url_param(lect, "z")
    assert store.view(room)[1]["z"] == z, "r1 published the lecturer's view"
    pupil.wait_for_function(f"() => new URLSearchParams(location.search).get('z') === {z.replace('%2C', ',')!r}",
                            timeout=FOLLOW_MS)
    assert url_param(pupil, "class") == room and url_param(pupil, "key") is None

    # the lecturer asks for a 1 on r1; the student draws it on r2; it lands on the lecturer's map on r1
    lect.get_by_role("button", name="Ask", exact=True).click()
    lect.locator(".st-key-class_ask_label").get_by_role("combobox").click()
    lect.get_by_role("option", name="1", exact=True).click()
    lect.get_by_role("button", name="Ask the class: draw a 1").click()
    deadline = time.monotonic() + 60  # the click is the store's before the popover closes (Escape)
    while store.request(room) != {"kind": "digit", "label": "1"} and time.monotonic() < deadline:
        time.sleep(0.1)
    assert store.request(room) == {"kind": "digit", "label": "1"}, "the lecturer's request is stored"
    lect.keyboard.press("Escape")
    pupil.get_by_text("The lecturer asks: draw a 1").wait_for(timeout=FOLLOW_MS)
    pad = pupil.locator(".st-key-class_pad canvas.dp-canvas")
    pad.scroll_into_view_if_needed()
    box = settled_box(pad)
    k = box["width"] / 280  # a stroke down the middle of the 280 px pad: a 1
    pupil.mouse.move(box["x"] + 140 * k, box["y"] + 50 * k)
    pupil.mouse.down()
    for y in (120, 190, 240):
        pupil.mouse.move(box["x"] + 140 * k, box["y"] + y * k, steps=2)
    pupil.mouse.up()
    pupil.get_by_role("button", name="Send my 1").click()
    pupil.get_by_text("Sent: your 1 is on the lecturer's map.").wait_for(timeout=60_000)
    lect.wait_for_function(f"() => {LP}.classDots && {LP}.classDots.n === 1", timeout=FOLLOW_MS)
    (drawn,) = store.drawings(room, key)
    assert drawn.label == "1" and re.fullmatch(r"[A-Za-z0-9_-]{8,64}", drawn.student)
    assert lect.get_by_text(re.compile(r"· 1 drawing\b")).first.is_visible()
    for ctx, page in ((sctx, pupil), (lctx, lect)):
        errors = page.errors
        ctx.close()
        assert not errors, f"JavaScript errors on the page: {errors}"
