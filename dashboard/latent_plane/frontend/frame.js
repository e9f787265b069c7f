/*
 * One animation frame: decode the z that the pointer, the keys or the sliders point at (once per new z), draw,
 * update the side panel, and record the frame's timing in window.__latentPlane.
 */

import { blob } from "./blobs.js";
import { STATS, now } from "./common.js";
import { dragZ, inside, sliceOrigin, toZ } from "./geometry.js";
import { drawDigit, drawOverlay, drawStatic } from "./layers.js";
import { readout } from "./side_panel.js";
import { syncSliders } from "./sliders.js";

/** The plane coordinates to decode this frame, and what they are. */
function activeZ(inst) {
  if (inst.mode === "drag" && inst.pointer) return { z: dragZ(inst, inst.pointer), what: "drag" };
  if (inst.mode === "hover" && inst.pointer && inside(inst, inst.pointer)) {
    return { z: toZ(inst, inst.pointer), what: "hover" };  // with one latent dimension, y is only jitter
  }
  return { z: inst.committed, what: "star" };
}

export function frame(inst) {
  inst.raf = 0;
  const d = inst.data;
  if (!d || !inst.size) return;
  const t0 = now();
  drawStatic(inst);
  const { z, what } = activeZ(inst);
  const dec = blob(d.decoder);
  let decoded = false;
  if (dec) {
    const zd = inst.zDecode, p = inst.plane;
    let key, slice = "";
    if (p) {  // z = o + u e1 + v e2: the decoder folds the slice into its first layer (decoder.setPlane)
      sliceOrigin(p, inst.zFull, zd);
      slice = d.decoder + ":" + Array.prototype.join.call(zd, ",");
      key = slice + ";" + z[0] + "," + z[1];
      for (let i = 0; i < zd.length; i++) zd[i] += z[0] * p.e1[i] + z[1] * p.e2[i];  // for STATS.zFull
    } else {
      zd.set(inst.zFull);
      zd[0] = z[0];
      if (zd.length > 1) zd[1] = z[1];
      key = Array.prototype.join.call(zd, ",") + d.decoder;
    }
    if (key !== inst.lastDecodedKey) {
      const out = inst.pixels && inst.pixels.length === dec.nPixels ? inst.pixels : undefined;
      if (p) {
        if (slice !== inst.planeSet || !dec.plane) {
          dec.setPlane(sliceOrigin(p, inst.zFull, new Float64Array(zd.length)), p.e1, p.e2);
          inst.planeSet = slice;
          STATS.planeSets = (STATS.planeSets || 0) + 1;
        }
        inst.pixels = dec.decodePlane(z[0], z[1], out);
      } else {
        inst.pixels = dec.decode(zd, out);
      }
      inst.lastDecodedKey = key;
      drawDigit(inst, dec);
      STATS.decodes++;
      decoded = true;
    }
  }
  drawOverlay(inst, z, what);
  readout(inst, z, what);
  syncSliders(inst);
  const dt = now() - t0;
  if (decoded) {
    STATS.frames.push(dt);
    STATS.frameStarts.push(t0);
    STATS.frameCauses.push(inst.cause);
    if (STATS.frames.length > 5000) {
      const cut = STATS.frames.length - 5000;
      for (const a of [STATS.frames, STATS.frameStarts, STATS.frameCauses]) a.splice(0, cut);
    }
  }
  STATS.z = [z[0], z[1]];
  STATS.zFull = Array.from(inst.zDecode);
  STATS.star = inst.committed.slice(); // where the ★ is drawn (what the readout and the sliders show)
  STATS.plane = Boolean(inst.plane);
  STATS.mode = inst.mode;
}
