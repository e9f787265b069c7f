/*
 * What every part of the latent plane uses: the test hooks (window.__latentPlane), rounding and number
 * formats, DOM helpers, sending an event to Python and asking for the next animation frame.
 */

export const STATS = (globalThis.__latentPlane = globalThis.__latentPlane || {
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

export function now() {
  return performance.now();
}

export const finite = (v) => typeof v === "number" && Number.isFinite(v);

export function round2(v) {
  return Math.round(v * 100) / 100;
}

export function round4(v) {
  return Math.round(v * 1e4) / 1e4;
}

export function fmtZ(v) {
  return (v < 0 ? "\u2212" : "\u2007") + Math.abs(v).toFixed(2);
}

export function el(tag, cls, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}

export function button(parent, cls, text, label, onClick) {
  const b = el("button", "lp-btn " + cls, parent);
  b.type = "button";
  b.textContent = text;
  b.title = label;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

/** Send one event to Python (a trigger value), and note it for the tests. */
export function send(inst, event, value) {
  STATS.triggers.push({ event, value, t: now() });
  if (inst.setTrigger) inst.setTrigger(event, value);
}

/** Draw at the next animation frame, once however often asked. inst.frame is frame.js's frame, set by the
 * entry: the modules that ask for a frame do not import the drawing that the frame does. */
export function schedule(inst) {
  if (!inst.raf) inst.raf = requestAnimationFrame(inst.frame);
}
