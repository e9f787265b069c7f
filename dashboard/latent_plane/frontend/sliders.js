/*
 * The in-page z sliders: one per latent dimension (inactive ones folded away). Dragging one decodes at every
 * step; letting go sends one release.
 */

import { blob } from "./blobs.js";
import { STATS, el, finite, fmtZ, round2, schedule, send } from "./common.js";
import { project, release, starZ } from "./geometry.js";

export function buildSliders(inst) {
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
      release(inst);
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
export function syncSliders(inst) {
  const z = inst.plane && inst.sliderInputs.length ? starZ(inst) : null;
  for (const { dim, input, value } of inst.sliderInputs) {
    if (inst.sliding && inst.root.getRootNode().activeElement === input) continue;
    const v = z ? round2(z[dim]) : dim < 2 ? inst.committed[dim] : inst.zFull[dim];
    if (Number(input.value) !== v) input.value = String(v);
    const text = fmtZ(v);
    if (value.textContent !== text) value.textContent = text;
  }
}
