/*
 * plotly.js, loaded once per page: from the URL Python names (the plotly package's own file, served by the app)
 * or from its source in the blobs. Kept as our own reference, apart from window.Plotly.
 */

import { CACHE } from "./blobs.js";
import { STATS, now } from "./common.js";

export let PLOTLY = null;
let loading = null;

/** A URL relative to the app's base path (the page's path: the app is served at its base URL). */
function appUrl(url) {
  if (/^[a-z]+:|^\//i.test(url)) return url;
  const path = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
  return new URL(path + url, location.origin).href;
}

export function loadPlotly(spec) {
  if (PLOTLY) return Promise.resolve(PLOTLY);
  if (loading) return loading;
  const inline = spec && spec.key ? CACHE.get(spec.key) : null;
  if (!inline && !(spec && spec.url)) return Promise.reject(new Error("no plotly.js to load"));
  const t0 = now();
  loading = new Promise((resolve, reject) => {
    const s = document.createElement("script");
    // The script sets window.Plotly; keep our own reference (Streamlit's st.plotly_chart bundle sets it too).
    const take = () => {
      const P = globalThis.Plotly;
      if (!P || typeof P.react !== "function") return reject(new Error("plotly.js did not define Plotly"));
      PLOTLY = P;
      Object.assign(STATS, { plotly: P.version, loadMs: now() - t0, loadedFrom: inline ? "inline" : "url" });
      resolve(P);
    };
    if (inline) {
      s.textContent = inline.source; // runs now, in the page's global scope
      document.head.appendChild(s);
      take();
    } else {
      s.src = appUrl(spec.url);
      s.async = true;
      s.onload = take;
      s.onerror = () => {
        s.remove();
        reject(new Error("cannot load " + s.src));
      };
      document.head.appendChild(s);
    }
  });
  loading.catch(() => {
    loading = null;
  });
  return loading;
}
