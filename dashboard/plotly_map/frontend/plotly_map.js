/*
 * The Plotly map: an st.components.v2 component (an ES module run in the app's page, no iframe, no build).
 *
 * plotly.js is loaded once per page, as a <script> from the URL Python names (data.plotly.url: the plotly
 * package's own plotly.min.js, served by Streamlit) or, when that URL cannot be loaded, from its source sent
 * once in data.blobs. A mount draws with Plotly.newPlot; every later rerun updates the same chart with
 * Plotly.react, so moving the ★, a pick or a new ellipse redraws nothing else and the user's zoom stays
 * (layout.uirevision changes only when Python moves the view).
 *
 * Events back to Python (each one trigger):
 *   pick {index}            a test image's dot was clicked (the ★, rings, your digit and empty space: nothing)
 *   view {cx, cy, half}     a zoom or pan settled (VIEW_SETTLE_MS after the last wheel step or drag)
 *   legend {hidden: [...]}  the classes hidden by the legend (click: hide/show, double-click: only this class,
 *                           double-click the only class shown: all)
 *   missing [keys]          blobs referred to that this page does not hold (or plotly.js, which it could not load)
 *
 * As on the live plane, the view and the hidden classes are the page's own between runs: Python's are applied
 * only when view.rev / hiddenRev differ from the last ones applied (a mount applies them).
 *
 * data.preload: load plotly.js while the page is idle and draw nothing (the Live map mounts this, so that a
 * switch to Plotly does not wait for 4.8 MB of JavaScript to arrive and compile). With data.map (what the Plotly
 * map would show now), it also draws that map off screen once plotly.js is there; the Plotly map, when it mounts
 * with the same points, takes that chart over and only updates it (Plotly.react) instead of drawing 10,000
 * points from scratch (Plotly.newPlot: 0.4-0.6 s in software WebGL).
 *
 * For tests and bench/explore_hall.py, window.__plotlyMap holds what the page drew (points, draws with their
 * times, triggers sent, view, hidden classes).
 *
 * This is the component's entry: the instance, drawing and the data from Python (gestures.js: the user's).
 * dashboard/plotly_map serves this folder, so the imports below load from the app's own server.
 */

import { CACHE, storeBlobs } from "./blobs.js";
import { classStats } from "./class_layers.js";
import { STATS, finite, now, send } from "./common.js";
import { CONFIG, figure, fitRanges, plotAspect } from "./figure.js";
import { listen } from "./gestures.js";
import { PLOTLY, loadPlotly } from "./plotly_js.js";

const INSTANCES = new WeakMap(); // parentElement -> instance
// A wheel gesture is one view event: each event is a rerun of the page for every step of the wheel otherwise.
// The off-screen Plotly map (predraw) holds the page's one thread for ~0.5 s: it waits for this long without a
// pointer move, key or wheel, so that it never lands in the middle of someone dragging over the Live map.
const PREDRAW_QUIET_MS = 1500;
let PREDRAWN = null; // an instance drawn off screen for the Plotly map to adopt (data.map of a preload)
let MAPS_MOUNTED = 0; // Plotly maps mounted in this page: only the first may adopt PREDRAWN
const MIN_HEIGHT = 360; // px: the chart's least height, on a short window
const BOTTOM_MARGIN = 8; // px under the chart
let lastInput = 0; // performance.now() of the page's last pointer move, key or wheel (once listened for)

function createInstance(parentElement) {
  const root = document.createElement("div");
  root.className = "pm-root";
  parentElement.appendChild(root);
  const gd = document.createElement("div");
  gd.className = "pm-graph";
  root.appendChild(gd);
  return {
    root, gd, data: null, setTrigger: null,
    plotted: false, drawing: false, dirty: false, fitting: null, // fitting: fitView's relayout under way
    view: null, // what the page shows, {cx, cy, half}: Python's view, then the user's zoom and pan
    pyView: null, // the view Python last moved to (the layout's ranges: Plotly keeps the user's over them)
    viewRev: undefined, viewTimer: 0,
    hidden: new Set(), hiddenRev: undefined,
    extraHidden: new Set(), // the ★ / your digit hidden from the legend: this page only
    clickTimer: 0,
    requested: new Map(), // blob key -> times asked for
    resize: null,
  };
}

function askFor(inst, keys) {
  const missing = keys.filter((k) => (inst.requested.get(k) || 0) < 3);
  if (!missing.length) return;
  missing.forEach((k) => inst.requested.set(k, (inst.requested.get(k) || 0) + 1));
  send(inst, "missing", missing);
}

function viewOf(data) {
  const v = data.view;
  if (v && [v.cx, v.cy, v.half].every(finite) && v.half > 0) return { cx: v.cx, cy: v.cy, half: v.half, rev: v.rev };
  const e = finite(data.limit) && data.limit > 0 ? data.limit : 4;
  return { cx: 0, cy: 0, half: e, rev: "none" };
}

/** Draw the current data; a data update that arrives while Plotly draws is drawn right after. */
async function draw(inst) {
  if (inst.drawing) {
    inst.dirty = true;
    return;
  }
  inst.drawing = true;
  try {
    do {
      inst.dirty = false;
      const P = PLOTLY;
      const { traces, layout, drawn, complete } = figure(inst);
      const t0 = now();
      const kind = inst.plotted ? "react" : inst === PREDRAWN ? "offscreen" : "new";
      if (inst.plotted) {
        if (inst.fit) { // the column's width changed (or an off-screen chart was taken over): fit it first
          inst.fit = false;
          await P.Plots.resize(inst.gd);
        }
        await P.react(inst.gd, traces, layout, CONFIG);
      } else {
        await P.newPlot(inst.gd, traces, layout, CONFIG);
        listen(inst, () => draw(inst));
        inst.plotted = true;
      }
      await fitView(inst, P);
      STATS.draws.push({ kind, ms: now() - t0, t: now() });
      if (STATS.draws.length > 200) STATS.draws.splice(0, 100);
      if (inst.discarded) break;
      STATS.points = drawn;
      classStats(inst);
      STATS.ready = complete && !inst.dirty;
    } while (inst.dirty);
  } catch (e) {
    console.error("plotly map: cannot draw", e);
  } finally {
    inst.drawing = false;
    if (inst.discarded) teardown(inst);
  }
}

/** The chart shows exactly fitRanges(view, its plot area): after a resize or a first draw at another width (the
 * area's shape known only once drawn), Plotly's kept or constrained ranges may show another square. */
async function fitView(inst, P) {
  const aspect = plotAspect(inst), v = inst.view;
  const fl = inst.gd._fullLayout;
  if (!aspect || !v || !fl || !fl.xaxis || !fl.yaxis) return;
  const want = fitRanges(v, aspect), have = [...fl.xaxis.range, ...fl.yaxis.range];
  if (want.every((w, i) => Math.abs(w - have[i]) <= 1e-6 * Math.max(1, v.half))) return;
  // Our own relayout, told apart by its ranges: not a gesture of the user's. A flag up for as long as the relayout
  // is awaited would drop the relayout of a drag or wheel that ends meanwhile (under load, a second or more), and
  // Python would never hear of that view.
  const own = { "xaxis.range": want.slice(0, 2), "yaxis.range": want.slice(2) };
  inst.fitting = own;
  try {
    await P.relayout(inst.gd, own);
  } finally {
    if (inst.fitting === own) inst.fitting = null;
  }
}

// --- data from Python ----------------------------------------------------------------------------------

function update(inst, data) {
  const refs = [data.points, data.background].filter(Boolean);
  storeBlobs(data.blobs, new Set(refs));
  delete data.blobs; // parsed; do not keep a second copy of the base64
  inst.data = data;
  const missing = refs.filter((k) => !CACHE.has(k));
  if (missing.length) askFor(inst, missing);
  const view = viewOf(data);
  if (view.rev !== inst.viewRev || !inst.pyView) {
    inst.viewRev = view.rev;
    clearTimeout(inst.viewTimer); // Python's view wins over a zoom that had not settled yet
    inst.viewTimer = 0;
    inst.pyView = { cx: view.cx, cy: view.cy, half: view.half };
    inst.view = { ...inst.pyView };
  }
  STATS.view = { ...inst.view };
  STATS.viewRev = inst.viewRev;
  if (Array.isArray(data.hidden) && data.hiddenRev !== inst.hiddenRev) {
    inst.hiddenRev = data.hiddenRev;
    inst.hidden = new Set(data.hidden.filter((k) => Number.isInteger(k) && k >= 0));
  }
  STATS.hidden = [...inst.hidden].sort((a, b) => a - b);
  STATS.ready = false;
  inst.wanted = finite(data.height) ? data.height : 560;
  fitHeight(inst);
  loadPlotly(data.plotly).then(() => afterPaint(() => draw(inst)), () => {
    if (data.plotly && data.plotly.key) askFor(inst, [data.plotly.key]);
  });
}

/** The chart's height: Python's, or less where the window's height under the chart's top (the page scrolled to
 * the top) is less, so that its x axis is on the screen (never under MIN_HEIGHT). True when it changed. */
function fitHeight(inst) {
  let top = inst.root.getBoundingClientRect().top + window.scrollY;
  for (let node = inst.root.parentNode; node; node = node.parentNode || node.host) {
    if (node.nodeType === 1) top += node.scrollTop;
  }
  const room = Math.floor(window.innerHeight - top - BOTTOM_MARGIN);
  const height = Math.max(MIN_HEIGHT, Math.min(inst.wanted, room));
  if (!inst.data || inst.data.height === height && inst.gd.style.height === height + "px") return false;
  inst.data.height = height;
  inst.root.style.minHeight = height + "px";
  // The chart's own height, not only its layout's: Plots.resize (the column's width changed) drops layout.height,
  // and a responsive chart then fills its div, which has no height of its own once the chart is in it.
  inst.gd.style.height = height + "px";
  return true;
}

/** Run fn once the browser has painted what the rerun put on the page: an update of the chart holds the page's
 * one thread for 0.1-0.2 s, and the text of a pick (the picked image's caption) should not wait for it. */
function afterPaint(fn) {
  if (typeof requestAnimationFrame !== "function" || document.hidden) return void fn();
  requestAnimationFrame(() => setTimeout(fn, 0));
}

function preload(inst, data) {
  storeBlobs(data.blobs);
  inst.root.style.display = "none";
  const map = data.map ? { ...data.map, plotly: data.plotly } : null;
  const idle = globalThis.requestIdleCallback || ((f) => setTimeout(f, 200));
  const ready = (P) => (map ? whenQuiet(() => predraw(map), PREDRAW_QUIET_MS) : warmWebGL(P));
  idle(() => loadPlotly(data.plotly).then(ready, () => {
    if (data.plotly && data.plotly.key) askFor(inst, [data.plotly.key]);
  }), { timeout: 2000 });
}

/** One WebGL point off screen: the browser compiles Plotly's shaders before the map needs them. */
function warmWebGL(P) {
  if (STATS.warmed) return;
  STATS.warmed = true;
  const div = document.createElement("div");
  div.style.cssText = "position:absolute;left:-10000px;top:0;width:200px;height:200px;";
  document.body.appendChild(div);
  P.newPlot(div, [{ type: "scattergl", x: [0], y: [0], mode: "markers" }], { width: 200, height: 200 },
    { staticPlot: true }).then(() => P.purge(div), () => {}).finally(() => div.remove());
}

/** The Plotly map of data.map, drawn off screen at about the width it will have (three quarters of the main
 * column, as explore/__init__.py lays it out): the map's mount adopts it (adoptPredrawn). Once per page. */
function predraw(map) {
  if (PREDRAWN || MAPS_MOUNTED || !map || !map.points) return;
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  const width = main ? Math.max(300, Math.round((main.clientWidth - 96) * 0.75)) : 800;
  const host = document.createElement("div");
  host.dataset.pmOffscreen = "1";
  host.style.cssText = `position:absolute;left:-10000px;top:0;width:${width}px;`;
  document.body.appendChild(host);
  PREDRAWN = createInstance(host);
  update(PREDRAWN, map);
}

/** Call fn once the page has had no input for quietMs. */
function whenQuiet(fn, quietMs) {
  if (!lastInput) {
    lastInput = now();
    const seen = () => { lastInput = now(); };
    for (const type of ["pointermove", "pointerdown", "keydown", "wheel", "touchstart"]) {
      globalThis.addEventListener(type, seen, { capture: true, passive: true });
    }
  }
  const check = () => {
    const quiet = now() - lastInput;
    if (quiet >= quietMs) fn();
    else setTimeout(check, quietMs - quiet + 50);
  };
  check();
}

/** The predrawn chart, moved into the map's element, if it is drawn and shows these points; else null. Only
 * the page's first map may take it (later ones are discarded): before that, no gesture on a map can have
 * changed a view or a legend that Python has not sent. */
function adoptPredrawn(parentElement, data) {
  const inst = PREDRAWN;
  if (!inst || !data || data.preload) return null;
  PREDRAWN = null;
  if (!inst.plotted || inst.drawing || !inst.data || inst.data.points !== data.points) {
    inst.discarded = true; // still drawing, or other points: the map draws its own; this one goes
    if (!inst.drawing) teardown(inst);
    return null;
  }
  const host = inst.root.parentElement;
  parentElement.appendChild(inst.root);
  if (host) host.remove();
  // As at any mount, Python's view and hidden classes are applied by the update that follows.
  Object.assign(inst, { viewRev: undefined, pyView: null, hiddenRev: undefined, fit: true });
  STATS.adopted = (STATS.adopted || 0) + 1;
  return inst; // drawn at a guessed width: its first draw here fits it to the column
}

function teardown(inst) {
  clearTimeout(inst.viewTimer);
  clearTimeout(inst.clickTimer);
  if (inst.resize) inst.resize.disconnect();
  if (PLOTLY && inst.plotted) PLOTLY.purge(inst.gd);
  const host = inst.root.parentElement;
  inst.root.remove();
  if (host && host.dataset.pmOffscreen) host.remove();
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
    inst = adoptPredrawn(parentElement, data) || createInstance(parentElement);
    if (data && !data.preload) MAPS_MOUNTED += 1;
    INSTANCES.set(parentElement, inst);
    // Plotly's `responsive` follows the window only; the column also changes with the sidebar.
    if (globalThis.ResizeObserver) {
      inst.resize = new ResizeObserver(() => {
        if (!PLOTLY || !inst.plotted || !inst.gd.isConnected) return;
        inst.fit = true; // through draw: one resize and one update at a time, never one inside the other
        draw(inst);
      });
      inst.resize.observe(inst.root);
    }
    // what is above the chart may still be arriving: fit its height again once it has
    for (const ms of [300, 1500]) {
      setTimeout(() => {
        if (inst.data && !inst.data.preload && inst.gd.isConnected && fitHeight(inst) && inst.plotted) {
          inst.fit = true;
          draw(inst);
        }
      }, ms);
    }
  }
  inst.setTrigger = setTriggerValue;
  if (data && data.preload) preload(inst, data);
  else if (data) update(inst, data);
  // Called before the next data update and when the element goes away; only the latter ends the instance.
  return () => {
    setTimeout(() => {
      if (!inst.root.isConnected) teardown(inst);
    }, 1000);
  };
}
