/*
 * A class's layers on the Plotly map, beside the dots figure.js draws, as the Live map shows them
 * (latent_plane/frontend/class_layers.js): the pointer over a drawing's dot shows its reconstruction (never the
 * drawing) in a small box beside it; a poll's guesses are a translucent orange density over the points (a canvas
 * over the plot area: Plotly draws its own images and heat maps under the WebGL points).
 *
 * For tests: window.__plotlyMap.classDots = {n} (dots drawn), .classHover = the index shown (or null), and
 * .heat = {n, count, px: [left, top, width, height] of the density in viewport pixels} (or null).
 */

import { STATS, finite } from "./common.js";
import { CLASS_TRACE } from "./figure.js";

const IMAGE = 784;
const HOVER_PX = 10; // how near the pointer must be to a dot (as on the Live map)

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

function makeTip(inst) {
  const tip = document.createElement("div");
  tip.className = "pm-class-tip";
  tip.style.cssText = "position:absolute;display:none;pointer-events:none;background:#fff;border:1px solid #0B6E4F;" +
    "padding:3px;border-radius:4px;font:12px system-ui,sans-serif;text-align:center;z-index:3";
  const c = document.createElement("canvas");
  c.width = c.height = 28;
  c.style.cssText = "width:72px;height:72px;image-rendering:pixelated;display:block";
  const text = document.createElement("div");
  tip.append(c, text);
  inst.root.style.position = "relative";
  inst.root.appendChild(tip);
  return { tip, ctx: c.getContext("2d"), text };
}

function hide(inst) {
  if (inst.classTip) inst.classTip.tip.style.display = "none";
  STATS.classHover = null;
}

/** The class dot nearest the pointer, within HOVER_PX (its index), from Plotly's own axis mapping. Plotly's
 * hover cannot say: its "closest" point ties every marker under the pointer and takes the first trace's. */
function nearest(inst, gd, ev) {
  const layer = inst.data && inst.data.classDots, fl = gd._fullLayout;
  if (!layer || !Array.isArray(layer.xy) || !fl || !fl.xaxis || !fl.yaxis) return -1;
  if (inst.extraHidden.has(CLASS_TRACE)) return -1;
  const r = gd.getBoundingClientRect(), xa = fl.xaxis, ya = fl.yaxis;
  const px = ev.clientX - r.left - xa._offset, py = ev.clientY - r.top - ya._offset;
  let best = -1, bestD = HOVER_PX * HOVER_PX;
  for (let i = 0; 2 * i + 1 < layer.xy.length; i++) {
    const dx = xa.l2p(layer.xy[2 * i]) - px, dy = ya.l2p(layer.xy[2 * i + 1]) - py;
    if (dx * dx + dy * dy <= bestD) [best, bestD] = [i, dx * dx + dy * dy];
  }
  return best;
}

/** Once per chart: show a class drawing's reconstruction while the pointer is over its dot. */
export function listenClassTip(inst, gd) {
  gd.addEventListener("pointermove", (ev) => {
    const layer = inst.data && inst.data.classDots, i = nearest(inst, gd, ev);
    const recon = i >= 0 ? reconOf(layer, i) : null;
    if (!recon) return hide(inst);
    const t = inst.classTip || (inst.classTip = makeTip(inst));
    const img = t.ctx.createImageData(28, 28);
    recon.forEach((v, k) => img.data.set([v, v, v, 255], 4 * k));
    t.ctx.putImageData(img, 0, 0);
    const labels = Array.isArray(layer.labels) ? layer.labels : [];
    t.text.textContent = labels[i] ? `asked: ${labels[i]}` : "";
    const r = inst.root.getBoundingClientRect();
    const x = ev.clientX - r.left, y = ev.clientY - r.top;
    t.tip.style.left = `${Math.max(0, Math.min(x + 14, r.width - 90))}px`;
    t.tip.style.top = `${Math.max(0, y - 96)}px`;
    t.tip.style.display = "block";
    STATS.classHover = i;
  });
  gd.addEventListener("pointerleave", () => hide(inst));
  gd.on("plotly_relayouting", () => drawHeat(inst)); // a pan or zoom under way: the density moves with the axes
  gd.on("plotly_relayout", () => drawHeat(inst));
}

/** The guesses' density (scene.heat_grid: row 0 at the top) as a small picture, made once per grid. */
function heatPicture(inst, heat) {
  const key = heat.grid.join(",");
  if (inst.heatKey !== key) {
    const c = document.createElement("canvas");
    c.width = c.height = heat.n;
    const g = c.getContext("2d"), img = g.createImageData(heat.n, heat.n);
    heat.grid.forEach((v, i) => img.data.set([230, 85, 13, Math.round(190 * Math.min(1, Math.max(0, v)))], 4 * i));
    g.putImageData(img, 0, 0);
    [inst.heatKey, inst.heatPic] = [key, c];
  }
  return inst.heatPic;
}

/** Draw the guesses' density over the plot area, stretched over its extent by Plotly's axis mapping (after each
 * draw, and while a pan or zoom moves the axes). */
export function drawHeat(inst) {
  const heat = inst.data && inst.data.heat, fl = inst.gd._fullLayout;
  const ok = heat && Array.isArray(heat.grid) && finite(heat.n) && heat.grid.length === heat.n * heat.n;
  STATS.heat = null;
  if (!ok || !fl || !fl.xaxis || !fl.yaxis || !fl._size) {
    if (inst.heatCanvas) inst.heatCanvas.style.display = "none";
    return;
  }
  if (!inst.heatCanvas) {
    inst.heatCanvas = document.createElement("canvas");
    inst.heatCanvas.style.cssText = "position:absolute;pointer-events:none;z-index:2";
    inst.root.style.position = "relative";
    inst.root.appendChild(inst.heatCanvas);
  }
  const c = inst.heatCanvas, s = fl._size, xa = fl.xaxis, ya = fl.yaxis, dpr = window.devicePixelRatio || 1;
  const g0 = inst.gd.getBoundingClientRect(), r = inst.root.getBoundingClientRect();
  Object.assign(c.style, { display: "block", left: `${g0.left - r.left + s.l}px`, top: `${g0.top - r.top + s.t}px`,
    width: `${s.w}px`, height: `${s.h}px` });
  c.width = Math.round(s.w * dpr);
  c.height = Math.round(s.h * dpr);
  const g = c.getContext("2d"), [x0, x1, y0, y1] = heat.extent;
  const left = xa.l2p(x0), right = xa.l2p(x1), top = ya.l2p(y1), bottom = ya.l2p(y0);
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.imageSmoothingEnabled = true;
  g.drawImage(heatPicture(inst, heat), left, top, right - left, bottom - top);
  STATS.heat = { n: heat.n, count: heat.count ?? null,
    px: [g0.left + s.l + left, g0.top + s.t + top, right - left, bottom - top] };
}

/** What the last draw showed of the class (the tests' view of it), and the density drawn again. */
export function classStats(inst) {
  const dots = inst.data && inst.data.classDots;
  STATS.classDots = dots && Array.isArray(dots.xy) && dots.xy.length ? { n: Math.floor(dots.xy.length / 2) } : null;
  drawHeat(inst);
}
