/*
 * Where things are: the plot's square on the canvas, plane coordinates <-> CSS px, the dot under the pointer,
 * and for d > 2 the plane through the latent space (the map's (u, v) <-> the whole z).
 */

import { blob } from "./blobs.js";
import { finite, round2, round4, send } from "./common.js";

const HIT_RADIUS = 7; // px: how near a dot a click or hover must be to name it

function margins(inst) {
  return inst.presenter ? { left: 64, right: 16, top: 14, bottom: 58 } : { left: 52, right: 14, top: 14, bottom: 46 };
}

export function plotRect(inst) {
  const m = margins(inst), s = inst.size;
  return { x0: m.left, y0: m.top, w: s - m.left - m.right, h: s - m.top - m.bottom };
}

export function toPx(inst, zx, zy) {
  const r = plotRect(inst), v = inst.view, scale = r.w / (2 * v.half);
  // px = x0 + (z - (c - half)) * scale; y grows downwards on the screen
  return [r.x0 + (zx - v.cx + v.half) * scale, r.y0 + (v.cy + v.half - zy) * scale];
}

export function toZ(inst, p) {
  const r = plotRect(inst), v = inst.view, scale = r.w / (2 * v.half);
  return [v.cx - v.half + (p.x - r.x0) / scale, v.cy + v.half - (p.y - r.y0) / scale];
}

export function inside(inst, p) {
  const r = plotRect(inst);
  return p.x >= r.x0 && p.x <= r.x0 + r.w && p.y >= r.y0 && p.y <= r.y0 + r.h;
}

/** z under the pointer while dragging: kept inside the sliders' range (where the ★ can go). */
export function dragZ(inst, p) {
  const z = toZ(inst, p), lim = inst.data.limit;
  const c = (v) => Math.max(-lim, Math.min(lim, v));
  return [c(z[0]), inst.data.z.length > 1 ? c(z[1]) : 0];
}

export function nearestPoint(inst, p) {
  const pts = blob(inst.data.points);
  if (!pts) return -1;
  const scale = plotRect(inst).w / (2 * inst.view.half);
  const [zx, zy] = toZ(inst, p);
  let best = -1, bestD = (HIT_RADIUS / scale) ** 2;
  const { xy, labels, n } = pts;
  for (let i = 0; i < n; i++) {
    if (inst.hidden.has(labels[i])) continue;
    const dx = xy[2 * i] - zx, dy = xy[2 * i + 1] - zy;
    const d = dx * dx + dy * dy;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/** data.plane checked: {m, e1, e2} of d finite numbers each, or null. */
export function readPlane(data) {
  const p = data.plane, d = data.z.length;
  if (!p || d < 3) return null;
  const vec = (a) => (Array.isArray(a) && a.length === d && a.every(finite) ? Float64Array.from(a) : null);
  const m = vec(p.mean), e1 = vec(p.e1), e2 = vec(p.e2);
  return m && e1 && e2 ? { m, e1, e2 } : null;
}

/** (u, v) = ((z - m) . e1, (z - m) . e2) */
export function project(plane, z) {
  let u = 0, v = 0;
  for (let i = 0; i < plane.m.length; i++) {
    const c = z[i] - plane.m[i];
    u += c * plane.e1[i];
    v += c * plane.e2[i];
  }
  return [u, v];
}

/** The slice's origin through z0: o = z0 - u0 e1 - v0 e2, (u0, v0) = project(z0), written into out. */
export function sliceOrigin(plane, z0, out) {
  const [u0, v0] = project(plane, z0);
  for (let i = 0; i < out.length; i++) out[i] = z0[i] - u0 * plane.e1[i] - v0 * plane.e2[i];
  return out;
}

/** z = o + u e1 + v e2 on the slice through zFull, written into out. */
function liftZ(inst, uv, out) {
  const p = inst.plane;
  sliceOrigin(p, inst.zFull, out);
  for (let i = 0; i < out.length; i++) out[i] += uv[0] * p.e1[i] + uv[1] * p.e2[i];
  return out;
}

/** The ★'s whole z now: zFull off the plane, committed on it (with a plane), zFull and committed without. */
export function starZ(inst) {
  const out = new Float64Array(inst.zFull.length);
  if (inst.plane) return liftZ(inst, inst.committed, out);
  out.set(inst.zFull);
  out[0] = inst.committed[0];
  if (out.length > 1) out[1] = inst.committed[1];
  return out;
}

/** The whole latent vector at the ★: Python sets every slider from it. */
export function fullZ(inst) {
  if (inst.plane) return Array.from(starZ(inst), round4);
  const d = inst.data.z.length, out = [];
  for (let i = 0; i < d; i++) out.push(i < 2 ? round2(inst.committed[i]) : round4(inst.zFull[i]));
  return out;
}

/** Tell Python the ★'s whole z (a drag ended, the keys paused, a slider was let go): numbered, so that a map
 * Python sent before it had heard of this release (data.ack < seq) does not move the ★ back. */
export function release(inst) {
  const z = fullZ(inst);
  inst.seq += 1;
  inst.agreedZ = z; // what Python will hold once it has this: a local undo goes back to it
  inst.lastRelease = { z, seq: inst.seq };
  send(inst, "release", inst.lastRelease);
}

/** Take z from Python: the ★ and every other dimension. */
export function takeZ(inst, z) {
  const d = Math.max(1, z.length);
  if (inst.zFull.length !== d) inst.zFull = new Float64Array(d);
  if (inst.zDecode.length !== d) inst.zDecode = new Float64Array(d);
  for (let i = 0; i < d; i++) inst.zFull[i] = finite(z[i]) ? z[i] : 0;
  inst.committed = inst.plane ? project(inst.plane, inst.zFull) : [inst.zFull[0], d > 1 ? inst.zFull[1] : 0];
}
