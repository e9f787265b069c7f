/*
 * A class's layers on the plane (dashboard/classroom sets them, explore/scene.py's class_layers sends them):
 *
 *   data.heat       {grid: [n * n] in 0..1 (row 0 at the top), n, extent: [x0, x1, y0, y1], count}: the density
 *                   of a poll's guesses, drawn under everything else of the overlay as a translucent orange map
 *   data.classDots  {xy: [x0, y0, ...], labels: [...], color, recons: base64 of 784 uint8 per dot}: the students'
 *                   drawings, a dot each; the pointer over a dot shows its reconstruction (never the drawing)
 *
 * For tests: window.__latentPlane.classDots = {n, px: [[x, y], ...] (CSS px in the plane canvas)}, .heat = {n, count}
 * and .classHover = the index of the dot whose reconstruction is shown (or null).
 */

import { STATS, el, finite } from "./common.js";
import { toPx } from "./geometry.js";

const HOVER_PX = 10; // how near the pointer must be to a dot to show its reconstruction
const IMAGE = 784;

function points(layer) {
  const xy = layer && Array.isArray(layer.xy) ? layer.xy : [];
  const out = [];
  for (let i = 0; i + 1 < xy.length; i += 2) out.push(finite(xy[i]) && finite(xy[i + 1]) ? [xy[i], xy[i + 1]] : null);
  return out;
}

/** The guesses' density as a small picture, stretched over its extent (smoothed by the canvas). */
export function drawHeat(inst, ctx) {
  const heat = inst.data.heat;
  STATS.heat = null;
  if (!heat || !Array.isArray(heat.grid) || !finite(heat.n) || heat.grid.length !== heat.n * heat.n) return;
  const key = heat.grid.join(",");
  if (inst.heatKey !== key) {
    inst.heatKey = key;
    const c = document.createElement("canvas");
    c.width = c.height = heat.n;
    const g = c.getContext("2d"), img = g.createImageData(heat.n, heat.n);
    heat.grid.forEach((v, i) => {
      const a = finite(v) ? Math.max(0, Math.min(1, v)) : 0;
      img.data.set([255, Math.round(140 - 100 * a), 0, Math.round(200 * a)], 4 * i); // orange to red, denser = more opaque
    });
    g.putImageData(img, 0, 0);
    inst.heatCanvas = c;
  }
  const [x0, x1, y0, y1] = heat.extent;
  const [px0, py0] = toPx(inst, x0, y1), [px1, py1] = toPx(inst, x1, y0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(inst.heatCanvas, px0, py0, px1 - px0, py1 - py0);
  STATS.heat = { n: heat.n, count: heat.count ?? null };
}

/** The class's drawings: a dot each with a white rim. */
export function drawClassDots(inst, ctx, big) {
  const layer = inst.data.classDots, pts = points(layer);
  inst.classPx = [];
  STATS.classDots = null;
  if (!pts.length) return;
  const r = big ? 5 : 4;
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = "#ffffff";
  ctx.fillStyle = layer.color || "#0B6E4F";
  for (const p of pts) {
    if (!p) {
      inst.classPx.push(null);
      continue;
    }
    const [px, py] = toPx(inst, p[0], p[1]);
    ctx.beginPath();
    ctx.arc(px, py, r, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    inst.classPx.push([px, py]);
  }
  STATS.classDots = { n: pts.length, px: inst.classPx.filter(Boolean) };
}

function reconOf(layer, i) {
  if (!layer.reconBytes) {
    try {
      const bin = atob(layer.recons || "");
      layer.reconBytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    } catch {
      layer.reconBytes = new Uint8Array(0);
    }
  }
  const b = layer.reconBytes;
  return b.length >= (i + 1) * IMAGE ? b.subarray(i * IMAGE, (i + 1) * IMAGE) : null;
}

/** The pointer over a class dot: its reconstruction (and label) in a small box beside it; elsewhere none. */
function hover(inst, e) {
  const layer = inst.data && inst.data.classDots, tip = inst.classTip;
  const r = inst.overlay.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
  let best = -1, bestD = HOVER_PX * HOVER_PX;
  (inst.classPx || []).forEach((p, i) => {
    if (!p) return;
    const dd = (p[0] - x) ** 2 + (p[1] - y) ** 2;
    if (dd <= bestD) [best, bestD] = [i, dd];
  });
  const recon = best >= 0 && layer ? reconOf(layer, best) : null;
  STATS.classHover = recon ? best : null;
  if (!recon) {
    tip.style.display = "none";
    return;
  }
  const g = inst.classTipCtx, img = g.createImageData(28, 28);
  recon.forEach((v, k) => img.data.set([v, v, v, 255], 4 * k));
  g.putImageData(img, 0, 0);
  const label = Array.isArray(layer.labels) ? layer.labels[best] : null;
  inst.classTipText.textContent = label ? `asked: ${label}` : "";
  tip.style.display = "block";
  tip.style.left = `${Math.min(x + 14, inst.size - 90)}px`;
  tip.style.top = `${Math.max(0, y - 96)}px`;
}

/** Once per instance: the hover box and its listener. */
export function listenClass(inst) {
  const tip = el("div", "lp-class-tip", inst.planeBox);
  tip.style.cssText = "position:absolute;display:none;pointer-events:none;background:#fff;border:1px solid #0B6E4F;" +
    "padding:3px;border-radius:4px;font:12px system-ui,sans-serif;text-align:center;z-index:3";
  const c = el("canvas", "lp-class-recon", tip);
  c.width = c.height = 28;
  c.style.cssText = "width:72px;height:72px;image-rendering:pixelated;display:block";
  inst.classTip = tip;
  inst.classTipCtx = c.getContext("2d");
  inst.classTipText = el("div", "", tip);
  inst.overlay.addEventListener("pointermove", (e) => hover(inst, e));
  inst.overlay.addEventListener("pointerleave", () => {
    tip.style.display = "none";
    STATS.classHover = null;
  });
}
