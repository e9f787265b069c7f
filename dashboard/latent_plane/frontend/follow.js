/*
 * A class's follower takes the lecturer's ★ and zoom from the page's address.
 *
 * When the lecturer moves only the ★ or the zoom, the server sends a follower's page its new address and no run of
 * the page's script (dashboard/classroom/in_page.py): Streamlit's page sets the address bar, and this module hears
 * of it and has the map take z and v from it, decoded and drawn here at once. data.followAddress = {limit} says
 * the map follows (a follower's Live map); without it the address is not read. The link's format is url.py's:
 * z=z1,...,zd (left out: every z is 0) and v=cx,cy,half (left out: 0,0,limit).
 */

import { STATS, finite, schedule } from "./common.js";
import { takeZ } from "./geometry.js";
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

function same(a, b) {
  return Boolean(a && b) && a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-9);
}

/** Take the address's ★ and view, where they differ from what the map shows (not under a hand moving the ★). */
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
