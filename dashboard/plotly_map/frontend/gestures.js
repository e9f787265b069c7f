/*
 * The user's gestures on the Plotly map: a click on a dot (a pick), a zoom or pan (the view, sent once it
 * settles), and legend clicks (the hidden classes, ours and Python's: Plotly does not toggle on its own).
 */

import { CACHE } from "./blobs.js";
import { listenClassTip } from "./class_layers.js";
import { STATS, finite, send } from "./common.js";

const VIEW_SETTLE_MS = 400;
const LEGEND_CLICK_MS = 320; // > Plotly's double-click delay (300 ms): one click, or the first of two?
const round4 = (v) => Math.round(v * 1e4) / 1e4;

/** Whether a relayout event is fitView's own (its ranges, as asked for); a gesture's names range[0], range[1]. */
export function ownFit(inst, ev) {
  const own = inst.fitting;
  return Boolean(own) && Object.keys(own).every((k) => Array.isArray(ev[k]) && ev[k].length === own[k].length &&
    ev[k].every((v, i) => v === own[k][i]));
}

/** The chart's clicks, zooms and pans, and legend clicks; redraw() draws the instance again (a legend click). */
export function listen(inst, redraw) {
  const gd = inst.gd;
  listenClassTip(inst, gd);
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
    if (!ev || ownFit(inst, ev) || !Object.keys(ev).some((k) => k.startsWith("xaxis.") || k.startsWith("yaxis."))) return;
    const xr = gd._fullLayout.xaxis.range, yr = gd._fullLayout.yaxis.range;
    if (![...xr, ...yr].every(finite)) return;
    // The view is a square: the largest inside this plot area. Given that square, Plotly widens the longer side
    // again (constrain "range"), so a remount, a visit to Train or a link shows exactly this area.
    const half = Math.min(xr[1] - xr[0], yr[1] - yr[0]) / 2;
    const view = { cx: round4((xr[0] + xr[1]) / 2), cy: round4((yr[0] + yr[1]) / 2), half: round4(half) };
    if (inst.view && ["cx", "cy", "half"].every((k) => view[k] === inst.view[k])) return; // not moved
    inst.view = view;
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
      legendClick(inst, ev.curveNumber, false, redraw);
    }, LEGEND_CLICK_MS);
    return false;
  });
  gd.on("plotly_legenddoubleclick", (ev) => {
    clearTimeout(inst.clickTimer);
    inst.clickTimer = 0;
    legendClick(inst, ev.curveNumber, true, redraw);
    return false;
  });
}

function legendClick(inst, curve, double, redraw) {
  const classes = Array.isArray(inst.data.classes) ? inst.data.classes : [];
  if (!(curve < classes.length)) {
    const name = inst.gd.data && inst.gd.data[curve] ? inst.gd.data[curve].name : null;
    if (!name || double) return;
    if (inst.extraHidden.has(name)) inst.extraHidden.delete(name);
    else inst.extraHidden.add(name);
    redraw();
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
  redraw();
  send(inst, "legend", { hidden: STATS.hidden });
}
