/*
 * The latent plane: an st.components.v2 component (an ES module run in the app's page, no iframe, no build).
 * decoder.js is prepended to this file by dashboard/latent_plane/__init__.py, so `LatentDecoder` is in scope.
 *
 * It draws the encoded test set coloured by class, optionally the decoded grid behind it, the current z (★),
 * picked points and ellipses, and beside the plane the image the decoder draws. Whatever moves z in the page
 * (the pointer hovering or dragging, arrow keys, the in-page z sliders) is decoded here at every animation
 * frame with no Python in the loop; Python hears of it once, when the gesture ends:
 *
 *   release {z: [z1, ..., zd]}  a drag ended, the plane was clicked off the dots, the arrow keys paused
 *                               (~500 ms, or the plane lost focus), or an in-page slider was let go
 *   pick {index}                a dot was clicked: Python picks that test image
 *   view {cx, cy, half}         a zoom or pan settled (~250 ms after the last wheel step or drag)
 *   legend {hidden: [...]}      the classes hidden in the legend changed
 *   undo {}                     Backspace / U on the focused plane, or the Undo button
 *   missing [keys]              blobs referred to that this page does not hold (sent again by Python)
 *
 * The view (the visible square) and the hidden classes are the page's own between runs: a view or hidden list
 * from Python is applied only when its rev differs from the last one applied, so a rerun never undoes a zoom
 * Python has not heard of yet. A payload with `extent` and no `view` (the protocol before issue 12) is read
 * as the view {cx: 0, cy: 0, half: extent}, applied whenever extent changes.
 *
 * Large things (decoder weights, the 10,000 points, the background picture) come in data.blobs, once per
 * session; later runs refer to them by key and they are kept here, in this module, across reruns.
 *
 * A latent space of d > 2 dimensions is seen through a plane, data.plane = {mean, e1, e2} (d numbers each, e1 and
 * e2 orthonormal): the map's coordinates are (u, v) = ((z - mean) . e1, (z - mean) . e2), and the point (u, v) of
 * the map is z = o + u e1 + v e2, o = z* - ((z* - mean) . e1) e1 - ((z* - mean) . e2) e2 (the slice through the
 * ★ z*). The page decodes it with decoder.setPlane(o, e1, e2) / decodePlane(u, v), so a frame costs the same
 * for any d; a release sends the whole z. Without data.plane the map is (z1, z2) (d <= 2).
 *
 * For tests and bench/drag_fps.py, window.__latentPlane holds the page's own timings (performance.now()) of
 * every decode + draw, what caused it, the triggers sent, the view and the hidden classes.
 */

const CACHE = new Map(); // blob key -> {kind, value, used}
const CACHE_LIMIT = 12;
const INSTANCES = new WeakMap(); // parentElement -> instance
const SIDE = 300; // px: the panel beside the plane (digit, readouts, buttons, sliders, legend)
const GAP = 24;
const MAX_PLANE = 760;
const MIN_PLANE = 280; // the plane never gets smaller than this, however little height the window has
const BOTTOM_MARGIN = 16; // px left free under the component when it is sized to the window's height
const MIN_DIGIT = 120;
const MAX_DIGIT = 280;
const HIT_RADIUS = 7; // px: how near a dot a click or hover must be to name it
const NUDGE = 0.1; // arrow key step in plane coordinates (Shift: NUDGE_BIG)
const NUDGE_BIG = 0.5;
const NUDGE_PAUSE_MS = 500; // keys quiet this long -> one release
const VIEW_SETTLE_MS = 250; // zoom / pan quiet this long -> one view trigger
const LEGEND_SETTLE_MS = 300; // > a double-click's two clicks, so "only this class" sends one legend trigger
const ZOOM_STEP = 1.5; // the zoom buttons' factor
const MIN_HALF = 0.01;
const PICK_MIN_PX = 60; // "centre on the pick" zooms in until the pick's ellipse is at least this wide
const STATS = (globalThis.__latentPlane = globalThis.__latentPlane || {
  frames: [], // ms of decode + draw, one per animation frame that decoded
  frameStarts: [], // performance.now() at the start of each of those frames
  frameCauses: [], // what moved z for each of those frames: pointer | key | slider | data
  decodes: 0,
  renders: 0, // data updates from Python
  triggers: [], // what went back to Python
  ready: false,
  mode: "idle",
  z: null,
});

function now() {
  return performance.now();
}

const finite = (v) => typeof v === "number" && Number.isFinite(v);

// --- blobs -----------------------------------------------------------------------------------

function bytesFromBase64(b64) {
  return LatentDecoder.base64ToBytes(b64);
}

function parseBlob(payload) {
  if (payload.format === LatentDecoder.FORMAT) {
    return { kind: "decoder", value: new LatentDecoder.Decoder(payload) };
  }
  if (payload.kind === "points") {
    const xy = LatentDecoder.floatsFromBase64(payload.xy);
    const labels = bytesFromBase64(payload.labels);
    if (xy.length !== 2 * payload.n || labels.length !== payload.n) throw new Error("points blob: wrong sizes");
    const byClass = new Map();
    for (let i = 0; i < payload.n; i++) {
      const k = labels[i];
      if (!byClass.has(k)) byClass.set(k, []);
      byClass.get(k).push(i);
    }
    return { kind: "points", value: { n: payload.n, xy, labels, byClass } };
  }
  if (payload.kind === "image") {
    const img = new Image();
    const value = { img, extent: payload.extent, loaded: false, listeners: [] };
    img.onload = () => {
      value.loaded = true;
      value.listeners.forEach((f) => f());
    };
    img.src = payload.src;
    return { kind: "image", value };
  }
  throw new Error("unknown blob");
}

function storeBlobs(blobs, keep) {
  for (const [key, payload] of Object.entries(blobs || {})) {
    try {
      CACHE.set(key, { ...parseBlob(payload), used: now() });
    } catch (e) {
      console.error("latent plane: cannot read blob", key, e);
    }
  }
  if (CACHE.size > CACHE_LIMIT) {
    const old = [...CACHE.entries()].filter(([k]) => !keep.has(k)).sort((a, b) => a[1].used - b[1].used);
    for (const [k] of old.slice(0, CACHE.size - CACHE_LIMIT)) CACHE.delete(k);
  }
}

function blob(key) {
  if (!key) return null;
  const entry = CACHE.get(key);
  if (!entry) return null;
  entry.used = now();
  return entry.value;
}

// --- the instance: DOM, state, events --------------------------------------------------------

function el(tag, cls, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}

function button(parent, cls, text, label, onClick) {
  const b = el("button", "lp-btn " + cls, parent);
  b.type = "button";
  b.textContent = text;
  b.title = label;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

function createInstance(parentElement) {
  const root = el("div", "lp-root", parentElement);
  const planeBox = el("div", "lp-plane-box", root);
  const base = el("canvas", "lp-base", planeBox);
  const overlay = el("canvas", "lp-overlay", planeBox);
  overlay.tabIndex = 0; // arrow keys nudge the ★, Backspace / U undo
  overlay.setAttribute("role", "application");
  overlay.setAttribute("aria-label", "latent plane: move to decode, drag and release to set z, click a dot to " +
    "pick it; arrow keys nudge the star, Backspace undoes; wheel zooms, Shift + drag pans");
  const side = el("div", "lp-side", root);
  const title = el("div", "lp-side-title", side);
  const digit = el("canvas", "lp-digit", side);
  digit.width = 28;
  digit.height = 28;
  const serverImg = el("img", "lp-server-img", side);
  serverImg.alt = "decoder output from the server";
  serverImg.style.display = "none";
  const readZ = el("div", "lp-readout-z", side);
  const readMode = el("div", "lp-readout-mode", side);
  const readNear = el("div", "lp-readout-near", side);
  const tools = el("div", "lp-tools", side);
  const sliders = el("div", "lp-sliders", side);
  const legend = el("div", "lp-legend", side);
  const note = el("div", "lp-note", side);

  const inst = {
    root, planeBox, base, overlay, side, title, digit, serverImg, readZ, readMode, readNear, tools, sliders,
    legend, note,
    baseCtx: base.getContext("2d"),
    overCtx: overlay.getContext("2d"),
    digitCtx: digit.getContext("2d"),
    image: null, // ImageData of the digit
    pixels: null, // Float32Array, the last decoded image
    data: null,
    setTrigger: null,
    size: 0, // CSS px of the square plane canvas
    digitSize: 0,
    dpr: 1,
    presenter: false,
    hidden: new Set(),
    hiddenRev: undefined, // the last hiddenRev from Python applied
    view: { cx: 0, cy: 0, half: 3 }, // the visible square: centre and half-width, plane coordinates
    viewRev: undefined, // the last view rev from Python applied
    home: { cx: 0, cy: 0, half: 3 },
    committed: [0, 0], // where the ★ is on the map (the sliders' z, or a release not yet confirmed)
    plane: null, // d > 2: {m, e1, e2} (Float64Array each), the plane the map shows; null: the map is (z1, z2)
    planeSet: "", // the slice the decoder was last given (decoder key and origin)
    zFull: new Float64Array(1), // the whole z: the ★'s two plane coordinates are committed[0..1]
    zDecode: new Float64Array(1), // the z decoded this frame
    mode: "idle", // idle | hover | drag | pan | pinch
    cause: "data", // what last moved z: pointer | key | slider | data
    pointer: null, // {x, y} CSS px in the plane canvas
    down: null,
    pan: null, // {x, y, view} at the start of a pan
    touches: new Map(), // pointerId -> {x, y}, for the pinch
    pinch: null,
    raf: 0,
    staticKey: "",
    legendKey: "",
    sliderKey: "",
    sliderInputs: [], // [{dim, input, value}]
    sliding: false, // an in-page slider is being dragged
    nudgeTimer: 0, // arrow keys pressed, release not sent yet
    viewTimer: 0,
    legendTimer: 0,
    classNames: "",
    requested: new Map(), // blob key -> how often asked for
    lastDecodedKey: "",
    ro: null,
    onResize: null,
  };
  inst.image = inst.digitCtx.createImageData(28, 28);

  inst.btnZoomIn = button(tools, "lp-zoom-in", "+", "zoom in", () => zoomBy(inst, 1 / ZOOM_STEP));
  inst.btnZoomOut = button(tools, "lp-zoom-out", "\u2212", "zoom out", () => zoomBy(inst, ZOOM_STEP));
  inst.btnReset = button(tools, "lp-reset", "reset", "reset view", () => setView(inst, { ...inst.home }, true));
  inst.btnFocus = button(tools, "lp-focus", "pick", "centre on the pick", () => centreOnPick(inst));
  inst.btnUndo = button(tools, "lp-undo", "undo", "undo", () => undo(inst));

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
  inst.ro = new ResizeObserver(() => {
    if (!root.isConnected) return;
    layout(inst);
  });
  inst.ro.observe(root); // a block-level box: as wide as the column it is in, whatever it holds
  inst.onResize = () => root.isConnected && layout(inst, true);
  window.addEventListener("resize", inst.onResize);
  // What is above the component may still be arriving at the first layout: measure its offset again.
  for (const ms of [300, 1500]) {
    setTimeout(() => {
      inst.onResize();
      STATS.remeasured = (STATS.remeasured || 0) + 1; // tests wait for this, not for a fixed time
    }, ms);
  }
  return inst;
}

function teardown(inst) {
  if (inst.raf) cancelAnimationFrame(inst.raf);
  for (const t of [inst.nudgeTimer, inst.viewTimer, inst.legendTimer]) clearTimeout(t);
  inst.ro && inst.ro.disconnect();
  window.removeEventListener("resize", inst.onResize);
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
    send(inst, "release", { z: fullZ(inst) });
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
  // the plane point first under the fingers' midpoint stays under it: cx = z - (mid - centre) / scale
  setView(inst, { cx: pz.z[0] - (mid.x - (r.x0 + r.w / 2)) / scale, cy: pz.z[1] + (mid.y - (r.y0 + r.h / 2)) / scale,
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

/** Zoom by `factor` (> 1: out) keeping the plane point under `p` (CSS px; null: the centre) where it is. */
function zoomAbout(inst, p, factor) {
  const v = inst.view, half = clampHalf(inst, v.half * factor), k = half / v.half;
  if (!p) {
    setView(inst, { cx: v.cx, cy: v.cy, half }, true);
    return;
  }
  const [zx, zy] = toZ(inst, p);
  // z under p stays: z - c' = (z - c) * half' / half
  setView(inst, { cx: zx - (zx - v.cx) * k, cy: zy - (zy - v.cy) * k, half }, true);
}

function zoomBy(inst, factor) {
  zoomAbout(inst, null, factor);
}

function clampHalf(inst, half) {
  return Math.max(MIN_HALF, Math.min(maxHalf(inst), half));
}

function maxHalf(inst) {
  return 4 * Math.max(inst.home.half, (inst.data && inst.data.limit) || 1);
}

/** Set the visible square; `notify`: tell Python once it settles (not for a view that came from Python). */
function setView(inst, v, notify) {
  if (![v.cx, v.cy, v.half].every(finite) || !(v.half > 0)) return;
  const far = maxHalf(inst); // the centre never wanders so far that the data is lost from sight
  inst.view = {
    cx: Math.max(-far, Math.min(far, v.cx)), cy: Math.max(-far, Math.min(far, v.cy)), half: clampHalf(inst, v.half),
  };
  STATS.view = { ...inst.view };
  schedule(inst);
  if (notify) notifyView(inst);
}

function notifyView(inst) {
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

function centreOnPick(inst) {
  const f = inst.data && inst.data.focus;
  if (!Array.isArray(f) || !finite(f[0])) return;
  let half = inst.view.half;
  const e = focusEllipse(inst), w = plotRect(inst).w;
  // the ellipse is 2 sx * scale = sx * w / half px wide: >= PICK_MIN_PX <=> half <= sx * w / PICK_MIN_PX
  if (e && finite(e.sx) && e.sx > 0) half = Math.min(half, (Math.max(e.sx, finite(e.sy) ? e.sy : 0) * w) / PICK_MIN_PX);
  setView(inst, { cx: f[0], cy: finite(f[1]) ? f[1] : 0, half }, true);
}

function undo(inst) {
  if (inst.nudgeTimer) {  // nudges Python has not heard of yet: undoing them is the page's own business
    clearTimeout(inst.nudgeTimer);
    inst.nudgeTimer = 0;
    takeZ(inst, inst.data.z);
    inst.cause = "key";
    schedule(inst);
    return;
  }
  send(inst, "undo", {});
}

// --- the keyboard and the in-page sliders: decode at every step, one release at the end ---------

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
  send(inst, "release", { z: fullZ(inst) });
}

// --- a plane through a latent space of d > 2 dimensions ----------------------------------------

/** data.plane checked: {m, e1, e2} of d finite numbers each, or null. */
function readPlane(data) {
  const p = data.plane, d = data.z.length;
  if (!p || d < 3) return null;
  const vec = (a) => (Array.isArray(a) && a.length === d && a.every(finite) ? Float64Array.from(a) : null);
  const m = vec(p.mean), e1 = vec(p.e1), e2 = vec(p.e2);
  return m && e1 && e2 ? { m, e1, e2 } : null;
}

/** (u, v) = ((z - m) . e1, (z - m) . e2) */
function project(plane, z) {
  let u = 0, v = 0;
  for (let i = 0; i < plane.m.length; i++) {
    const c = z[i] - plane.m[i];
    u += c * plane.e1[i];
    v += c * plane.e2[i];
  }
  return [u, v];
}

/** The slice's origin through z0: o = z0 - u0 e1 - v0 e2, (u0, v0) = project(z0), written into out. */
function sliceOrigin(plane, z0, out) {
  const [u0, v0] = project(plane, z0);
  for (let i = 0; i < out.length; i++) out[i] = z0[i] - u0 * plane.e1[i] - v0 * plane.e2[i];
  return out;
}

/** z = o + u e1 + v e2 on the slice through zFull, written into out. */
function liftZ(inst, uv, out) {
  const p = inst.plane;
  sliceOrigin(p, inst.zFull, out);
  for (let i = 0; i < out.length; i++) out[i] += uv[0] * p.e1[i] + uv[1] * p.e2[i];
  return out;
}

/** The ★'s whole z now: zFull off the plane, committed on it (with a plane), zFull and committed without. */
function starZ(inst) {
  const out = new Float64Array(inst.zFull.length);
  if (inst.plane) return liftZ(inst, inst.committed, out);
  out.set(inst.zFull);
  out[0] = inst.committed[0];
  if (out.length > 1) out[1] = inst.committed[1];
  return out;
}

function buildSliders(inst) {
  const d = inst.data, on = Boolean(d.sliders) && Boolean(blob(d.decoder));
  const dims = d.z.length;
  const ok = (i) => Number.isInteger(i) && i >= 0 && i < dims;
  let order = Array.isArray(d.sliderOrder) ? d.sliderOrder.filter(ok) : [];
  if (order.length !== dims || new Set(order).size !== dims) order = [...Array(dims).keys()];
  const names = order.map((i) => (Array.isArray(d.sliderNames) && typeof d.sliderNames[i] === "string"
    ? d.sliderNames[i] : `z${i + 1}`));
  // The first sliderActive of the order are the active dimensions; the rest (KL ≈ 0) fold away.
  const nActive = Number.isInteger(d.sliderActive) ? Math.min(Math.max(d.sliderActive, 0), dims) : dims;
  const key = [on, d.limit, order.join(","), names.join("|"), nActive].join(";");
  if (key === inst.sliderKey) return;
  inst.sliderKey = key;
  inst.sliders.textContent = "";
  inst.sliderInputs = [];
  inst.sliders.style.display = on ? "" : "none";
  inst.root.classList.toggle("lp-many", on && dims > 8);
  inst.sliders.classList.toggle("lp-long-names", names.some((n) => n.length > 4)); // "z12 · KL 1.23"
  if (!on) return;
  let box = inst.sliders;
  order.forEach((dim, j) => {
    if (j === nActive) {
      box = el("details", "lp-inactive", inst.sliders);
      const n = dims - nActive;
      el("summary", "lp-inactive-title", box).textContent = `${n} inactive dimension${n > 1 ? "s" : ""} (KL \u2248 0)`;
    }
    const row = el("label", "lp-slider", box);
    el("span", "lp-slider-name", row).textContent = names[j];
    const input = el("input", "lp-slider-input", row);
    input.type = "range";
    input.min = String(-d.limit);
    input.max = String(d.limit);
    input.step = "0.05";
    input.setAttribute("aria-label", names[j]);
    const value = el("span", "lp-slider-value", row);
    input.addEventListener("input", () => {
      const v = Number(input.value);
      inst.sliding = true;
      setDim(inst, dim, v);
      value.textContent = fmtZ(v);
      inst.mode = "idle";
      inst.pointer = null;
      inst.cause = "slider";
      STATS.sliderInputs = (STATS.sliderInputs || 0) + 1;
      schedule(inst);
    });
    input.addEventListener("change", () => {
      inst.sliding = false;
      setDim(inst, dim, Number(input.value));
      send(inst, "release", { z: fullZ(inst) });
    });
    inst.sliderInputs.push({ dim, input, value });
  });
}

function setDim(inst, dim, v) {
  if (!finite(v)) return;
  if (inst.plane) {  // one coordinate of z moves: so may its place on the map and the slice through it
    inst.zFull = starZ(inst);
    inst.zFull[dim] = v;
    inst.committed = project(inst.plane, inst.zFull);
  } else if (dim < 2) inst.committed[dim] = v;
  else inst.zFull[dim] = v;
}

/** The in-page sliders show where the ★ is (after a drag, a nudge, or a run), except the one being dragged. */
function syncSliders(inst) {
  const z = inst.plane && inst.sliderInputs.length ? starZ(inst) : null;
  for (const { dim, input, value } of inst.sliderInputs) {
    if (inst.sliding && inst.root.getRootNode().activeElement === input) continue;
    const v = z ? round2(z[dim]) : dim < 2 ? inst.committed[dim] : inst.zFull[dim];
    if (Number(input.value) !== v) input.value = String(v);
    const text = fmtZ(v);
    if (value.textContent !== text) value.textContent = text;
  }
}

function send(inst, event, value) {
  STATS.triggers.push({ event, value, t: now() });
  if (inst.setTrigger) inst.setTrigger(event, value);
}

function round2(v) {
  return Math.round(v * 100) / 100;
}

function round4(v) {
  return Math.round(v * 1e4) / 1e4;
}

/** The whole latent vector at the ★: Python sets every slider from it. */
function fullZ(inst) {
  if (inst.plane) return Array.from(starZ(inst), round4);
  const d = inst.data.z.length, out = [];
  for (let i = 0; i < d; i++) out.push(i < 2 ? round2(inst.committed[i]) : round4(inst.zFull[i]));
  return out;
}

/** Take z from Python: the ★ and every other dimension. */
function takeZ(inst, z) {
  const d = Math.max(1, z.length);
  if (inst.zFull.length !== d) inst.zFull = new Float64Array(d);
  if (inst.zDecode.length !== d) inst.zDecode = new Float64Array(d);
  for (let i = 0; i < d; i++) inst.zFull[i] = finite(z[i]) ? z[i] : 0;
  inst.committed = inst.plane ? project(inst.plane, inst.zFull) : [inst.zFull[0], d > 1 ? inst.zFull[1] : 0];
}

// --- geometry: the visible square <-> the canvas ---------------------------------------------

function margins(inst) {
  return inst.presenter ? { left: 64, right: 16, top: 14, bottom: 58 } : { left: 52, right: 14, top: 14, bottom: 46 };
}

function plotRect(inst) {
  const m = margins(inst), s = inst.size;
  return { x0: m.left, y0: m.top, w: s - m.left - m.right, h: s - m.top - m.bottom };
}

function toPx(inst, zx, zy) {
  const r = plotRect(inst), v = inst.view, scale = r.w / (2 * v.half);
  // px = x0 + (z - (c - half)) * scale; y grows downwards on the screen
  return [r.x0 + (zx - v.cx + v.half) * scale, r.y0 + (v.cy + v.half - zy) * scale];
}

function toZ(inst, p) {
  const r = plotRect(inst), v = inst.view, scale = r.w / (2 * v.half);
  return [v.cx - v.half + (p.x - r.x0) / scale, v.cy + v.half - (p.y - r.y0) / scale];
}

function inside(inst, p) {
  const r = plotRect(inst);
  return p.x >= r.x0 && p.x <= r.x0 + r.w && p.y >= r.y0 && p.y <= r.y0 + r.h;
}

/** z under the pointer while dragging: kept inside the sliders' range (where the ★ can go). */
function dragZ(inst, p) {
  const z = toZ(inst, p), lim = inst.data.limit;
  const c = (v) => Math.max(-lim, Math.min(lim, v));
  return [c(z[0]), inst.data.z.length > 1 ? c(z[1]) : 0];
}

function nearestPoint(inst, p) {
  const pts = blob(inst.data.points);
  if (!pts) return -1;
  const scale = plotRect(inst).w / (2 * inst.view.half);
  const [zx, zy] = toZ(inst, p);
  let best = -1, bestD = (HIT_RADIUS / scale) ** 2;
  const { xy, labels, n } = pts;
  for (let i = 0; i < n; i++) {
    if (inst.hidden.has(labels[i])) continue;
    const dx = xy[2 * i] - zx, dy = xy[2 * i + 1] - zy;
    const d = dx * dx + dy * dy;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

// --- layout and the static layer (points, background, axes) ----------------------------------

/** The component's top in the page (not the window): its offset plus every scrolled ancestor's scroll. */
function pageTop(inst) {
  let top = inst.root.getBoundingClientRect().top + window.scrollY;
  for (let node = inst.root.parentNode; node; node = node.parentNode || node.host) {
    if (node.nodeType === 1) top += node.scrollTop;
  }
  return top;
}

function layout(inst, force) {
  const width = Math.floor(inst.root.getBoundingClientRect().width);
  if (width <= 0) return;
  // the window's height below the component's top, so that the plane, the digit and the legend are all in
  // view when the page is at the top (or scrolled to the component); never below MIN_PLANE
  const height = Math.max(MIN_PLANE, Math.floor(window.innerHeight - pageTop(inst) - BOTTOM_MARGIN));
  const stacked = width < MIN_PLANE + GAP + SIDE + 10;
  const size = Math.max(200, Math.min(MAX_PLANE, height, stacked ? width : width - GAP - SIDE));
  inst.root.classList.toggle("lp-stacked", stacked);
  const dpr = window.devicePixelRatio || 1;
  if (size !== inst.size || dpr !== inst.dpr) {
    inst.size = size;
    inst.dpr = dpr;
    for (const c of [inst.base, inst.overlay]) {
      c.width = Math.round(size * dpr);
      c.height = Math.round(size * dpr);
      c.style.width = `${size}px`;
      c.style.height = `${size}px`;
    }
    inst.planeBox.style.width = `${size}px`;
    inst.planeBox.style.height = `${size}px`;
    inst.staticKey = "";
    force = true;
  }
  if (force || !inst.digitSize) fitSide(inst, stacked ? MAX_DIGIT + 400 : Math.max(height, size));
  schedule(inst);
}

/** The digit takes what the side panel's other parts leave of `height`; when even the smallest digit leaves
 * too little, the in-page sliders' list gives up the rest and scrolls. */
function fitSide(inst, height) {
  const cur = inst.digitSize || MAX_DIGIT;
  inst.sliders.style.maxHeight = "";
  inst.root.classList.remove("lp-tight");
  let rest = inst.side.scrollHeight - cur;
  if (rest + MIN_DIGIT > height) {  // too little even for the smallest digit: the mode line folds away
    inst.root.classList.add("lp-tight");
    rest = inst.side.scrollHeight - cur;
  }
  const d = Math.max(MIN_DIGIT, Math.min(MAX_DIGIT, Math.floor(height - rest)));
  const over = rest + d - height;
  if (over > 0 && inst.sliderInputs.length) {
    inst.sliders.style.maxHeight = `${Math.max(56, inst.sliders.offsetHeight - over)}px`;
  }
  if (d === inst.digitSize) return;
  inst.digitSize = d;
  for (const e of [inst.digit, inst.serverImg]) {
    e.style.width = `${d}px`;
    e.style.height = `${d}px`;
  }
}

function niceStep(half) {
  const raw = (2 * half) / 8;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function drawStatic(inst) {
  const d = inst.data;
  if (!d || !inst.size) return;
  const pts = blob(d.points), bg = blob(d.background), v = inst.view;
  const key = [d.points, d.background, bg && bg.loaded, v.cx, v.cy, v.half, [...inst.hidden].sort().join(","),
               inst.size, inst.dpr, inst.presenter, d.axes.join("|"), d.colors.join(","), d.caption || ""].join(";");
  if (key === inst.staticKey) return;
  inst.staticKey = key;
  const ctx = inst.baseCtx, s = inst.size, r = plotRect(inst);
  const x0 = v.cx - v.half, x1 = v.cx + v.half, y0 = v.cy - v.half, y1 = v.cy + v.half;
  ctx.setTransform(inst.dpr, 0, 0, inst.dpr, 0, 0);
  ctx.clearRect(0, 0, s, s);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(r.x0, r.y0, r.w, r.h);
  ctx.save();
  ctx.beginPath();
  ctx.rect(r.x0, r.y0, r.w, r.h);
  ctx.clip();
  if (bg && bg.loaded) {
    const [bx0, bx1, by0, by1] = bg.extent;
    const [px0, py0] = toPx(inst, bx0, by1), [px1, py1] = toPx(inst, bx1, by0);
    ctx.globalAlpha = d.backgroundOpacity || 0.35;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(bg.img, px0, py0, px1 - px0, py1 - py0);
    ctx.globalAlpha = 1;
  }
  const step = niceStep(v.half);
  const ticks = (lo, hi) => {
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) {
      out.push(Math.abs(t) < step * 1e-6 ? 0 : t); // no "-0" from the float sum
    }
    return out;
  };
  const xt = ticks(x0, x1), yt = ticks(y0, y1);
  ctx.strokeStyle = "rgba(0,0,0,0.09)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const t of xt) {
    const [px] = toPx(inst, t, 0);
    ctx.moveTo(Math.round(px) + 0.5, r.y0);
    ctx.lineTo(Math.round(px) + 0.5, r.y0 + r.h);
  }
  for (const t of yt) {
    const [, py] = toPx(inst, 0, t);
    ctx.moveTo(r.x0, Math.round(py) + 0.5);
    ctx.lineTo(r.x0 + r.w, Math.round(py) + 0.5);
  }
  ctx.stroke();
  ctx.strokeStyle = "rgba(0,0,0,0.28)";
  ctx.beginPath();
  const [ox, oy] = toPx(inst, 0, 0);
  ctx.moveTo(Math.round(ox) + 0.5, r.y0);
  ctx.lineTo(Math.round(ox) + 0.5, r.y0 + r.h);
  ctx.moveTo(r.x0, Math.round(oy) + 0.5);
  ctx.lineTo(r.x0 + r.w, Math.round(oy) + 0.5);
  ctx.stroke();
  // the points in the visible window (and a dot's radius around it), one batched path per class
  if (pts) {
    const rad = Math.max(1.6, Math.min(3.2, r.w / 260)) * (inst.presenter ? 1.25 : 1);
    const pad = (rad * 2 * v.half) / r.w;
    const lx = x0 - pad, hx = x1 + pad, ly = y0 - pad, hy = y1 + pad;
    ctx.globalAlpha = 0.72;
    const classes = [...pts.byClass.keys()].sort((a, b) => a - b);
    const xy = pts.xy;
    let drawn = 0;
    for (const k of classes) {
      if (inst.hidden.has(k)) continue;
      ctx.fillStyle = d.colors[k % d.colors.length];
      ctx.beginPath();
      for (const i of pts.byClass.get(k)) {
        const zx = xy[2 * i], zy = xy[2 * i + 1];
        if (zx < lx || zx > hx || zy < ly || zy > hy) continue;
        const [px, py] = toPx(inst, zx, zy);
        ctx.moveTo(px + rad, py);
        ctx.arc(px, py, rad, 0, 2 * Math.PI);
        drawn++;
      }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    STATS.pointsDrawn = drawn;
  }
  if (d.caption) {  // which plane; a narrow map drops the kind ("PCA plane: "), the axes name it
    const room = r.w - 14;
    let px = inst.presenter ? 15 : 13;
    ctx.font = `bold ${px}px system-ui, sans-serif`;
    const text = ctx.measureText(d.caption).width > room ? d.caption.split(": ").pop() : d.caption;
    while (px > 10 && ctx.measureText(text).width > room) {  // still too long: smaller type, never clipped
      px -= 1;
      ctx.font = `bold ${px}px system-ui, sans-serif`;
    }
    label(ctx, text, r.x0 + 6, r.y0 + 12, "#31333F", px);
    STATS.captionDrawn = { text, px, width: ctx.measureText(text).width, room };
  }
  ctx.restore();
  // frame, ticks, labels
  ctx.strokeStyle = "rgba(0,0,0,0.45)";
  ctx.strokeRect(r.x0 + 0.5, r.y0 + 0.5, r.w - 1, r.h - 1);
  ctx.fillStyle = "#31333F";
  const tickPx = inst.presenter ? 16 : 14, titlePx = inst.presenter ? 20 : 16;
  ctx.font = `${tickPx}px system-ui, sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const fmt = (t) => (t === 0 ? "0" : (+t.toFixed(digits + 1)).toString()).replace("-", "\u2212");
  for (const t of xt) ctx.fillText(fmt(t), toPx(inst, t, 0)[0], r.y0 + r.h + 5);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of yt) ctx.fillText(fmt(t), r.x0 - 6, toPx(inst, 0, t)[1]);
  ctx.font = `italic ${titlePx}px system-ui, sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillText(d.axes[0], r.x0 + r.w / 2, s - 2);
  ctx.save();
  ctx.translate(titlePx - 2, r.y0 + r.h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText(d.axes[1], 0, 0);
  ctx.restore();
}

function drawLegend(inst) {
  const d = inst.data;
  const names = d.classes.join("|");
  if (names !== inst.classNames) {  // another data set: every class shown again
    inst.classNames = names;
    inst.hidden.clear();
  }
  STATS.hidden = [...inst.hidden].sort((a, b) => a - b);
  const key = names + ";" + d.colors.join(",") + ";" + STATS.hidden.join(",");
  if (key === inst.legendKey) return;
  inst.legendKey = key;
  inst.legend.textContent = "";
  if (!d.classes.length) return;
  const head = el("div", "lp-legend-head", inst.legend);
  const t = el("div", "lp-legend-title", head);
  t.textContent = "class (double-click: only it)";
  t.title = "click a class to hide or show it; double-click it to show that class alone";
  const all = button(head, "lp-show-all", "all", "show all classes", () => setHidden(inst, [], true));
  all.disabled = inst.hidden.size === 0;
  const grid = el("div", "lp-legend-grid", inst.legend);
  // short names (digits) in one or two rows of five: the side panel has to fit a 720 px high screen
  grid.style.gridTemplateColumns = d.classes.every((n) => String(n).length <= 3) ? "repeat(5, 1fr)" : "1fr 1fr";
  d.classes.forEach((name, k) => {
    const b = el("button", "lp-legend-item" + (inst.hidden.has(k) ? " lp-off" : ""), grid);
    b.type = "button";
    b.title = inst.hidden.has(k) ? `show ${name}` : `hide ${name}`;
    const dot = el("span", "lp-dot", b);
    dot.style.background = d.colors[k % d.colors.length];
    el("span", "lp-name", b).textContent = name;
    b.addEventListener("click", () => {
      const h = new Set(inst.hidden);
      if (h.has(k)) h.delete(k);
      else h.add(k);
      setHidden(inst, [...h], true);
    });
    b.addEventListener("dblclick", () => setHidden(inst, d.classes.map((_, j) => j).filter((j) => j !== k), true));
  });
}

/** Hide these classes; `notify`: tell Python once the clicks settle (a double-click's two clicks included). */
function setHidden(inst, hidden, notify) {
  inst.hidden = new Set(hidden.filter((k) => Number.isInteger(k) && k >= 0));
  drawLegend(inst);
  schedule(inst);
  if (!notify) return;
  clearTimeout(inst.legendTimer);
  inst.legendTimer = setTimeout(() => {
    inst.legendTimer = 0;
    send(inst, "legend", { hidden: [...inst.hidden].sort((a, b) => a - b) });
  }, LEGEND_SETTLE_MS);
}

function drawTools(inst) {
  const d = inst.data, f = d.focus;
  inst.btnFocus.disabled = !(Array.isArray(f) && finite(f[0]));
  inst.btnUndo.disabled = !d.undoable;
}

// --- every frame: decode, draw the digit and the overlay --------------------------------------

function schedule(inst) {
  if (!inst.raf) inst.raf = requestAnimationFrame(() => frame(inst));
}

/** The plane coordinates to decode this frame, and what they are. */
function activeZ(inst) {
  if (inst.mode === "drag" && inst.pointer) return { z: dragZ(inst, inst.pointer), what: "drag" };
  if (inst.mode === "hover" && inst.pointer && inside(inst, inst.pointer)) {
    return { z: toZ(inst, inst.pointer), what: "hover" };  // with one latent dimension, y is only jitter
  }
  return { z: inst.committed, what: "star" };
}

function frame(inst) {
  inst.raf = 0;
  const d = inst.data;
  if (!d || !inst.size) return;
  const t0 = now();
  drawStatic(inst);
  const { z, what } = activeZ(inst);
  const dec = blob(d.decoder);
  let decoded = false;
  if (dec) {
    const zd = inst.zDecode, p = inst.plane;
    let key, slice = "";
    if (p) {  // z = o + u e1 + v e2: the decoder folds the slice into its first layer (decoder.setPlane)
      sliceOrigin(p, inst.zFull, zd);
      slice = d.decoder + ":" + Array.prototype.join.call(zd, ",");
      key = slice + ";" + z[0] + "," + z[1];
      for (let i = 0; i < zd.length; i++) zd[i] += z[0] * p.e1[i] + z[1] * p.e2[i];  // for STATS.zFull
    } else {
      zd.set(inst.zFull);
      zd[0] = z[0];
      if (zd.length > 1) zd[1] = z[1];
      key = Array.prototype.join.call(zd, ",") + d.decoder;
    }
    if (key !== inst.lastDecodedKey) {
      const out = inst.pixels && inst.pixels.length === dec.nPixels ? inst.pixels : undefined;
      if (p) {
        if (slice !== inst.planeSet || !dec.plane) {
          dec.setPlane(sliceOrigin(p, inst.zFull, new Float64Array(zd.length)), p.e1, p.e2);
          inst.planeSet = slice;
          STATS.planeSets = (STATS.planeSets || 0) + 1;
        }
        inst.pixels = dec.decodePlane(z[0], z[1], out);
      } else {
        inst.pixels = dec.decode(zd, out);
      }
      inst.lastDecodedKey = key;
      drawDigit(inst, dec);
      STATS.decodes++;
      decoded = true;
    }
  }
  drawOverlay(inst, z, what);
  readout(inst, z, what);
  syncSliders(inst);
  const dt = now() - t0;
  if (decoded) {
    STATS.frames.push(dt);
    STATS.frameStarts.push(t0);
    STATS.frameCauses.push(inst.cause);
    if (STATS.frames.length > 5000) {
      const cut = STATS.frames.length - 5000;
      for (const a of [STATS.frames, STATS.frameStarts, STATS.frameCauses]) a.splice(0, cut);
    }
  }
  STATS.z = [z[0], z[1]];
  STATS.zFull = Array.from(inst.zDecode);
  STATS.plane = Boolean(inst.plane);
  STATS.mode = inst.mode;
}

function drawDigit(inst, dec) {
  const [, h, w] = dec.image;
  if (inst.image.width !== w || inst.image.height !== h) {
    inst.digit.width = w;
    inst.digit.height = h;
    inst.image = inst.digitCtx.createImageData(w, h);
  }
  const px = inst.pixels, out = inst.image.data;
  for (let i = 0, j = 0; i < px.length; i++, j += 4) {
    const v = Math.round(px[i] * 255);
    out[j] = out[j + 1] = out[j + 2] = v;
    out[j + 3] = 255;
  }
  inst.digitCtx.putImageData(inst.image, 0, 0);
}

function star(ctx, x, y, r) {
  ctx.beginPath();
  for (let i = 0; i < 10; i++) {
    const a = -Math.PI / 2 + (i * Math.PI) / 5, rr = i % 2 ? r * 0.45 : r;
    ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
  }
  ctx.closePath();
}

function label(ctx, text, x, y, color, px) {
  ctx.font = `bold ${px}px system-ui, sans-serif`;
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  const w = ctx.measureText(text).width;
  ctx.fillStyle = "rgba(255,255,255,0.8)";
  ctx.fillRect(x - 2, y - px * 0.6, w + 4, px * 1.2);
  ctx.fillStyle = color;
  ctx.fillText(text, x, y);
}

function drawOverlay(inst, z, what) {
  const ctx = inst.overCtx, d = inst.data, s = inst.size, r = plotRect(inst), big = inst.presenter;
  const scale = r.w / (2 * inst.view.half);
  ctx.setTransform(inst.dpr, 0, 0, inst.dpr, 0, 0);
  ctx.clearRect(0, 0, s, s);
  ctx.save();
  ctx.beginPath();
  ctx.rect(r.x0, r.y0, r.w, r.h);
  ctx.clip();
  const ellipses = (d.ellipses || []).map((e) => {
    const [px, py] = toPx(inst, e.x, e.y);
    // e.angle: counter-clockwise on the plane, so clockwise on the screen (its y grows downwards)
    return { e, px, py, rx: Math.max(3, e.sx * scale), ry: Math.max(3, e.sy * scale), rot: -(finite(e.angle) ? e.angle : 0) };
  });
  for (const { e, px, py, rx, ry, rot } of ellipses) {  // the fills first: under the marks and the ★
    ctx.beginPath();
    ctx.ellipse(px, py, rx, ry, rot, 0, 2 * Math.PI);
    ctx.fillStyle = e.fill || "rgba(0,0,0,0.08)";
    ctx.fill();
  }
  drawPath(inst, ctx, big); // under the marks: the frame's ring and the ends' rings sit on it
  for (const m of d.marks || []) {
    const [px, py] = toPx(inst, m.x, m.y);
    ctx.lineWidth = big ? 4 : 3;
    ctx.strokeStyle = m.color || "#D62728";
    ctx.beginPath();
    const q = big ? 12 : 10;
    if (m.shape === "diamond") {
      ctx.moveTo(px, py - q);
      ctx.lineTo(px + q, py);
      ctx.lineTo(px, py + q);
      ctx.lineTo(px - q, py);
      ctx.closePath();
      ctx.fillStyle = "rgba(255,255,255,0.6)";
      ctx.fill();
    } else {
      ctx.arc(px, py, q - 2, 0, 2 * Math.PI);
    }
    ctx.stroke();
    if (m.label) label(ctx, m.label, px + q + 2, py - q - 3, m.color || "#D62728", big ? 18 : 15);
  }
  // the ★: where the sliders are, or where it is being dragged
  const sz = what === "drag" ? z : inst.committed;
  const [sx, sy] = toPx(inst, sz[0], sz.length > 1 && d.z.length > 1 ? sz[1] : 0);
  star(ctx, sx, sy, (what === "drag" ? 14 : 12) * (big ? 1.25 : 1));
  ctx.fillStyle = "#FFD700";
  ctx.fill();
  ctx.lineWidth = big ? 2 : 1.5;
  ctx.strokeStyle = "#111";
  ctx.stroke();
  // the ellipses' outlines after the ★, so the ★ never hides a posterior: a white halo, then the colour
  for (const { e, px, py, rx, ry, rot } of ellipses) {
    const w = big ? 3 : 2;
    ctx.beginPath();
    ctx.ellipse(px, py, rx, ry, rot, 0, 2 * Math.PI);
    ctx.setLineDash([]);
    ctx.lineWidth = w + 2;
    ctx.strokeStyle = "rgba(255,255,255,0.85)";
    ctx.stroke();
    ctx.setLineDash(e.dash ? [6, 4] : []);
    ctx.lineWidth = w;
    ctx.strokeStyle = e.color || "#222";
    ctx.stroke();
    ctx.setLineDash([]);
  }
  drawSamples(inst, ctx, big); // above the ★: at a pick the draws sit around its centre
  if (what === "hover") {
    const [hx, hy] = toPx(inst, z[0], z[1]);
    ctx.lineWidth = 2;
    ctx.strokeStyle = "rgba(20,20,20,0.85)";
    ctx.beginPath();
    ctx.arc(hx, hy, 9, 0, 2 * Math.PI);
    ctx.moveTo(hx - 15, hy);
    ctx.lineTo(hx - 5, hy);
    ctx.moveTo(hx + 5, hy);
    ctx.lineTo(hx + 15, hy);
    ctx.moveTo(hx, hy - 15);
    ctx.lineTo(hx, hy - 5);
    ctx.moveTo(hx, hy + 5);
    ctx.lineTo(hx, hy + 15);
    ctx.stroke();
  }
  ctx.restore();
}

/** Plane points of a layer: xy = [x0, y0, x1, y1, ...] (finite numbers only) -> [[x, y], ...]. */
function layerPoints(layer) {
  const xy = layer && Array.isArray(layer.xy) ? layer.xy : [];
  const out = [];
  for (let i = 0; i + 1 < xy.length; i += 2) if (finite(xy[i]) && finite(xy[i + 1])) out.push([xy[i], xy[i + 1]]);
  return out;
}

/** The "path" layer: the morph's z(t) as a polyline with a dot per frame (a slerp bends, a linear path does not). */
function drawPath(inst, ctx, big) {
  const pts = layerPoints(inst.data.path).map(([x, y]) => toPx(inst, x, y));
  STATS.path = pts.length ? { n: pts.length, frame: inst.data.path.frame ?? null } : null;
  if (pts.length < 2) return;
  ctx.lineJoin = "round";
  for (const [w, color] of [[big ? 6 : 5, "rgba(255,255,255,0.85)"], [big ? 3 : 2, "#111"]]) {
    ctx.beginPath();
    pts.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.lineWidth = w;
    ctx.strokeStyle = color;
    ctx.stroke();
  }
  const r = big ? 3.5 : 3;
  ctx.fillStyle = "#111";
  for (const [x, y] of pts) {
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fill();
  }
  STATS.path.px = pts; // CSS px in the plane's canvas (tests add STATS.canvasRect())
}

/** The "samples" layer: draws z = mu + sigma * eps from one posterior, small dots with a white rim. */
function drawSamples(inst, ctx, big) {
  const layer = inst.data.samples, pts = layerPoints(layer);
  STATS.samples = null;
  if (!pts.length) return;
  const r = big ? 4 : 3.2, drawn = [];
  ctx.lineWidth = 1.2;
  ctx.strokeStyle = "rgba(255,255,255,0.95)";
  ctx.fillStyle = layer.color || "#D62728";
  for (const [x, y] of pts) {
    const [px, py] = toPx(inst, x, y);
    ctx.beginPath();
    ctx.arc(px, py, r, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    drawn.push([px, py]);
  }
  STATS.samples = { n: pts.length, color: layer.color, px: drawn };
}

function fmtZ(v) {
  return (v < 0 ? "\u2212" : "\u2007") + Math.abs(v).toFixed(2);
}

function readout(inst, z, what) {
  const d = inst.data;
  const parts = [fmtZ(z[0])];
  if (d.z.length > 1) parts.push(fmtZ(z[1]));
  if (d.z.length > 2 && !inst.sliderInputs.length && !inst.plane) parts.push(d.z.length > 3 ? `${fmtZ(inst.zFull[2])}, \u2026` : fmtZ(inst.zFull[2]));
  // on a plane: the map's coordinates, named by its axes (the side panel has room for ~20 characters)
  const text = inst.plane ? `map (${parts.join(", ")})` : `z = (${parts.join(", ")})`;
  if (inst.readZ.textContent !== text) inst.readZ.textContent = text;
  const mode = what === "drag" ? "dragging the \u2605: release to set the sliders"
    : what === "hover" ? "under the pointer: click to move the \u2605 here"
    : inst.nudgeTimer ? "arrow keys: the sliders follow when you pause"
    : inst.sliding ? "let go of the slider to set it"
    : "at the \u2605 (the sliders)";
  if (inst.readMode.textContent !== mode) inst.readMode.textContent = mode;
  let near = "";
  if (what !== "star" && inst.pointer) {
    const i = nearestPoint(inst, inst.pointer);
    if (i >= 0) {
      const pts = blob(d.points);
      near = `dot: test image #${i} (${d.classes[pts.labels[i]] ?? pts.labels[i]})` + (what === "hover" ? ", click to pick it" : "");
    }
  }
  if (inst.readNear.textContent !== near) inst.readNear.textContent = near;
}

// --- data from Python --------------------------------------------------------------------------

/** data.view, or the older data.extent read as a view centred on 0 (applied whenever extent changes). */
function viewOf(data) {
  const v = data.view;
  if (v && [v.cx, v.cy, v.half].every(finite) && v.half > 0) return { cx: v.cx, cy: v.cy, half: v.half, rev: v.rev };
  const e = finite(data.extent) && data.extent > 0 ? data.extent : finite(data.limit) && data.limit > 0 ? data.limit : 3;
  return { cx: 0, cy: 0, half: e, rev: `extent:${e}` };
}

function update(inst, data) {
  STATS.renders++;
  const refs = [data.decoder, data.points, data.background].filter(Boolean);
  storeBlobs(data.blobs, new Set(refs));
  delete data.blobs; // parsed; do not keep a second copy of the base64
  if (!Array.isArray(data.z)) data.z = [0, 0];
  if (!Array.isArray(data.classes)) data.classes = [];
  if (!Array.isArray(data.colors) || !data.colors.length) data.colors = ["#1f77b4"];
  if (!Array.isArray(data.axes)) data.axes = ["z1", "z2"];
  inst.data = data;
  const missing = refs.filter((k) => !CACHE.has(k) && (inst.requested.get(k) || 0) < 3);
  if (missing.length) {
    missing.forEach((k) => inst.requested.set(k, (inst.requested.get(k) || 0) + 1));
    send(inst, "missing", missing);
  }
  const bg = blob(data.background);
  if (bg && !bg.loaded) {
    bg.listeners.push(() => {
      STATS.background = true;
      inst.staticKey = "";
      schedule(inst);
    });
  }
  // the plane first: takeZ places the ★ on it
  const plane = readPlane(data);
  const planeKey = plane ? [data.plane.mean, data.plane.e1, data.plane.e2].join(";") : "";
  const planeChanged = planeKey !== inst.planeKey;
  inst.plane = plane;
  inst.planeKey = planeKey;
  inst.planeSet = "";
  // z from Python, unless the page is in the middle of moving it (keys not yet released, a slider held)
  const busy = inst.nudgeTimer || inst.sliding || inst.mode === "drag";
  if (!busy || planeChanged || inst.zFull.length !== Math.max(1, data.z.length)) {
    takeZ(inst, data.z);
    inst.cause = "data";
  }
  inst.lastDecodedKey = "";
  const view = viewOf(data);
  const h = data.home;
  inst.home = h && [h.cx, h.cy, h.half].every(finite) && h.half > 0 ? { cx: h.cx, cy: h.cy, half: h.half }
    : { cx: 0, cy: 0, half: view.half };
  if (view.rev !== inst.viewRev) {
    inst.viewRev = view.rev;
    clearTimeout(inst.viewTimer); // Python's view wins over a zoom that had not settled yet
    inst.viewTimer = 0;
    setView(inst, view, false);
  }
  STATS.view = { ...inst.view };
  STATS.viewRev = inst.viewRev;
  const presenter = Boolean(data.presenter);
  const relayout = presenter !== inst.presenter;
  inst.presenter = presenter;
  inst.root.classList.toggle("lp-presenter", presenter);
  const dec = blob(data.decoder);
  inst.digit.style.display = dec ? "" : "none";
  inst.serverImg.style.display = dec ? "none" : "";
  if (!dec && data.serverImage && inst.serverImg.src !== data.serverImage) inst.serverImg.src = data.serverImage;
  inst.note.textContent = data.note || "";
  inst.root.dataset.decoder = dec ? "browser" : "server";
  inst.title.textContent = presenter ? (dec ? "Decoded in your browser" : "Decoded on the server")  // one line at 18 px
    : dec ? "Decoder output, computed in your browser" : "Decoder output at the \u2605, from the server";
  drawLegend(inst);
  if (Array.isArray(data.hidden) && data.hiddenRev !== inst.hiddenRev) {
    inst.hiddenRev = data.hiddenRev;
    clearTimeout(inst.legendTimer);
    inst.legendTimer = 0;
    setHidden(inst, data.hidden, false);
  }
  STATS.hiddenRev = inst.hiddenRev;
  drawTools(inst);
  buildSliders(inst);
  // the side panel's contents changed (legend, sliders, note): the digit takes what is left of the height
  layout(inst, true);
  if (relayout) inst.staticKey = "";
  schedule(inst);
  // everything referred to is here (a fallback page, with no decoder of its own, is ready too)
  STATS.ready = Boolean((dec || !data.decoder) && (!data.points || blob(data.points)));
  // what the page runs and shows, for the browser tests
  STATS.decoderKind = dec ? (dec.ops.some((op) => op.type === "conv_transpose") ? "conv" : "mlp") : "server";
  STATS.background = Boolean(bg && bg.loaded);
  STATS.focusable = inst.overlay.tabIndex === 0;
  STATS.axes = data.axes.slice();
  STATS.caption = data.caption || "";
  STATS.pointsKey = data.points || null;
  STATS.planeBasis = plane ? { mean: Array.from(plane.m), e1: Array.from(plane.e1), e2: Array.from(plane.e2) } : null;
  STATS.hidden = [...inst.hidden].sort((a, b) => a - b);
}

/** The data Python sent: one JSON string (latent_plane/spec.py, as_json), or an object from an older server. */
function readData(data) {
  return typeof data === "string" ? JSON.parse(data) : data;
}

export default function (component) {
  const { parentElement, setTriggerValue } = component;
  const data = readData(component.data);
  let inst = INSTANCES.get(parentElement);
  if (!inst || !inst.root.isConnected) {
    inst = createInstance(parentElement);
    INSTANCES.set(parentElement, inst);
  }
  inst.setTrigger = setTriggerValue;
  // Where a latent point is on the screen (client px), and whether the plane has the keyboard, for tests and
  // the benchmark.
  STATS.locate = (zx, zy) => {
    const [x, y] = toPx(inst, zx, zy), r = inst.overlay.getBoundingClientRect();
    return { x: r.left + x, y: r.top + y };
  };
  STATS.canvasRect = () => { // the plane canvas on the screen now: STATS.samples.px / path.px are inside it
    const r = inst.overlay.getBoundingClientRect();
    return { left: r.left, top: r.top };
  };
  STATS.focused = () => inst.root.getRootNode().activeElement === inst.overlay;
  if (data) update(inst, data);
  // Called before the next data update and when the element goes away; only the latter ends the instance.
  return () => {
    setTimeout(() => {
      if (!inst.root.isConnected) teardown(inst);
    }, 1000);
  };
}
