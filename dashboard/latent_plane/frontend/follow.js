/*
 * A class's follower takes the lecturer's ★, zoom and picks from the page's address.
 *
 * When the lecturer moves only those, the server sends a follower's page its new address and no run of its map
 * (dashboard/classroom/in_page.py): Streamlit's page sets the address bar, and this module hears of it and has the
 * map take them from it, decoded and drawn here at once. data.followAddress = {limit, codes} says the map follows
 * (a follower's Live map) and which of the view's parameters it takes (codes: "z", "v", and "p" where the map draws
 * nothing else from the picks: then also pickColor, posteriorColor and shapes, the key of a blob of every test
 * image's 1σ ellipse on the map); without it the address is not read. The link's format is url.py's:
 * z=z1,...,zd (left out: every z is 0), v=cx,cy,half (left out: 0,0,limit) and p=i or p=i,j (test images; left out:
 * none). The picks are drawn as the server's scene draws them (explore/scene.py): a ring at each, "A" (and "B"),
 * and the last one's ellipse; the marks and ellipses of a pick carry its number (`pick`).
 */

import { blob } from "./blobs.js";
import { STATS, finite, schedule } from "./common.js";
import { takeZ } from "./geometry.js";
import { drawTools } from "./side_panel.js";
import { setView } from "./view.js";

const EVENT = "latent-explorer:address";
const WRAPPED = Symbol.for("latent-explorer.history");

/** Streamlit changes the address with history.pushState / replaceState, which fire no event: announce them. */
function announceAddressChanges() {
  if (window.history[WRAPPED]) return;
  for (const name of ["pushState", "replaceState"]) {
    const original = window.history[name];
    window.history[name] = function (...args) {
      const out = original.apply(this, args);
      window.dispatchEvent(new Event(EVENT));
      return out;
    };
  }
  window.history[WRAPPED] = true;
}

function numbers(text, n) {
  const v = String(text).split(",").map(Number);
  return v.length === n && v.every(finite) ? v : null;
}

/** The ★ and the view the address holds, or nulls where it holds none that fits this map. */
export function addressView(search, d, limit) {
  const q = new URLSearchParams(search);
  const z = q.has("z") ? numbers(q.get("z"), d) : new Array(d).fill(0);
  const v = q.has("v") ? numbers(q.get("v"), 3) : [0, 0, limit];
  return { z, view: v && v[2] > 0 ? { cx: v[0], cy: v[1], half: v[2] } : null };
}

/** The picks the address holds (test-image numbers below n, at most two; [] for none), or null where they do not
 * fit. */
export function addressPicks(search, n) {
  const q = new URLSearchParams(search);
  if (!q.has("p")) return [];
  const p = String(q.get("p")).split(",").map(Number);
  return p.length <= 2 && p.every((i) => Number.isInteger(i) && i >= 0 && i < n) ? p : null;
}

/** The picks the map shows: the numbers its rings carry. */
function shownPicks(data) {
  return (data.marks || []).filter((m) => Number.isInteger(m.pick)).map((m) => m.pick);
}

/** data's marks, ellipses and focus with `picks` drawn: a ring at each point, the last one's ellipse on top. */
export function withPicks(data, picks, points, shapes, f) {
  const at = (i) => [points.xy[2 * i], points.xy[2 * i + 1]];
  const names = picks.length === 2 ? ["A", "B"] : ["A"];
  const rings = picks.map((i, k) => ({ x: at(i)[0], y: at(i)[1], label: names[k], color: f.pickColor, pick: i }));
  const last = picks.length ? picks[picks.length - 1] : null;
  const ellipses = last !== null && shapes ? [{
    x: at(last)[0], y: at(last)[1], sx: shapes.sxa[3 * last], sy: shapes.sxa[3 * last + 1],
    angle: shapes.sxa[3 * last + 2], color: f.posteriorColor, z: "top", pick: last,
  }] : [];
  return {
    marks: rings.concat((data.marks || []).filter((m) => !Number.isInteger(m.pick))),
    ellipses: ellipses.concat((data.ellipses || []).filter((e) => !Number.isInteger(e.pick))),
    focus: last !== null ? at(last) : null,
  };
}

function takePicks(inst, f) {
  const points = blob(inst.data.points);
  const picks = points ? addressPicks(window.location.search, points.n) : null;
  if (!picks || same(picks, shownPicks(inst.data))) return false;
  Object.assign(inst.data, withPicks(inst.data, picks, points, f.shapes ? blob(f.shapes) : null, f));
  drawTools(inst); // "centre on the pick" follows data.focus
  STATS.followedPicks = picks.slice();
  return true;
}

function same(a, b) {
  return Boolean(a && b) && a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-9);
}

/** Take the address's ★, view and picks, where they differ from what the map shows (the ★ not under a hand
 * moving it). */
export function followAddress(inst) {
  const f = inst.data && inst.data.followAddress;
  if (!f || !finite(f.limit)) return;
  const { z, view } = addressView(window.location.search, inst.zFull.length, f.limit);
  const busy = inst.nudgeTimer || inst.sliding || inst.mode === "drag";
  let moved = false;
  if (z && !busy && !same(z, Array.from(inst.zFull))) {
    takeZ(inst, z);
    inst.agreedZ = z.slice();
    inst.cause = "follow";
    moved = true;
  }
  const shown = inst.view;
  if (view && (view.cx !== shown.cx || view.cy !== shown.cy || view.half !== shown.half)) {
    clearTimeout(inst.viewTimer); // the lecturer's zoom wins over one of the page's own that had not settled
    inst.viewTimer = 0;
    setView(inst, view, false);
    moved = true;
  }
  if ((f.codes || []).includes("p") && takePicks(inst, f)) moved = true;
  if (moved) {
    STATS.followed = (STATS.followed || 0) + 1; // tests wait for this count
    STATS.followedZ = Array.from(inst.zFull);
    inst.lastDecodedKey = "";
    inst.planeSet = "";
    schedule(inst);
  }
}

/** Listen for address changes (teardown calls the function returned). */
export function listenAddress(inst) {
  announceAddressChanges();
  const on = () => inst.root.isConnected && followAddress(inst);
  window.addEventListener(EVENT, on);
  return () => window.removeEventListener(EVENT, on);
}
