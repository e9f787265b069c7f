/*
 * The pointer (hover, drag, click, pan), touch (pinch), wheel and keys on the plane canvas. Each moves z or
 * the view and asks for a frame; Python hears once, when the gesture ends.
 */

import { STATS, now, round2, schedule, send } from "./common.js";
import { dragZ, inside, nearestPoint, plotRect, release, takeZ, toZ } from "./geometry.js";
import { clampHalf, notifyView, setView, zoomAbout } from "./view.js";

const NUDGE = 0.1; // arrow key step in plane coordinates (Shift: NUDGE_BIG)
const NUDGE_BIG = 0.5;
const NUDGE_PAUSE_MS = 500; // keys quiet this long -> one release

/** The plane canvas's pointer, wheel and key listeners. */
export function listen(inst) {
  const overlay = inst.overlay;
  overlay.addEventListener("pointerdown", (e) => onDown(inst, e));
  overlay.addEventListener("pointermove", (e) => onMove(inst, e));
  overlay.addEventListener("pointerup", (e) => onUp(inst, e));
  overlay.addEventListener("pointercancel", (e) => onCancel(inst, e));
  overlay.addEventListener("pointerleave", () => {
    if (inst.mode === "hover") {
      inst.mode = "idle";
      inst.pointer = null;
      schedule(inst);
    }
  });
  overlay.addEventListener("wheel", (e) => onWheel(inst, e), { passive: false });
  overlay.addEventListener("keydown", (e) => onKey(inst, e));
  overlay.addEventListener("blur", () => flushNudge(inst));
  overlay.addEventListener("auxclick", (e) => e.preventDefault()); // the middle button pans, never pastes
}

function localPos(inst, e) {
  const r = inst.overlay.getBoundingClientRect();
  return { x: e.clientX - r.left, y: e.clientY - r.top };
}

function onDown(inst, e) {
  if (!inst.data) return;
  inst.overlay.focus({ preventScroll: true });
  const p = localPos(inst, e);
  if (e.pointerType === "touch") {
    inst.touches.set(e.pointerId, p);
    if (inst.touches.size === 2) {  // a second finger: the ★ drag becomes a pinch, and sends nothing
      inst.overlay.setPointerCapture(e.pointerId);
      startPinch(inst);
      e.preventDefault();
      return;
    }
  }
  flushNudge(inst);
  const panning = e.button === 1 || (e.button === 0 && (e.shiftKey || e.altKey));
  if (!panning && e.button !== 0) return;
  inst.overlay.setPointerCapture(e.pointerId);
  inst.pointer = p;
  if (panning) {
    inst.mode = "pan";
    inst.pan = { ...p, view: { ...inst.view } };
  } else {
    inst.mode = "drag";
    inst.cause = "pointer";
    inst.down = { ...p, t: now() };
  }
  STATS.mode = inst.mode;
  schedule(inst);
  e.preventDefault();
}

function onMove(inst, e) {
  if (!inst.data) return;
  const p = localPos(inst, e);
  if (inst.touches.has(e.pointerId)) inst.touches.set(e.pointerId, p);
  if (inst.mode === "pinch") {
    movePinch(inst);
    return;
  }
  inst.pointer = p;
  if (inst.mode === "pan") {
    const v = inst.pan.view, scale = plotRect(inst).w / (2 * v.half);
    // the plane moves with the pointer: the point grabbed stays under it
    setView(inst, { cx: v.cx - (p.x - inst.pan.x) / scale, cy: v.cy + (p.y - inst.pan.y) / scale, half: v.half },
      false);
    return;
  }
  if (inst.mode !== "drag") {
    inst.mode = "hover";
    inst.cause = "pointer";
  }
  schedule(inst);
}

function onUp(inst, e) {
  inst.touches.delete(e.pointerId);
  if (inst.mode === "pinch") {
    if (inst.touches.size < 2) endGesture(inst);
    return;
  }
  if (inst.mode === "pan") {
    inst.pan = null;
    endGesture(inst);
    return;
  }
  if (inst.mode !== "drag") return;
  const p = localPos(inst, e);
  const moved = Math.hypot(p.x - inst.down.x, p.y - inst.down.y) > 4;
  inst.mode = inside(inst, p) ? "hover" : "idle";
  inst.pointer = p;
  STATS.mode = inst.mode;
  const hit = moved ? -1 : nearestPoint(inst, p);
  if (hit >= 0) {
    send(inst, "pick", { index: hit });
  } else {
    const z = dragZ(inst, p);
    inst.committed = [round2(z[0]), round2(z[1])];
    release(inst);
  }
  inst.down = null;
  schedule(inst);
}

function onCancel(inst, e) {
  inst.touches.delete(e.pointerId);
  if (inst.mode === "pan" || inst.mode === "pinch") {
    endGesture(inst);
    return;
  }
  inst.mode = "idle";
  inst.down = null;
  inst.pointer = null;
  STATS.mode = "idle";
  schedule(inst);
}

/** A pan or pinch ended: the view stays where it is and Python hears of it once it settles. */
function endGesture(inst) {
  inst.mode = "idle";
  inst.pinch = null;
  inst.pan = null;
  inst.down = null;
  STATS.mode = "idle";
  notifyView(inst);
  schedule(inst);
}

function startPinch(inst) {
  const [a, b] = [...inst.touches.values()];
  const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
  inst.mode = "pinch";
  inst.down = null;
  inst.pinch = { dist: Math.max(1, Math.hypot(a.x - b.x, a.y - b.y)), z: toZ(inst, mid), view: { ...inst.view } };
  STATS.mode = "pinch";
}

function movePinch(inst) {
  const [a, b] = [...inst.touches.values()];
  const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
  const pz = inst.pinch;
  const half = clampHalf(inst, (pz.view.half * pz.dist) / Math.max(1, Math.hypot(a.x - b.x, a.y - b.y)));
  const r = plotRect(inst), scale = r.w / (2 * half);
  // the plane point first under the fingers' midpoint stays under it: cx = z - (mid - centre) / scale, the view's
  // centre being half a width right of x0 and below y0 (toPx: one scale both ways; the plot is not square)
  setView(inst, { cx: pz.z[0] - (mid.x - (r.x0 + r.w / 2)) / scale, cy: pz.z[1] + (mid.y - (r.y0 + r.w / 2)) / scale,
    half }, false);
}

function onWheel(inst, e) {
  if (!inst.data) return;
  e.preventDefault();
  const p = localPos(inst, e);
  const lines = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
  // exp so that one step in and one step out cancel; a trackpad pinch (ctrlKey) sends small deltas
  const factor = Math.exp(e.deltaY * lines * (e.ctrlKey ? 0.01 : 0.002));
  zoomAbout(inst, inside(inst, p) ? p : null, factor);
}

function onKey(inst, e) {
  if (!inst.data || e.ctrlKey || e.metaKey) return;
  const k = e.key;
  if (k === "Backspace" || k === "u" || k === "U") {
    e.preventDefault();
    undo(inst);
    return;
  }
  const step = e.shiftKey ? NUDGE_BIG : NUDGE;
  const two = inst.data.z.length > 1;
  const dz = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] }[k];
  if (!dz) return;
  e.preventDefault(); // the page must not scroll while the plane has the keys
  if (!two && dz[0] === 0) return;
  const lim = inst.data.limit;
  const c = (v) => Math.max(-lim, Math.min(lim, round2(v)));
  inst.committed = [c(inst.committed[0] + dz[0]), two ? c(inst.committed[1] + dz[1]) : 0];
  inst.mode = "idle"; // the image follows the ★ now, not the pointer resting on the plane
  inst.pointer = null;
  inst.cause = "key";
  STATS.nudges = (STATS.nudges || 0) + 1;
  clearTimeout(inst.nudgeTimer);
  // a test on a loaded machine may lengthen the pause (STATS.nudgePauseMs) so its slow key presses stay one gesture
  inst.nudgeTimer = setTimeout(() => flushNudge(inst), STATS.nudgePauseMs || NUDGE_PAUSE_MS);
  schedule(inst);
}

function flushNudge(inst) {
  if (!inst.nudgeTimer) return;
  clearTimeout(inst.nudgeTimer);
  inst.nudgeTimer = 0;
  release(inst);
}

export function undo(inst) {
  if (inst.nudgeTimer) {  // nudges Python has not heard of yet: undoing them is the page's own business
    clearTimeout(inst.nudgeTimer);
    inst.nudgeTimer = 0;
    takeZ(inst, inst.agreedZ || inst.data.z); // where Python's ★ is (its last data may be older than a release)
    inst.cause = "key";
    schedule(inst);
    return;
  }
  // A release Python has not acknowledged (data.ack) may still be on its way, and Streamlit keeps only the newer
  // of two events waiting for one run: the undo carries it, so Python takes it first and undoes that move.
  const r = inst.lastRelease;
  send(inst, "undo", r && r.seq > inst.ack ? { release: r } : {});
}
