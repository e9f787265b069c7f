/*
 * The side panel beside the plane: the legend (hide and show classes), the tool buttons' state and the
 * readouts under the digit.
 */

import { blob } from "./blobs.js";
import { STATS, button, el, finite, fmtZ, schedule, send } from "./common.js";
import { nearestPoint } from "./geometry.js";

const LEGEND_SETTLE_MS = 300; // > a double-click's two clicks, so "only this class" sends one legend trigger

export function drawLegend(inst) {
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
export function setHidden(inst, hidden, notify) {
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

export function drawTools(inst) {
  const d = inst.data, f = d.focus;
  inst.btnFocus.disabled = !(Array.isArray(f) && finite(f[0]));
  inst.btnUndo.disabled = !d.undoable;
}

export function readout(inst, z, what) {
  const d = inst.data;
  const parts = [fmtZ(z[0])];
  if (d.z.length > 1) parts.push(fmtZ(z[1]));
  if (d.z.length > 2 && !inst.sliderInputs.length && !inst.plane) {
    parts.push(d.z.length > 3 ? `${fmtZ(inst.zFull[2])}, \u2026` : fmtZ(inst.zFull[2]));
  }
  // on a plane (or UMAP's map, data.mapCoords): the map's coordinates (the side panel has room for ~20 characters)
  const text = inst.plane || d.mapCoords ? `map (${parts.join(", ")})` : `z = (${parts.join(", ")})`;
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
      near = `dot: test image #${i} (${d.classes[pts.labels[i]] ?? pts.labels[i]})`
        + (what === "hover" ? ", click to pick it" : "");
    }
  }
  if (inst.readNear.textContent !== near) inst.readNear.textContent = near;
}
