/*
 * Drawing: the static layer (background, grid, points, caption, axes; redrawn only when its key changes),
 * the overlay drawn every frame (ellipses, marks, the morph's path, the ★, posterior samples, the hover
 * cross, a class's layers: class_layers.js) and the decoded digit.
 */

import { blob } from "./blobs.js";
import { drawClassDots, drawHeat } from "./class_layers.js";
import { STATS, finite } from "./common.js";
import { plotRect, toPx } from "./geometry.js";

function niceStep(half) {
  const raw = (2 * half) / 8;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

export function drawStatic(inst) {
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

export function drawDigit(inst, dec) {
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

/** A label with its left end at x (or its right end: right = true), centred on y, on a light box. */
function label(ctx, text, x, y, color, px, right = false) {
  ctx.font = `bold ${px}px system-ui, sans-serif`;
  ctx.textBaseline = "middle";
  const w = ctx.measureText(text).width;
  if (right) x -= w;
  ctx.textAlign = "left";
  ctx.fillStyle = "rgba(255,255,255,0.8)";
  ctx.fillRect(x - 2, y - px * 0.6, w + 4, px * 1.2);
  ctx.fillStyle = color;
  ctx.fillText(text, x, y);
}

function box(x0, y0, x1, y1) {
  return { x0, y0, x1, y1 };
}

function overlaps(a, b) {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

/** A mark's label at the first of its four corners (upper right first) that keeps clear of `taken` and inside
 * the plot; the upper right when none does. The label's box joins `taken` (and STATS.labels, for the tests);
 * returns label()'s arguments. */
function placeLabel(ctx, text, px, py, q, color, size, r, taken, at) {
  ctx.font = `bold ${size}px system-ui, sans-serif`;
  const w = ctx.measureText(text).width + 4, h = size * 1.2;
  const corners = [[px + q + 2, py - q - 3], [px - q - 2 - w, py - q - 3], [px + q + 2, py + q + 3],
    [px - q - 2 - w, py + q + 3]];
  if (at === "sw") corners.reverse(); // the morph's frame: below left first, clear of the picks' labels above right
  const boxes = corners.map(([x, y]) => box(x - 2, y - h / 2, x - 2 + w, y + h / 2));
  const inside = (b) => b.x0 >= r.x0 && b.x1 <= r.x0 + r.w && b.y0 >= r.y0 && b.y1 <= r.y0 + r.h;
  let i = boxes.findIndex((b) => inside(b) && !taken.some((t) => overlaps(b, t)));
  if (i < 0) i = 0;
  taken.push(boxes[i]);
  STATS.labels.push({ text, ...boxes[i] });
  return [text, corners[i][0], corners[i][1], color, size];
}

export function drawOverlay(inst, z, what) {
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
    const rot = -(finite(e.angle) ? e.angle : 0);
    return { e, px, py, rx: Math.max(3, e.sx * scale), ry: Math.max(3, e.sy * scale), rot };
  });
  // for tests: each ellipse on the map (its centre, axes and angle) and on the canvas, and the pick it belongs to
  STATS.ellipses = ellipses.map(({ e, px, py, rx, ry, rot }) => ({
    pick: e.pick, x: e.x, y: e.y, sx: e.sx, sy: e.sy, angle: e.angle || 0, px, py, rx, ry, rot,
  }));
  drawHeat(inst, ctx); // a poll's guesses: under everything else of the overlay
  for (const { e, px, py, rx, ry, rot } of ellipses) {  // the fills first: under the marks and the ★
    ctx.beginPath();
    ctx.ellipse(px, py, rx, ry, rot, 0, 2 * Math.PI);
    ctx.fillStyle = e.fill || "rgba(0,0,0,0.08)";
    ctx.fill();
  }
  drawPath(inst, ctx, big); // under the marks: the frame's ring and the ends' rings sit on it
  // the ★: where the sliders are, or where it is being dragged
  const sz = what === "drag" ? z : inst.committed;
  const [sx, sy] = toPx(inst, sz[0], sz.length > 1 && d.z.length > 1 ? sz[1] : 0);
  const sr = (what === "drag" ? 14 : 12) * (big ? 1.25 : 1);
  const q = big ? 12 : 10;
  const marks = (d.marks || []).map((m) => ({ m, xy: toPx(inst, m.x, m.y) }));
  // what a mark's label keeps clear of: the ★, every mark, the plane's caption, the labels placed before it
  const taken = [box(sx - sr, sy - sr, sx + sr, sy + sr)]
    .concat(marks.map(({ xy: [px, py] }) => box(px - q, py - q, px + q, py + q)));
  if (d.caption && STATS.captionDrawn) taken.push(box(r.x0, r.y0, r.x0 + STATS.captionDrawn.width + 10, r.y0 + 24));
  for (const { m, xy: [px, py] } of marks) {
    ctx.lineWidth = big ? 4 : 3;
    ctx.strokeStyle = m.color || "#D62728";
    ctx.beginPath();
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
  }
  STATS.labels = [];
  STATS.starBox = taken[0];
  for (const { m, xy: [px, py] } of marks) {  // under the posterior's draws: a label must not hide one
    if (m.label) label(ctx, ...placeLabel(ctx, m.label, px, py, q, m.color || "#D62728", big ? 18 : 15, r, taken,
      m.labelAt));
  }
  star(ctx, sx, sy, sr);
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
  drawClassDots(inst, ctx, big); // the class's drawings, over the samples
  // ... and the ★'s outline once more over them, so that the draws never hide where the ★ is
  star(ctx, sx, sy, sr);
  ctx.lineWidth = (big ? 2 : 1.5) + 2;
  ctx.strokeStyle = "rgba(255,255,255,0.9)";
  ctx.stroke();
  ctx.lineWidth = big ? 2 : 1.5;
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
  // A dark line on a wide casing (scene.PATH_COLOR, PATH_CASING): the line shows on the light classes, the casing
  // on the dark ones (the 7s are black); the frames' dots the same way.
  const line = inst.data.path.color || "#111111", casing = inst.data.path.casing || "#FFFFFF";
  const r = big ? 3.5 : 3;
  ctx.lineJoin = "round";
  ctx.lineCap = "round";
  ctx.fillStyle = casing;
  for (const [x, y] of pts) {
    ctx.beginPath();
    ctx.arc(x, y, r + 3, 0, 2 * Math.PI);
    ctx.fill();
  }
  for (const [w, color] of [[big ? 12 : 10, casing], [big ? 3 : 2.5, line]]) {  // the casing 3 px and more each side, scaled or not
    ctx.beginPath();
    pts.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.lineWidth = w;
    ctx.strokeStyle = color;
    ctx.stroke();
  }
  ctx.fillStyle = line;
  for (const [x, y] of pts) {
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fill();
  }
  STATS.path.colors = { line, casing };
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
