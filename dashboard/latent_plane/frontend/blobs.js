/*
 * The large things Python sends once per session (the decoder, the points, the background picture, a follower's
 * posterior ellipses), parsed and kept at module level, so they survive reruns and are shared by every mount on
 * the page.
 */

import { now } from "./common.js";
import { LatentDecoder } from "./decoder.js";

const CACHE = new Map(); // blob key -> {kind, value, used}
const CACHE_LIMIT = 12;

function bytesFromBase64(b64) {
  return LatentDecoder.base64ToBytes(b64);
}

function parseBlob(payload) {
  if (payload.format === LatentDecoder.FORMAT) {
    return { kind: "decoder", value: new LatentDecoder.Decoder(payload) };
  }
  if (payload.kind === "points") {
    const xy = LatentDecoder.floatsFromBase64(payload.xy);
    const labels = bytesFromBase64(payload.labels);
    if (xy.length !== 2 * payload.n || labels.length !== payload.n) throw new Error("points blob: wrong sizes");
    const byClass = new Map();
    for (let i = 0; i < payload.n; i++) {
      const k = labels[i];
      if (!byClass.has(k)) byClass.set(k, []);
      byClass.get(k).push(i);
    }
    return { kind: "points", value: { n: payload.n, xy, labels, byClass } };
  }
  if (payload.kind === "shapes") { // each test image's posterior ellipse on the map: sx, sy, angle
    const sxa = LatentDecoder.floatsFromBase64(payload.sxa);
    if (sxa.length !== 3 * payload.n) throw new Error("shapes blob: wrong size");
    return { kind: "shapes", value: { n: payload.n, sxa } };
  }
  if (payload.kind === "image") {
    const img = new Image();
    const value = { img, extent: payload.extent, loaded: false, listeners: [] };
    img.onload = () => {
      value.loaded = true;
      value.listeners.forEach((f) => f());
    };
    img.src = payload.src;
    return { kind: "image", value };
  }
  throw new Error("unknown blob");
}

export function storeBlobs(blobs, keep) {
  for (const [key, payload] of Object.entries(blobs || {})) {
    try {
      CACHE.set(key, { ...parseBlob(payload), used: now() });
    } catch (e) {
      console.error("latent plane: cannot read blob", key, e);
    }
  }
  if (CACHE.size > CACHE_LIMIT) {
    const old = [...CACHE.entries()].filter(([k]) => !keep.has(k)).sort((a, b) => a[1].used - b[1].used);
    for (const [k] of old.slice(0, CACHE.size - CACHE_LIMIT)) CACHE.delete(k);
  }
}

export function blob(key) {
  if (!key) return null;
  const entry = CACHE.get(key);
  if (!entry) return null;
  entry.used = now();
  return entry.value;
}

/** Whether the page holds the blob `key`. */
export function holds(key) {
  return CACHE.has(key);
}
