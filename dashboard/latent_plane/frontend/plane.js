/*
 * The latent plane: an st.components.v2 component, run as an ES module in the app's page (no iframe, no build).
 * This is its entry: the instance (DOM and state) and the data from Python; the other modules of this folder do
 * one job each (blobs, geometry, view, input, layers, frame, sliders, side_panel, layout, common).
 * dashboard/latent_plane/__init__.py serves this folder, so the imports below load from the app's own server.
 *
 * It draws the encoded test set coloured by class, optionally the decoded grid behind it, the current z (★),
 * picked points and ellipses, and beside the plane the image the decoder draws. Whatever moves z in the page
 * (the pointer hovering or dragging, arrow keys, the in-page z sliders) is decoded here at every animation
 * frame with no Python in the loop; Python hears of it once, when the gesture ends:
 *
 *   release {z: [z1, ..., zd], seq}  a drag ended, the plane was clicked off the dots, the arrow keys paused
 *                               (~500 ms, or the plane lost focus), or an in-page slider was let go; seq numbers
 *                               the page's releases
 *   pick {index}                a dot was clicked: Python picks that test image
 *   view {cx, cy, half}         a zoom or pan settled (~250 ms after the last wheel step or drag)
 *   legend {hidden: [...]}      the classes hidden in the legend changed
 *   undo {release?}             Backspace / U on the focused plane, or the Undo button; with the page's last
 *                               release {z, seq} while Python has not acknowledged it (data.ack < seq)
 *   missing [keys]              blobs referred to that this page does not hold (sent again by Python)
 *
 * The ★ from Python (data.z) is taken when data.zRev is new (Python's z changed: an undo, a pick, ...), unless the
 * page is moving it or data.ack (the last release seq Python had heard of) is behind the page's last release: a
 * map sent before Python had the page's ★ must not move it back. Without zRev (an older server) every update takes z.
 * The view (the visible square) and the hidden classes are the page's own between runs: a view or hidden list
 * from Python is applied only when its rev differs from the last one applied, so a rerun never undoes a zoom
 * Python has not heard of yet. A payload with `extent` and no `view` is read as the view
 * {cx: 0, cy: 0, half: extent}, applied whenever extent changes.
 *
 * Large things (decoder weights, the 10,000 points, the background picture) come in data.blobs, once per
 * session; later runs refer to them by key and they are kept in blobs.js, across reruns.
 *
 * A latent space of d > 2 dimensions is seen through a plane, data.plane = {mean, e1, e2} (d numbers each, e1 and
 * e2 orthonormal): the map's coordinates are (u, v) = ((z - mean) . e1, (z - mean) . e2), and the point (u, v) of
 * the map is z = o + u e1 + v e2, o = z* - ((z* - mean) . e1) e1 - ((z* - mean) . e2) e2 (the slice through the
 * ★ z*). The page decodes it with decoder.setPlane(o, e1, e2) / decodePlane(u, v), so a frame costs the same
 * for any d; a release sends the whole z. Without data.plane the map is (z1, z2) (d <= 2), or with data.mapCoords a
 * map with no inverse (UMAP's): data.z is then the ★'s place (u, v) on it, and Python decodes (no decoder sent).
 *
 * A class's follower also takes the ★, the zoom and maybe the picks from the page's address, which the server
 * changes with no run of the map when the lecturer moved only those (follow.js; data.followAddress).
 *
 * For tests and bench/drag_fps.py, window.__latentPlane holds the page's own timings (performance.now()) of
 * every decode + draw, what caused it, the triggers sent, the view and the hidden classes.
 */

import { blob, holds, storeBlobs } from "./blobs.js";
import { listenClass } from "./class_layers.js";
import { STATS, button, el, finite, schedule, send } from "./common.js";
import { listenAddress } from "./follow.js";
import { frame } from "./frame.js";
import { readPlane, takeZ, toPx } from "./geometry.js";
import { listen, undo } from "./input.js";
import { layout } from "./layout.js";
import { drawLegend, drawTools, setHidden } from "./side_panel.js";
import { buildSliders } from "./sliders.js";
import { ZOOM_STEP, centreOnPick, setView, viewOf, zoomBy } from "./view.js";

const INSTANCES = new WeakMap(); // parentElement -> instance

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
    zRev: undefined, // the last data.zRev taken
    seq: 0, // releases sent (geometry.release)
    ack: 0, // the last release Python has (data.ack)
    lastRelease: null, // {z, seq} of the last release sent: an undo carries it while ack < seq
    agreedZ: null, // the whole z Python holds, or will once the last release arrives
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
    frame: null, // () => frame(inst): what schedule() runs at the next animation frame
  };
  inst.image = inst.digitCtx.createImageData(28, 28);
  inst.frame = () => frame(inst);

  inst.btnZoomIn = button(tools, "lp-zoom-in", "+", "zoom in", () => zoomBy(inst, 1 / ZOOM_STEP));
  inst.btnZoomOut = button(tools, "lp-zoom-out", "\u2212", "zoom out", () => zoomBy(inst, ZOOM_STEP));
  inst.btnReset = button(tools, "lp-reset", "reset", "reset view", () => setView(inst, { ...inst.home }, true));
  inst.btnFocus = button(tools, "lp-focus", "pick", "centre on the pick", () => centreOnPick(inst));
  inst.btnUndo = button(tools, "lp-undo", "undo", "undo", () => undo(inst));

  listen(inst);
  listenClass(inst);
  inst.stopAddress = listenAddress(inst); // a class's follower: the lecturer's ★, zoom and picks (follow.js)
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
  inst.stopAddress();
}

function update(inst, data) {
  STATS.renders++;
  const refs = [data.decoder, data.points, data.background, data.followAddress && data.followAddress.shapes]
    .filter(Boolean);
  storeBlobs(data.blobs, new Set(refs));
  delete data.blobs; // parsed; do not keep a second copy of the base64
  if (!Array.isArray(data.z)) data.z = [0, 0];
  if (!Array.isArray(data.classes)) data.classes = [];
  if (!Array.isArray(data.colors) || !data.colors.length) data.colors = ["#1f77b4"];
  if (!Array.isArray(data.axes)) data.axes = ["z1", "z2"];
  inst.data = data;
  const missing = refs.filter((k) => !holds(k) && (inst.requested.get(k) || 0) < 3);
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
  if (finite(data.ack) && data.ack > inst.seq) inst.seq = data.ack; // a new mount numbers on from Python's count
  if (finite(data.ack)) inst.ack = data.ack;
  const busy = inst.nudgeTimer || inst.sliding || inst.mode === "drag";
  const behind = finite(data.ack) && data.ack < inst.seq; // sent before Python had the page's last release
  const fresh = data.zRev === undefined || data.zRev !== inst.zRev;
  if ((fresh && !busy && !behind) || planeChanged || inst.zFull.length !== Math.max(1, data.z.length)) {
    takeZ(inst, data.z);
    inst.agreedZ = data.z.slice();
    inst.zRev = data.zRev;
    inst.cause = "data";
  }
  STATS.zRev = inst.zRev;
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

/** The data Python sent: one JSON document as bytes (latent_plane/spec.py, as_json). */
function readData(data) {
  return data instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(data)) : data;
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
  // arrow keys moved the ★ and their release is not sent yet (what the page's own undo checks); read at once,
  // where STATS.star waits for the next frame
  STATS.nudging = () => Boolean(inst.nudgeTimer);
  if (data) update(inst, data);
  // Called before the next data update and when the element goes away; only the latter ends the instance.
  return () => {
    setTimeout(() => {
      if (!inst.root.isConnected) teardown(inst);
    }, 1000);
  };
}
