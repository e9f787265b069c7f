/*
 * Sizes: the plane fits the column's width and the window's height below the component; the digit takes
 * what the side panel's other parts leave.
 */

import { schedule } from "./common.js";

const SIDE = 300; // px: the panel beside the plane (digit, readouts, buttons, sliders, legend)
const GAP = 24;
const MAX_PLANE = 960; // a 1080-px projector: the plane takes the height under the tabs (760 left 190 px empty)
const MIN_PLANE = 280; // the plane never gets smaller than this, however little height the window has
const BOTTOM_MARGIN = 16; // px left free under the component when it is sized to the window's height
const MIN_DIGIT = 120;
const MAX_DIGIT = 280;

/** The component's top in the page (not the window): its offset plus every scrolled ancestor's scroll. */
function pageTop(inst) {
  let top = inst.root.getBoundingClientRect().top + window.scrollY;
  for (let node = inst.root.parentNode; node; node = node.parentNode || node.host) {
    if (node.nodeType === 1) top += node.scrollTop;
  }
  return top;
}

export function layout(inst, force) {
  const width = Math.floor(inst.root.getBoundingClientRect().width);
  if (width <= 0) return;
  // the window's height below the component's top, so that the plane, the digit and the legend are all in
  // view when the page is at the top (or scrolled to the component); never below MIN_PLANE
  const height = Math.max(MIN_PLANE, Math.floor(window.innerHeight - pageTop(inst) - BOTTOM_MARGIN));
  const stacked = width < MIN_PLANE + GAP + SIDE + 10;
  const size = Math.max(200, Math.min(MAX_PLANE, height, stacked ? width : width - GAP - SIDE));
  inst.root.classList.toggle("lp-stacked", stacked);
  const dpr = window.devicePixelRatio || 1;
  if (size !== inst.size || dpr !== inst.dpr) {
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
    force = true;
  }
  // stacked (a phone), the side panel under the plane may take a screen's height: its 44 px rows (plane.css)
  // must not cost the digit its size
  const sideHeight = stacked ? Math.max(MAX_DIGIT + 400, window.innerHeight - BOTTOM_MARGIN) : Math.max(height, size);
  if (force || !inst.digitSize) fitSide(inst, sideHeight);
  schedule(inst);
}

/** The digit takes what the side panel's other parts leave of `height`; when even the smallest digit leaves
 * too little, the in-page sliders' list gives up the rest and scrolls. */
function fitSide(inst, height) {
  const cur = inst.digitSize || MAX_DIGIT;
  inst.sliders.style.maxHeight = "";
  inst.root.classList.remove("lp-tight");
  let rest = inst.side.scrollHeight - cur;
  if (rest + MIN_DIGIT > height) {  // too little even for the smallest digit: the mode line folds away
    inst.root.classList.add("lp-tight");
    rest = inst.side.scrollHeight - cur;
  }
  const d = Math.max(MIN_DIGIT, Math.min(MAX_DIGIT, Math.floor(height - rest)));
  const over = rest + d - height;
  if (over > 0 && inst.sliderInputs.length) {
    // whole rows: a row cut in half shows its name's lower half over the legend's title
    const row = inst.sliders.scrollHeight / inst.sliderInputs.length;
    const rows = Math.max(1, Math.floor(Math.max(56, inst.sliders.offsetHeight - over) / row));
    inst.sliders.style.maxHeight = `${Math.floor(rows * row)}px`;
  }
  if (d === inst.digitSize) return;
  inst.digitSize = d;
  for (const e of [inst.digit, inst.serverImg]) {
    e.style.width = `${d}px`;
    e.style.height = `${d}px`;
  }
}
