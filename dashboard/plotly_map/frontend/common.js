/*
 * What the Plotly map's modules share: the test hooks (window.__plotlyMap), sending an event to Python and two
 * small helpers.
 */

export const STATS = (globalThis.__plotlyMap = globalThis.__plotlyMap || {
  plotly: null, // the plotly.js version drawing, once loaded
  loadMs: null, // script added -> plotly.js ready
  loadedFrom: null, // "url" | "inline"
  draws: [], // {kind: "new" | "react", ms, t}
  triggers: [],
  points: 0, // test images drawn in the class traces by the last draw
  ready: false, // the last data update is drawn, with every point it refers to
  view: null,
  viewRev: undefined,
  hidden: [],
});

export const finite = (v) => typeof v === "number" && Number.isFinite(v);
export const now = () => performance.now();

/** Send one event to Python (a trigger value), and note it for the tests. */
export function send(inst, event, value) {
  STATS.triggers.push({ event, value, t: now() });
  if (inst.setTrigger) inst.setTrigger(event, value);
}
