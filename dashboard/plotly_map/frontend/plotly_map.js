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
 */

const CACHE = new Map(); // blob key -> parsed value: points {n, byClass}, image {src, extent}, script source
const INSTANCES = new WeakMap(); // parentElement -> instance
// A wheel gesture is one view event: each event is a rerun of the page for every step of the wheel otherwise.
const VIEW_SETTLE_MS = 400;
const LEGEND_CLICK_MS = 320; // > Plotly's double-click delay (300 ms): one click, or the first of two?
// The off-screen Plotly map (predraw) holds the page's one thread for ~0.5 s: it waits for this long without a
// pointer move, key or wheel, so that it never lands in the middle of someone dragging over the Live map.
const PREDRAW_QUIET_MS = 1500;
const STATS = (globalThis.__plotlyMap = globalThis.__plotlyMap || {
  plotly: null, // the plotly.js version drawing, once loaded
  loadMs: null, // script added -> plotly.js ready
  loadedFrom: null, // "url" | "inline"
  draws: [], // {kind: "new" | "react", ms, t}
  triggers: [],
  points: 0, // test images drawn in the class traces by the last draw
  ready: false, // the last data update is drawn, with every point it refers to
  view: null,
  viewRev: undefined,
  hidden: [],
});

let PLOTLY = null;
let loading = null;
let PREDRAWN = null; // an instance drawn off screen for the Plotly map to adopt (data.map of a preload)
let MAPS_MOUNTED = 0; // Plotly maps mounted in this page: only the first may adopt PREDRAWN
let lastInput = 0; // performance.now() of the page's last pointer move, key or wheel (once listened for)

const finite = (v) => typeof v === "number" && Number.isFinite(v);
const now = () => performance.now();

// --- blobs ---------------------------------------------------------------------------------------

function bytesFromBase64(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function floatsFromBase64(b64) {
  const bytes = bytesFromBase64(b64);
  const out = new Float32Array(bytes.byteLength / 4); // little-endian, as every browser's hardware is
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** The points blob (dashboard/latent_plane/spec.py points_spec) split by class: typed arrays Plotly takes as is,
 * kept for the page's life, so that Plotly.react sees the same arrays every run and does not recompute them. */
function parsePoints(p) {
  const xy = floatsFromBase64(p.xy);
  const labels = bytesFromBase64(p.labels);
  if (xy.length !== 2 * p.n || labels.length !== p.n) throw new Error("points blob: wrong sizes");
  const count = new Map();
  for (let i = 0; i < p.n; i++) count.set(labels[i], (count.get(labels[i]) || 0) + 1);
  const byClass = new Map();
  for (const [k, m] of count) byClass.set(k, { x: new Float32Array(m), y: new Float32Array(m), index: new Int32Array(m), n: 0 });
  for (let i = 0; i < p.n; i++) {
    const g = byClass.get(labels[i]);
    g.x[g.n] = xy[2 * i];
    g.y[g.n] = xy[2 * i + 1];
    g.index[g.n++] = i;
  }
  return { kind: "points", n: p.n, byClass };
}

function storeBlobs(blobs, keep) {
  for (const [key, p] of Object.entries(blobs || {})) {
    try {
      if (p.kind === "points") CACHE.set(key, parsePoints(p));
      else if (p.kind === "image") CACHE.set(key, { kind: "image", src: p.src, extent: p.extent });
      else if (p.kind === "script") CACHE.set(key, { kind: "script", source: p.source });
    } catch (e) {
      console.error("plotly map: cannot read blob", key, e);
    }
  }
  // Each model or manifold view adds a blob: keep the newest few (the page asks again for one it dropped).
  const old = [...CACHE.keys()].filter((k) => CACHE.get(k).kind !== "script" && !(keep && keep.has(k)));
  for (const k of old.slice(0, Math.max(0, old.length - 8))) CACHE.delete(k);
}

// --- plotly.js, once per page -----------------------------------------------------------------------

/** A URL relative to the app's base path (the page's path: the app is served at its base URL). */
function appUrl(url) {
  if (/^[a-z]+:|^\//i.test(url)) return url;
  const path = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
  return new URL(path + url, location.origin).href;
}

function loadPlotly(spec) {
  if (PLOTLY) return Promise.resolve(PLOTLY);
  if (loading) return loading;
  const inline = spec && spec.key ? CACHE.get(spec.key) : null;
  if (!inline && !(spec && spec.url)) return Promise.reject(new Error("no plotly.js to load"));
  const t0 = now();
  loading = new Promise((resolve, reject) => {
    const s = document.createElement("script");
    // The script sets window.Plotly; keep our own reference (Streamlit's st.plotly_chart bundle sets it too).
    const take = () => {
      const P = globalThis.Plotly;
      if (!P || typeof P.react !== "function") return reject(new Error("plotly.js did not define Plotly"));
      PLOTLY = P;
      Object.assign(STATS, { plotly: P.version, loadMs: now() - t0, loadedFrom: inline ? "inline" : "url" });
      resolve(P);
    };
    if (inline) {
      s.textContent = inline.source; // runs now, in the page's global scope
      document.head.appendChild(s);
      take();
    } else {
      s.src = appUrl(spec.url);
      s.async = true;
      s.onload = take;
      s.onerror = () => {
        s.remove();
        reject(new Error("cannot load " + s.src));
      };
      document.head.appendChild(s);
    }
  });
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

// --- the instance ---------------------------------------------------------------------------------

function createInstance(parentElement) {
  const root = document.createElement("div");
  root.className = "pm-root";
  parentElement.appendChild(root);
  const gd = document.createElement("div");
  gd.className = "pm-graph";
  root.appendChild(gd);
  return {
    root, gd, data: null, setTrigger: null,
    plotted: false, drawing: false, dirty: false,
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

function send(inst, event, value) {
  STATS.triggers.push({ event, value, t: now() });
  if (inst.setTrigger) inst.setTrigger(event, value);
}

function askFor(inst, keys) {
  const missing = keys.filter((k) => (inst.requested.get(k) || 0) < 3);
  if (!missing.length) return;
  missing.forEach((k) => inst.requested.set(k, (inst.requested.get(k) || 0) + 1));
  send(inst, "missing", missing);
}

const round4 = (v) => Math.round(v * 1e4) / 1e4;

function viewOf(data) {
  const v = data.view;
  if (v && [v.cx, v.cy, v.half].every(finite) && v.half > 0) return { cx: v.cx, cy: v.cy, half: v.half, rev: v.rev };
  const e = finite(data.limit) && data.limit > 0 ? data.limit : 4;
  return { cx: 0, cy: 0, half: e, rev: "none" };
}

// --- what Plotly draws ---------------------------------------------------------------------------------

function figure(inst) {
  const d = inst.data;
  const pts = CACHE.get(d.points);
  const classes = Array.isArray(d.classes) ? d.classes : [];
  const colors = Array.isArray(d.colors) && d.colors.length ? d.colors : ["#1f77b4"];
  const f = finite(d.fontSize) ? d.fontSize : 15, ft = f + 2; // type big enough for the back of a room
  const size = finite(d.pointSize) ? d.pointSize : 5;
  const traces = [];
  let drawn = 0;
  classes.forEach((name, k) => {
    const g = pts && pts.kind === "points" ? pts.byClass.get(k) : null;
    const empty = new Float32Array(0);
    drawn += g ? g.n : 0;
    traces.push({
      type: "scattergl", mode: "markers", name: String(name),
      x: g ? g.x : empty, y: g ? g.y : empty, customdata: g ? g.index : new Int32Array(0),
      visible: inst.hidden.has(k) ? "legendonly" : true,
      marker: { size, color: colors[k % colors.length], opacity: 0.7 },
      hovertemplate: `<b>${name}</b><br>test image #%{customdata}<br>z = (%{x:.2f}, %{y:.2f})<extra></extra>`,
    });
  });
  // The marks are WebGL traces too: an SVG trace would be drawn under the WebGL points.
  const annotations = [];
  for (const m of Array.isArray(d.marks) ? d.marks : []) {
    if (![m.x, m.y].every(finite)) continue;
    if (m.shape === "diamond") {
      traces.push({
        type: "scattergl", mode: "markers", name: "your digit", x: [m.x], y: [m.y], hoverinfo: "name",
        visible: inst.extraHidden.has("your digit") ? "legendonly" : true,
        marker: { size: 16, symbol: "diamond", color: m.color, line: { width: 1.5, color: "white" } },
      });
      continue;
    }
    traces.push({
      type: "scattergl", mode: "markers", name: `picked ${m.label}`, x: [m.x], y: [m.y], hoverinfo: "skip",
      showlegend: false, marker: { size: 16, symbol: "circle-open", color: m.color, line: { width: 3 } },
    });
    annotations.push({ x: m.x, y: m.y, text: `<b>${m.label}</b>`, showarrow: false, xshift: 13, yshift: 13,
      font: { size: 14, color: m.color }, bgcolor: "rgba(255,255,255,0.7)" });
  }
  // The morph's path and the posterior's samples (plane_view.overlay_layers: flat [x0, y0, x1, y1, ...]).
  const pairs = (xy) => {
    const x = [], y = [];
    for (let i = 0; Array.isArray(xy) && i + 1 < xy.length; i += 2) if (finite(xy[i]) && finite(xy[i + 1])) {
      x.push(xy[i]); y.push(xy[i + 1]);
    }
    return { x, y };
  };
  if (d.path && Array.isArray(d.path.xy)) {
    const { x, y } = pairs(d.path.xy);
    traces.push({ type: "scattergl", mode: "lines+markers", name: "morph path", x, y, hoverinfo: "skip",
      line: { color: "#111111", width: 2 }, marker: { size: 5, color: "#111111" } });
  }
  if (d.samples && Array.isArray(d.samples.xy)) {
    const { x, y } = pairs(d.samples.xy);
    traces.push({ type: "scattergl", mode: "markers", name: "z = \u03bc + \u03c3 \u2299 \u03b5", x, y,
      hoverinfo: "skip", marker: { size: 7, color: d.samples.color || "#D62728", line: { width: 1, color: "white" } } });
  }
  const star = Array.isArray(d.star) && d.star.every(finite) ? d.star : null;
  if (star) {
    traces.push({
      type: "scattergl", mode: "markers", name: "slider z", x: [star[0]], y: [star[1]],
      visible: inst.extraHidden.has("slider z") ? "legendonly" : true,
      marker: { size: 18, symbol: "star", color: "#FFD700", line: { width: 1.5, color: "#111111" } },
      hovertemplate: "slider z = (%{x:.2f}, %{y:.2f})<extra></extra>",
    });
  }
  const shapes = (Array.isArray(d.ellipses) ? d.ellipses : []).filter((e) => [e.x, e.y, e.sx, e.sy].every(finite))
    .map((e) => {
      const look = { xref: "x", yref: "y", line: { color: e.color, width: 2, dash: e.dash ? "dash" : "solid" },
        fillcolor: e.fill || "rgba(0,0,0,0.08)", layer: "above" };
      if (!finite(e.angle) || e.angle === 0) {
        return { type: "circle", x0: e.x - e.sx, x1: e.x + e.sx, y0: e.y - e.sy, y1: e.y + e.sy, ...look };
      }
      // A tilted ellipse (d > 2: a diagonal covariance seen on a plane): a closed path of 48 points.
      const c = Math.cos(e.angle), s = Math.sin(e.angle);
      let path = "";
      for (let i = 0; i < 48; i++) {
        const t = (2 * Math.PI * i) / 48, a = e.sx * Math.cos(t), b = e.sy * Math.sin(t);
        path += `${i ? "L" : "M"}${e.x + a * c - b * s},${e.y + a * s + b * c}`;
      }
      return { type: "path", path: `${path}Z`, ...look };
    });
  const bg = d.background ? CACHE.get(d.background) : null;
  const images = [];
  if (bg && bg.kind === "image" && Array.isArray(bg.extent)) {
    const [x0, x1, y0, y1] = bg.extent; // row 0 of the picture at y1
    images.push({ source: bg.src, xref: "x", yref: "y", x: x0, y: y1, sizex: x1 - x0, sizey: y1 - y0,
      sizing: "stretch", xanchor: "left", yanchor: "top", opacity: finite(d.backgroundOpacity) ? d.backgroundOpacity : 0.45,
      layer: "below" });
  }
  const v = inst.pyView, axes = Array.isArray(d.axes) ? d.axes : ["z1", "z2"];
  // constrain "range": the plot fills its area and the longer side shows more of the plane. With "domain" a
  // wheel zoom shrank the x axis's domain and left the y range as it was: nothing zoomed, the view sent was home.
  const axis = { zeroline: true, constrain: "range", tickfont: { size: f }, automargin: true }; // room for "-4" and the title
  const layout = {
    height: finite(d.height) ? d.height : 560, margin: { l: 10, r: 10, t: 36, b: 10 }, dragmode: "pan",
    font: { size: f }, hoverlabel: { font: { size: f } }, hovermode: "closest", clickmode: "event",
    legend: { title: { text: "class: click hides,<br>double-click shows only it", font: { size: f } },
      itemsizing: "constant", font: { size: f }, y: 1, yanchor: "top",
      itemclick: false, itemdoubleclick: false }, // the legend's clicks are ours (listen below)
    xaxis: { title: { text: axes[0], font: { size: ft } }, range: [v.cx - v.half, v.cx + v.half], ...axis },
    yaxis: { title: { text: axes[1], font: { size: ft } }, range: [v.cy - v.half, v.cy + v.half], scaleanchor: "x",
      scaleratio: 1, ...axis },
    // While this stays the same and the ranges above too, Plotly.react keeps the user's zoom and pan.
    uirevision: `${d.uirevision || ""}|${inst.viewRev}`,
    shapes, annotations, images,
  };
  if (images.length) layout.plot_bgcolor = "rgba(0,0,0,0)";
  return { traces, layout, drawn, complete: Boolean(pts) && (!d.background || Boolean(bg)) };
}

const CONFIG = {
  displaylogo: false, scrollZoom: true, doubleClick: "reset", responsive: true,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
};

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
        listen(inst, P);
        inst.plotted = true;
      }
      STATS.draws.push({ kind, ms: now() - t0, t: now() });
      if (STATS.draws.length > 200) STATS.draws.splice(0, 100);
      if (inst.discarded) break;
      STATS.points = drawn;
      STATS.ready = complete && !inst.dirty;
    } while (inst.dirty);
  } catch (e) {
    console.error("plotly map: cannot draw", e);
  } finally {
    inst.drawing = false;
    if (inst.discarded) teardown(inst);
  }
}

// --- the user's gestures ----------------------------------------------------------------------------

function listen(inst, P) {
  const gd = inst.gd;
  gd.on("plotly_click", (ev) => {
    const p = ev && ev.points && ev.points[0];
    const n = Array.isArray(inst.data.classes) ? inst.data.classes.length : 0;
    if (!p || !(p.curveNumber < n)) return; // the ★, a ring, your digit
    const pts = CACHE.get(inst.data.points);
    const g = pts && pts.byClass.get(p.curveNumber);
    const index = g ? g.index[p.pointNumber] : undefined;
    if (Number.isInteger(index)) send(inst, "pick", { index });
  });
  gd.on("plotly_relayout", (ev) => {
    if (!ev || !Object.keys(ev).some((k) => k.startsWith("xaxis.") || k.startsWith("yaxis."))) return;
    const xr = gd._fullLayout.xaxis.range, yr = gd._fullLayout.yaxis.range;
    if (![...xr, ...yr].every(finite)) return;
    // The view is a square: the largest inside this plot area. Given that square, Plotly widens the longer side
    // again (constrain "range"), so a remount, a visit to Train or a link shows exactly this area.
    const half = Math.min(xr[1] - xr[0], yr[1] - yr[0]) / 2;
    inst.view = { cx: round4((xr[0] + xr[1]) / 2), cy: round4((yr[0] + yr[1]) / 2), half: round4(half) };
    STATS.view = { ...inst.view };
    clearTimeout(inst.viewTimer);
    inst.viewTimer = setTimeout(() => {
      inst.viewTimer = 0;
      send(inst, "view", { ...inst.view });
    }, VIEW_SETTLE_MS);
  });
  // Plotly fires legendclick for each click of a double-click, then legenddoubleclick: wait for the second.
  // Plotly does not toggle on its own (itemclick: false, and `false` here): the hidden classes are ours, and
  // Python's, shared with the live map.
  gd.on("plotly_legendclick", (ev) => {
    clearTimeout(inst.clickTimer);
    inst.clickTimer = setTimeout(() => {
      inst.clickTimer = 0;
      legendClick(inst, ev.curveNumber, false);
    }, LEGEND_CLICK_MS);
    return false;
  });
  gd.on("plotly_legenddoubleclick", (ev) => {
    clearTimeout(inst.clickTimer);
    inst.clickTimer = 0;
    legendClick(inst, ev.curveNumber, true);
    return false;
  });
}

function legendClick(inst, curve, double) {
  const classes = Array.isArray(inst.data.classes) ? inst.data.classes : [];
  if (!(curve < classes.length)) {
    const name = inst.gd.data && inst.gd.data[curve] ? inst.gd.data[curve].name : null;
    if (!name || double) return;
    if (inst.extraHidden.has(name)) inst.extraHidden.delete(name);
    else inst.extraHidden.add(name);
    draw(inst);
    return;
  }
  const all = classes.map((_, j) => j);
  let hidden;
  if (double) {
    const others = all.filter((j) => j !== curve);
    const alone = others.every((j) => inst.hidden.has(j)) && !inst.hidden.has(curve);
    hidden = alone ? [] : others; // only this class; again: all
  } else {
    hidden = inst.hidden.has(curve) ? [...inst.hidden].filter((j) => j !== curve) : [...inst.hidden, curve];
  }
  inst.hidden = new Set(hidden);
  STATS.hidden = [...inst.hidden].sort((a, b) => a - b);
  draw(inst);
  send(inst, "legend", { hidden: STATS.hidden });
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
  inst.root.style.minHeight = (finite(data.height) ? data.height : 560) + "px";
  // The chart's own height, not only its layout's: Plots.resize (the column's width changed) drops layout.height,
  // and a responsive chart then fills its div, which has no height of its own once the chart is in it.
  inst.gd.style.height = inst.root.style.minHeight;
  loadPlotly(data.plotly).then(() => afterPaint(() => draw(inst)), () => {
    if (data.plotly && data.plotly.key) askFor(inst, [data.plotly.key]);
  });
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

/** The data Python sent: one JSON string (latent_plane/spec.py, as_json), or an object from an older server. */
function readData(data) {
  return typeof data === "string" ? JSON.parse(data) : data;
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
