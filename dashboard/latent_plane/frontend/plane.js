/*
 * The latent plane: an st.components.v2 component (an ES module run in the app's page, no iframe, no build).
 * decoder.js is prepended to this file by dashboard/latent_plane/__init__.py, so `LatentDecoder` is in scope.
 *
 * It draws the encoded test set coloured by class, optionally the decoded grid behind it, the current z (★),
 * picked points and ellipses, and beside the plane the image the decoder draws. While the pointer moves or
 * drags over the plane, this page decodes z itself and redraws at every animation frame: Python is not
 * involved until the drag ends (or on a click), when one trigger goes back:
 *
 *   release {z: [z1, z2]}   a drag ended or the plane was clicked off the dots: Python moves the sliders there
 *   pick {index}            a dot was clicked: Python picks that test image
 *   missing [keys]          blobs referred to that this page does not hold (sent again by Python)
 *
 * Large things (decoder weights, the 10,000 points, the background picture) come in data.blobs, once per
 * session; later runs refer to them by key and they are kept here, in this module, across reruns.
 *
 * For tests and bench/drag_fps.py, window.__latentPlane holds the page's own timings (performance.now()) of
 * every decode + draw, and a few counters.
 */

const CACHE = new Map(); // blob key -> {kind, value, used}
const CACHE_LIMIT = 12;
const INSTANCES = new WeakMap(); // parentElement -> instance
const MARGIN = { left: 52, right: 14, top: 14, bottom: 46 };
const SIDE = 300; // px: the image panel beside the plane
const GAP = 24;
const MAX_PLANE = 760;
const MIN_PLANE = 300;
const HIT_RADIUS = 7; // px: how near a dot a click or hover must be to name it
const STATS = (globalThis.__latentPlane = globalThis.__latentPlane || {
  frames: [], // ms of decode + draw, one per animation frame that decoded
  frameStarts: [], // performance.now() at the start of each of those frames
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

function createInstance(parentElement) {
  const root = el("div", "lp-root", parentElement);
  const planeBox = el("div", "lp-plane-box", root);
  const base = el("canvas", "lp-base", planeBox);
  const overlay = el("canvas", "lp-overlay", planeBox);
  overlay.setAttribute("aria-label", "latent plane: move to decode, drag and release to set z, click a dot to pick it");
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
  const legend = el("div", "lp-legend", side);
  const note = el("div", "lp-note", side);

  const inst = {
    root, planeBox, base, overlay, side, title, digit, serverImg, readZ, readMode, readNear, legend, note,
    baseCtx: base.getContext("2d"),
    overCtx: overlay.getContext("2d"),
    digitCtx: digit.getContext("2d"),
    image: null, // ImageData of the digit
    pixels: null, // Float32Array, the last decoded image
    data: null,
    setTrigger: null,
    size: 0, // CSS px of the square plane canvas
    dpr: 1,
    hidden: new Set(),
    committed: [0, 0], // where the ★ is (the sliders' z, or a release not yet confirmed)
    zFull: new Float64Array(1),
    mode: "idle", // idle | hover | drag
    pointer: null, // {x, y} CSS px in the plane canvas
    down: null,
    raf: 0,
    staticKey: "",
    legendKey: "",
    classNames: "",
    requested: new Map(), // blob key -> how often asked for
    lastDecodedKey: "",
    ro: null,
  };
  inst.image = inst.digitCtx.createImageData(28, 28);

  overlay.addEventListener("pointerdown", (e) => onDown(inst, e));
  overlay.addEventListener("pointermove", (e) => onMove(inst, e));
  overlay.addEventListener("pointerup", (e) => onUp(inst, e));
  overlay.addEventListener("pointercancel", () => onCancel(inst));
  overlay.addEventListener("pointerleave", () => {
    if (inst.mode === "hover") {
      inst.mode = "idle";
      inst.pointer = null;
      schedule(inst);
    }
  });
  inst.ro = new ResizeObserver(() => {
    if (!root.isConnected) return;
    layout(inst);
  });
  inst.ro.observe(root); // a block-level box: as wide as the column it is in, whatever it holds
  return inst;
}

function teardown(inst) {
  if (inst.raf) cancelAnimationFrame(inst.raf);
  inst.ro && inst.ro.disconnect();
}

function localPos(inst, e) {
  const r = inst.overlay.getBoundingClientRect();
  return { x: e.clientX - r.left, y: e.clientY - r.top };
}

function onDown(inst, e) {
  if (e.button !== 0 || !inst.data) return;
  inst.overlay.setPointerCapture(e.pointerId);
  const p = localPos(inst, e);
  inst.mode = "drag";
  inst.pointer = p;
  inst.down = { ...p, t: now() };
  STATS.mode = "drag";
  schedule(inst);
  e.preventDefault();
}

function onMove(inst, e) {
  if (!inst.data) return;
  inst.pointer = localPos(inst, e);
  if (inst.mode !== "drag") inst.mode = "hover";
  schedule(inst);
}

function onUp(inst, e) {
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
    send(inst, "release", { z: inst.committed.slice(0, zDims(inst)) });
  }
  inst.down = null;
  schedule(inst);
}

function onCancel(inst) {
  inst.mode = "idle";
  inst.down = null;
  inst.pointer = null;
  STATS.mode = "idle";
  schedule(inst);
}

function send(inst, event, value) {
  STATS.triggers.push({ event, value, t: now() });
  if (inst.setTrigger) inst.setTrigger(event, value);
}

function round2(v) {
  return Math.round(v * 100) / 100;
}

function zDims(inst) {
  return Math.min(2, inst.data ? inst.data.z.length : 2);
}

// --- geometry --------------------------------------------------------------------------------

function plotRect(inst) {
  const s = inst.size;
  const w = Math.max(10, Math.min(s - MARGIN.left - MARGIN.right, s - MARGIN.top - MARGIN.bottom));
  return { x0: MARGIN.left, y0: MARGIN.top, w, h: w };
}

function toPx(inst, zx, zy) {
  const r = plotRect(inst), e = inst.data.extent;
  return [r.x0 + ((zx + e) / (2 * e)) * r.w, r.y0 + ((e - zy) / (2 * e)) * r.h];
}

function toZ(inst, p) {
  const r = plotRect(inst), e = inst.data.extent;
  return [-e + ((p.x - r.x0) / r.w) * 2 * e, e - ((p.y - r.y0) / r.h) * 2 * e];
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
  const r = plotRect(inst), scale = r.w / (2 * inst.data.extent);
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

function layout(inst) {
  const width = Math.floor(inst.root.getBoundingClientRect().width);
  if (width <= 0) return;
  const stacked = width < MIN_PLANE + GAP + SIDE + 40;
  const size = Math.max(200, Math.min(MAX_PLANE, stacked ? width : width - GAP - SIDE));
  inst.root.classList.toggle("lp-stacked", stacked);
  const dpr = window.devicePixelRatio || 1;
  if (size === inst.size && dpr === inst.dpr) return;
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
  drawStatic(inst);
  schedule(inst);
}

function niceStep(extent) {
  const raw = (2 * extent) / 8;
  for (const s of [0.25, 0.5, 1, 2, 5, 10]) if (s >= raw) return s;
  return 20;
}

function drawStatic(inst) {
  const d = inst.data;
  if (!d || !inst.size) return;
  const pts = blob(d.points), bg = blob(d.background);
  const key = [d.points, d.background, bg && bg.loaded, d.extent, [...inst.hidden].sort().join(","), inst.size,
               inst.dpr, d.axes.join("|"), d.colors.join(",")].join(";");
  if (key === inst.staticKey) return;
  inst.staticKey = key;
  const ctx = inst.baseCtx, s = inst.size, r = plotRect(inst), e = d.extent;
  ctx.setTransform(inst.dpr, 0, 0, inst.dpr, 0, 0);
  ctx.clearRect(0, 0, s, s);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(r.x0, r.y0, r.w, r.h);
  ctx.save();
  ctx.beginPath();
  ctx.rect(r.x0, r.y0, r.w, r.h);
  ctx.clip();
  if (bg && bg.loaded) {
    const [x0, x1, y0, y1] = bg.extent;
    const [px0, py0] = toPx(inst, x0, y1), [px1, py1] = toPx(inst, x1, y0);
    ctx.globalAlpha = d.backgroundOpacity || 0.35;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(bg.img, px0, py0, px1 - px0, py1 - py0);
    ctx.globalAlpha = 1;
  }
  // grid lines
  const step = niceStep(e);
  ctx.strokeStyle = "rgba(0,0,0,0.09)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let v = Math.ceil(-e / step) * step; v <= e + 1e-9; v += step) {
    const [px] = toPx(inst, v, 0), [, py] = toPx(inst, 0, v);
    ctx.moveTo(Math.round(px) + 0.5, r.y0);
    ctx.lineTo(Math.round(px) + 0.5, r.y0 + r.h);
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
  // the points, one batched path per class
  if (pts) {
    const rad = Math.max(1.6, Math.min(3.2, r.w / 260));
    ctx.globalAlpha = 0.72;
    const classes = [...pts.byClass.keys()].sort((a, b) => a - b);
    for (const k of classes) {
      if (inst.hidden.has(k)) continue;
      ctx.fillStyle = d.colors[k % d.colors.length];
      ctx.beginPath();
      const xy = pts.xy;
      for (const i of pts.byClass.get(k)) {
        const [px, py] = toPx(inst, xy[2 * i], xy[2 * i + 1]);
        ctx.moveTo(px + rad, py);
        ctx.arc(px, py, rad, 0, 2 * Math.PI);
      }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }
  ctx.restore();
  // frame, ticks, labels
  ctx.strokeStyle = "rgba(0,0,0,0.45)";
  ctx.strokeRect(r.x0 + 0.5, r.y0 + 0.5, r.w - 1, r.h - 1);
  ctx.fillStyle = "#31333F";
  ctx.font = "14px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const fmt = (v) => (Math.abs(v) < 1e-9 ? "0" : step < 1 ? v.toFixed(2).replace(/0$/, "") : String(v)).replace("-", "\u2212");
  for (let v = Math.ceil(-e / step) * step; v <= e + 1e-9; v += step) {
    const [px] = toPx(inst, v, 0);
    ctx.fillText(fmt(v), px, r.y0 + r.h + 5);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (let v = Math.ceil(-e / step) * step; v <= e + 1e-9; v += step) {
    const [, py] = toPx(inst, 0, v);
    ctx.fillText(fmt(v), r.x0 - 6, py);
  }
  ctx.font = "italic 16px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillText(d.axes[0], r.x0 + r.w / 2, s - 2);
  ctx.save();
  ctx.translate(14, r.y0 + r.h / 2);
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
  const key = names + ";" + d.colors.join(",") + ";" + [...inst.hidden].sort().join(",");
  if (key === inst.legendKey) return;
  inst.legendKey = key;
  inst.legend.textContent = "";
  if (!d.classes.length) return;
  el("div", "lp-legend-title", inst.legend).textContent = "class (click to hide or show)";
  const grid = el("div", "lp-legend-grid", inst.legend);
  d.classes.forEach((name, k) => {
    const b = el("button", "lp-legend-item" + (inst.hidden.has(k) ? " lp-off" : ""), grid);
    b.type = "button";
    b.title = inst.hidden.has(k) ? `show ${name}` : `hide ${name}`;
    const dot = el("span", "lp-dot", b);
    dot.style.background = d.colors[k % d.colors.length];
    el("span", "lp-name", b).textContent = name;
    b.addEventListener("click", () => {
      if (inst.hidden.has(k)) inst.hidden.delete(k);
      else inst.hidden.add(k);
      drawLegend(inst);
      drawStatic(inst);
      schedule(inst);
    });
  });
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
  const { z, what } = activeZ(inst);
  const dec = blob(d.decoder);
  let decoded = false;
  if (dec) {
    const zf = inst.zFull;
    zf[0] = z[0];
    if (zf.length > 1) zf[1] = z[1];
    const key = Array.prototype.join.call(zf, ",") + d.decoder;
    if (key !== inst.lastDecodedKey) {
      inst.pixels = dec.decode(zf, inst.pixels && inst.pixels.length === dec.nPixels ? inst.pixels : undefined);
      inst.lastDecodedKey = key;
      drawDigit(inst, dec);
      STATS.decodes++;
      decoded = true;
    }
  }
  drawOverlay(inst, z, what);
  readout(inst, z, what);
  const dt = now() - t0;
  if (decoded) {
    STATS.frames.push(dt);
    STATS.frameStarts.push(t0);
    if (STATS.frames.length > 5000) {
      STATS.frames.splice(0, STATS.frames.length - 5000);
      STATS.frameStarts.splice(0, STATS.frameStarts.length - 5000);
    }
  }
  STATS.z = [z[0], z[1]];
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

function label(ctx, text, x, y, color) {
  ctx.font = "bold 15px system-ui, sans-serif";
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  const w = ctx.measureText(text).width;
  ctx.fillStyle = "rgba(255,255,255,0.8)";
  ctx.fillRect(x - 2, y - 9, w + 4, 18);
  ctx.fillStyle = color;
  ctx.fillText(text, x, y);
}

function drawOverlay(inst, z, what) {
  const ctx = inst.overCtx, d = inst.data, s = inst.size, r = plotRect(inst);
  const scale = r.w / (2 * d.extent);
  ctx.setTransform(inst.dpr, 0, 0, inst.dpr, 0, 0);
  ctx.clearRect(0, 0, s, s);
  ctx.save();
  ctx.beginPath();
  ctx.rect(r.x0, r.y0, r.w, r.h);
  ctx.clip();
  for (const e of d.ellipses || []) {
    const [px, py] = toPx(inst, e.x, e.y);
    ctx.beginPath();
    ctx.ellipse(px, py, Math.max(1, e.sx * scale), Math.max(1, e.sy * scale), 0, 0, 2 * Math.PI);
    ctx.fillStyle = e.fill || "rgba(0,0,0,0.08)";
    ctx.fill();
    ctx.setLineDash(e.dash ? [6, 4] : []);
    ctx.lineWidth = 2;
    ctx.strokeStyle = e.color || "#222";
    ctx.stroke();
    ctx.setLineDash([]);
  }
  for (const m of d.marks || []) {
    const [px, py] = toPx(inst, m.x, m.y);
    ctx.lineWidth = 3;
    ctx.strokeStyle = m.color || "#D62728";
    ctx.beginPath();
    if (m.shape === "diamond") {
      ctx.moveTo(px, py - 10);
      ctx.lineTo(px + 10, py);
      ctx.lineTo(px, py + 10);
      ctx.lineTo(px - 10, py);
      ctx.closePath();
      ctx.fillStyle = "rgba(255,255,255,0.6)";
      ctx.fill();
    } else {
      ctx.arc(px, py, 8, 0, 2 * Math.PI);
    }
    ctx.stroke();
    if (m.label) label(ctx, m.label, px + 12, py - 13, m.color || "#D62728");
  }
  // the ★: where the sliders are, or where it is being dragged
  const sz = what === "drag" ? z : inst.committed;
  const [sx, sy] = toPx(inst, sz[0], sz.length > 1 && d.z.length > 1 ? sz[1] : 0);
  star(ctx, sx, sy, what === "drag" ? 14 : 12);
  ctx.fillStyle = "#FFD700";
  ctx.fill();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = "#111";
  ctx.stroke();
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

function fmtZ(v) {
  return (v < 0 ? "\u2212" : "\u2007") + Math.abs(v).toFixed(2);
}

function readout(inst, z, what) {
  const d = inst.data;
  const parts = [fmtZ(z[0])];
  if (d.z.length > 1) parts.push(fmtZ(z[1]));
  if (d.z.length > 2) parts.push(d.z.length > 3 ? `${fmtZ(d.z[2])}, \u2026` : fmtZ(d.z[2]));
  const text = `z = (${parts.join(", ")})`;
  if (inst.readZ.textContent !== text) inst.readZ.textContent = text;
  const mode = what === "drag" ? "dragging the \u2605: release to set the sliders"
    : what === "hover" ? "under the pointer: click to move the \u2605 here"
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

function update(inst, data) {
  STATS.renders++;
  const refs = [data.decoder, data.points, data.background].filter(Boolean);
  storeBlobs(data.blobs, new Set(refs));
  delete data.blobs; // parsed; do not keep a second copy of the base64
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
      drawStatic(inst);
      schedule(inst);
    });
  }
  const d = Math.max(1, data.z.length);
  if (inst.zFull.length !== d) inst.zFull = new Float64Array(d);
  for (let i = 0; i < d; i++) inst.zFull[i] = data.z[i];
  inst.committed = [data.z[0] || 0, d > 1 ? data.z[1] : 0];
  inst.lastDecodedKey = "";
  const dec = blob(data.decoder);
  inst.digit.style.display = dec ? "" : "none";
  inst.serverImg.style.display = dec ? "none" : "";
  if (!dec && data.serverImage && inst.serverImg.src !== data.serverImage) inst.serverImg.src = data.serverImage;
  inst.note.textContent = data.note || "";
  inst.root.dataset.decoder = dec ? "browser" : "server";
  inst.title.textContent = dec ? "Decoder output, computed in your browser" : "Decoder output at the \u2605, from the server";
  drawLegend(inst);
  if (!inst.size) layout(inst);
  else drawStatic(inst);
  schedule(inst);
  // everything referred to is here (a fallback page, with no decoder of its own, is ready too)
  STATS.ready = Boolean((dec || !data.decoder) && (!data.points || blob(data.points)));
  // what the page runs and shows, for the browser tests
  STATS.decoderKind = dec ? (dec.ops.some((op) => op.type === "conv_transpose") ? "conv" : "mlp") : "server";
  STATS.background = Boolean(bg && bg.loaded);
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let inst = INSTANCES.get(parentElement);
  if (!inst || !inst.root.isConnected) {
    inst = createInstance(parentElement);
    INSTANCES.set(parentElement, inst);
  }
  inst.setTrigger = setTriggerValue;
  // Where a latent point is on the screen (client px), for tests and the benchmark.
  STATS.locate = (zx, zy) => {
    const [x, y] = toPx(inst, zx, zy), r = inst.overlay.getBoundingClientRect();
    return { x: r.left + x, y: r.top + y };
  };
  if (data) update(inst, data);
  // Called before the next data update and when the element goes away; only the latter ends the instance.
  return () => {
    setTimeout(() => {
      if (!inst.root.isConnected) teardown(inst);
    }, 1000);
  };
}
