/*
 * The points, background pictures and (when its URL cannot be loaded) plotly.js's source that Python sends
 * once per session, parsed and kept at module level for the page's life.
 */

export const CACHE = new Map(); // blob key -> parsed value: points {n, byClass}, image {src, extent}, script source

function bytesFromBase64(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function floatsFromBase64(b64) {
  const bytes = bytesFromBase64(b64);
  const out = new Float32Array(bytes.byteLength / 4); // little-endian, as every browser's hardware is
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** The points blob (dashboard/latent_plane/spec.py points_spec) split by class: typed arrays Plotly takes as is,
 * kept for the page's life, so that Plotly.react sees the same arrays every run and does not recompute them. */
function parsePoints(p) {
  const xy = floatsFromBase64(p.xy);
  const labels = bytesFromBase64(p.labels);
  if (xy.length !== 2 * p.n || labels.length !== p.n) throw new Error("points blob: wrong sizes");
  const count = new Map();
  for (let i = 0; i < p.n; i++) count.set(labels[i], (count.get(labels[i]) || 0) + 1);
  const byClass = new Map();
  for (const [k, m] of count) {
    byClass.set(k, { x: new Float32Array(m), y: new Float32Array(m), index: new Int32Array(m), n: 0 });
  }
  for (let i = 0; i < p.n; i++) {
    const g = byClass.get(labels[i]);
    g.x[g.n] = xy[2 * i];
    g.y[g.n] = xy[2 * i + 1];
    g.index[g.n++] = i;
  }
  return { kind: "points", n: p.n, byClass };
}

export function storeBlobs(blobs, keep) {
  for (const [key, p] of Object.entries(blobs || {})) {
    try {
      if (p.kind === "points") CACHE.set(key, parsePoints(p));
      else if (p.kind === "image") CACHE.set(key, { kind: "image", src: p.src, extent: p.extent });
      else if (p.kind === "script") CACHE.set(key, { kind: "script", source: p.source });
    } catch (e) {
      console.error("plotly map: cannot read blob", key, e);
    }
  }
  // Each model or manifold view adds a blob: keep the newest few (the page asks again for one it dropped).
  const old = [...CACHE.keys()].filter((k) => CACHE.get(k).kind !== "script" && !(keep && keep.has(k)));
  for (const k of old.slice(0, Math.max(0, old.length - 8))) CACHE.delete(k);
}
