/*
 * The visible square (centre and half-width): zoom, pan and "centre on the pick"; Python hears of a change
 * once it settles.
 */

import { STATS, finite, round4, schedule, send } from "./common.js";
import { plotRect, toZ } from "./geometry.js";

const VIEW_SETTLE_MS = 250; // zoom / pan quiet this long -> one view trigger
export const ZOOM_STEP = 1.5; // the zoom buttons' factor
const MIN_HALF = 0.01;
const PICK_MIN_PX = 60; // "centre on the pick" zooms in until the pick's ellipse is at least this wide

/** Zoom by `factor` (> 1: out) keeping the plane point under `p` (CSS px; null: the centre) where it is. */
export function zoomAbout(inst, p, factor) {
  const v = inst.view, half = clampHalf(inst, v.half * factor), k = half / v.half;
  if (!p) {
    setView(inst, { cx: v.cx, cy: v.cy, half }, true);
    return;
  }
  const [zx, zy] = toZ(inst, p);
  // z under p stays: z - c' = (z - c) * half' / half
  setView(inst, { cx: zx - (zx - v.cx) * k, cy: zy - (zy - v.cy) * k, half }, true);
}

export function zoomBy(inst, factor) {
  zoomAbout(inst, null, factor);
}

export function clampHalf(inst, half) {
  return Math.max(MIN_HALF, Math.min(maxHalf(inst), half));
}

function maxHalf(inst) {
  return 4 * Math.max(inst.home.half, (inst.data && inst.data.limit) || 1);
}

/** Set the visible square; `notify`: tell Python once it settles (not for a view that came from Python). */
export function setView(inst, v, notify) {
  if (![v.cx, v.cy, v.half].every(finite) || !(v.half > 0)) return;
  const far = maxHalf(inst); // the centre never wanders so far that the data is lost from sight
  inst.view = {
    cx: Math.max(-far, Math.min(far, v.cx)), cy: Math.max(-far, Math.min(far, v.cy)), half: clampHalf(inst, v.half),
  };
  STATS.view = { ...inst.view };
  schedule(inst);
  if (notify) notifyView(inst);
}

export function notifyView(inst) {
  clearTimeout(inst.viewTimer);
  inst.viewTimer = setTimeout(() => {
    inst.viewTimer = 0;
    const v = inst.view;
    send(inst, "view", { cx: round4(v.cx), cy: round4(v.cy), half: round4(v.half) });
  }, VIEW_SETTLE_MS);
}

/** The ellipse drawn around the last pick (the one centred on data.focus), if any. */
function focusEllipse(inst) {
  const f = inst.data && inst.data.focus;
  if (!Array.isArray(f)) return null;
  return (inst.data.ellipses || []).find((e) => Math.abs(e.x - f[0]) < 1e-6 && Math.abs(e.y - f[1]) < 1e-6) || null;
}

export function centreOnPick(inst) {
  const f = inst.data && inst.data.focus;
  if (!Array.isArray(f) || !finite(f[0])) return;
  let half = inst.view.half;
  const e = focusEllipse(inst), w = plotRect(inst).w;
  // the ellipse is 2 sx * scale = sx * w / half px wide: >= PICK_MIN_PX <=> half <= sx * w / PICK_MIN_PX
  if (e && finite(e.sx) && e.sx > 0) half = Math.min(half, (Math.max(e.sx, finite(e.sy) ? e.sy : 0) * w) / PICK_MIN_PX);
  setView(inst, { cx: f[0], cy: finite(f[1]) ? f[1] : 0, half }, true);
}

/** data.view, or data.extent read as a view centred on 0 (applied whenever extent changes). */
export function viewOf(data) {
  const v = data.view;
  if (v && [v.cx, v.cy, v.half].every(finite) && v.half > 0) return { cx: v.cx, cy: v.cy, half: v.half, rev: v.rev };
  const e = finite(data.extent) && data.extent > 0 ? data.extent
    : finite(data.limit) && data.limit > 0 ? data.limit : 3;
  return { cx: 0, cy: 0, half: e, rev: `extent:${e}` };
}
