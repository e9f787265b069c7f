/*
 * What Plotly draws: the data from Python turned into traces (a WebGL one per class, then the marks, the
 * morph's path, the samples and the ★) and a layout (axes, ellipses as shapes, the background picture).
 */

import { CACHE } from "./blobs.js";
import { finite } from "./common.js";

/** The students' drawings (scene.class_layers) as dots, as the Live map draws them (customdata: the drawing's
 * index; class_layers.js shows its reconstruction on hover). */
export const CLASS_TRACE = "the class's drawings";

function classTraces(inst, size) {
  const d = inst.data, out = [];
  const dots = d.classDots;
  if (dots && Array.isArray(dots.xy)) {
    const x = [], y = [], index = [];
    for (let i = 0; 2 * i + 1 < dots.xy.length; i++) if (finite(dots.xy[2 * i]) && finite(dots.xy[2 * i + 1])) {
      x.push(dots.xy[2 * i]); y.push(dots.xy[2 * i + 1]); index.push(i);
    }
    // hover: class_layers.js shows the reconstruction (Plotly's hover would pick a test image's dot under it)
    out.push({ type: "scattergl", mode: "markers", name: CLASS_TRACE, x, y, customdata: index,
      hoverinfo: "skip", visible: inst.extraHidden.has(CLASS_TRACE) ? "legendonly" : true,
      marker: { size: size + 5, color: dots.color || "#0B6E4F", line: { width: 1.5, color: "white" } } });
  }
  return out;
}

export function figure(inst) {
  const d = inst.data;
  const pts = CACHE.get(d.points);
  const classes = Array.isArray(d.classes) ? d.classes : [];
  const colors = Array.isArray(d.colors) && d.colors.length ? d.colors : ["#1f77b4"];
  const f = finite(d.fontSize) ? d.fontSize : 15, ft = f + 2; // type big enough for the back of a room
  const size = finite(d.pointSize) ? d.pointSize : 5;
  const traces = [];
  let drawn = 0;
  classes.forEach((name, k) => {
    const g = pts && pts.kind === "points" ? pts.byClass.get(k) : null;
    const empty = new Float32Array(0);
    drawn += g ? g.n : 0;
    traces.push({
      type: "scattergl", mode: "markers", name: String(name),
      x: g ? g.x : empty, y: g ? g.y : empty, customdata: g ? g.index : new Int32Array(0),
      visible: inst.hidden.has(k) ? "legendonly" : true,
      marker: { size, color: colors[k % colors.length], opacity: 0.7 },
      hovertemplate: `<b>${name}</b><br>test image #%{customdata}<br>z = (%{x:.2f}, %{y:.2f})<extra></extra>`,
    });
  });
  // The morph's path (under the marks: the ends' rings sit on it) and the posterior's samples
  // (scene.overlay_layers: flat [x0, y0, x1, y1, ...]).
  const pairs = (xy) => {
    const x = [], y = [];
    for (let i = 0; Array.isArray(xy) && i + 1 < xy.length; i += 2) if (finite(xy[i]) && finite(xy[i + 1])) {
      x.push(xy[i]); y.push(xy[i + 1]);
    }
    return { x, y };
  };
  if (d.path && Array.isArray(d.path.xy)) {
    const { x, y } = pairs(d.path.xy);
    // A dark line on a wide casing (scene.PATH_COLOR, PATH_CASING): it shows on every class colour.
    const line = d.path.color || "#111111", casing = d.path.casing || "#FFFFFF";
    traces.push({ type: "scattergl", mode: "lines+markers", name: "morph path", x, y, hoverinfo: "skip",
      showlegend: false, line: { color: casing, width: 10 }, marker: { size: 12, color: casing } });
    traces.push({ type: "scattergl", mode: "lines+markers", name: "morph path", x, y, hoverinfo: "skip",
      line: { color: line, width: 2.5 }, marker: { size: 5, color: line } });
  }
  // The marks are WebGL traces too: an SVG trace would be drawn under the WebGL points.
  const annotations = [];
  for (const m of Array.isArray(d.marks) ? d.marks : []) {
    if (![m.x, m.y].every(finite)) continue;
    if (m.shape === "diamond") { // your digit, or a poll's true code ("true μ")
      const name = m.label && m.label !== "yours" ? String(m.label) : "your digit";
      traces.push({
        type: "scattergl", mode: "markers", name, x: [m.x], y: [m.y], hoverinfo: "name",
        visible: inst.extraHidden.has(name) ? "legendonly" : true,
        marker: { size: 16, symbol: "diamond", color: m.color, line: { width: 1.5, color: "white" } },
      });
      continue;
    }
    traces.push({
      type: "scattergl", mode: "markers", name: `picked ${m.label}`, x: [m.x], y: [m.y], hoverinfo: "skip",
      showlegend: false, marker: { size: 16, symbol: "circle-open", color: m.color, line: { width: 3 } },
    });
    const sw = m.labelAt === "sw"; // below left: clear of the picks' labels (the morph's frame 1 sits on A)
    annotations.push({ x: m.x, y: m.y, text: `<b>${m.label}</b>`, showarrow: false, xshift: sw ? -13 : 13,
      yshift: sw ? -13 : 13, ...(sw ? { xanchor: "right", yanchor: "top" } : {}),
      font: { size: 14, color: m.color }, bgcolor: "rgba(255,255,255,0.7)" });
  }
  if (d.samples && Array.isArray(d.samples.xy)) {
    const { x, y } = pairs(d.samples.xy);
    traces.push({ type: "scattergl", mode: "markers", name: "z = \u03bc + \u03c3 \u2299 \u03b5", x, y,
      hoverinfo: "skip",
      marker: { size: 7, color: d.samples.color || "#D62728", line: { width: 1, color: "white" } } });
  }
  traces.push(...classTraces(inst, size));
  const star = Array.isArray(d.star) && d.star.every(finite) ? d.star : null;
  if (star) {
    traces.push({
      type: "scattergl", mode: "markers", name: "slider z", x: [star[0]], y: [star[1]],
      visible: inst.extraHidden.has("slider z") ? "legendonly" : true,
      marker: { size: 18, symbol: "star", color: "#FFD700", line: { width: 1.5, color: "#111111" } },
      hovertemplate: "slider z = (%{x:.2f}, %{y:.2f})<extra></extra>",
    });
  }
  const shapes = (Array.isArray(d.ellipses) ? d.ellipses : []).filter((e) => [e.x, e.y, e.sx, e.sy].every(finite))
    .map((e) => {
      const look = { xref: "x", yref: "y", line: { color: e.color, width: 2, dash: e.dash ? "dash" : "solid" },
        fillcolor: e.fill || "rgba(0,0,0,0.08)", layer: "above" };
      if (!finite(e.angle) || e.angle === 0) {
        return { type: "circle", x0: e.x - e.sx, x1: e.x + e.sx, y0: e.y - e.sy, y1: e.y + e.sy, ...look };
      }
      // A tilted ellipse (d > 2: a diagonal covariance seen on a plane): a closed path of 48 points.
      const c = Math.cos(e.angle), s = Math.sin(e.angle);
      let path = "";
      for (let i = 0; i < 48; i++) {
        const t = (2 * Math.PI * i) / 48, a = e.sx * Math.cos(t), b = e.sy * Math.sin(t);
        path += `${i ? "L" : "M"}${e.x + a * c - b * s},${e.y + a * s + b * c}`;
      }
      return { type: "path", path: `${path}Z`, ...look };
    });
  const bg = d.background ? CACHE.get(d.background) : null;
  const images = [];
  if (bg && bg.kind === "image" && Array.isArray(bg.extent)) {
    const [x0, x1, y0, y1] = bg.extent; // row 0 of the picture at y1
    images.push({ source: bg.src, xref: "x", yref: "y", x: x0, y: y1, sizex: x1 - x0, sizey: y1 - y0,
      sizing: "stretch", xanchor: "left", yanchor: "top",
      opacity: finite(d.backgroundOpacity) ? d.backgroundOpacity : 0.45,
      layer: "below" });
  }
  const [x0, x1, y0, y1] = fitRanges(inst.view || inst.pyView, plotAspect(inst));
  const axes = Array.isArray(d.axes) ? d.axes : ["z1", "z2"];
  // constrain "range": the plot fills its area and the longer side shows more of the plane. With "domain" a
  // wheel zoom shrank the x axis's domain and left the y range as it was: nothing zoomed, the view sent was home.
  // automargin: room for "-4" and the title
  const axis = { zeroline: true, constrain: "range", tickfont: { size: f }, automargin: true };
  const layout = {
    height: finite(d.height) ? d.height : 560, margin: { l: 10, r: 10, t: 36, b: 10 }, dragmode: "pan",
    font: { size: f }, hoverlabel: { font: { size: f } }, hovermode: "closest", clickmode: "event",
    // a narrow legend: the plot keeps the width (with constrain "range", a narrower plot shows less of x)
    legend: { title: { text: "class:<br>click hides,<br>double-click:<br>only it", font: { size: f } },
      itemsizing: "constant", font: { size: f }, y: 1, yanchor: "top",
      itemclick: false, itemdoubleclick: false }, // the legend's clicks are ours (listen below)
    xaxis: { title: { text: axes[0], font: { size: ft } }, range: [x0, x1], ...axis },
    yaxis: { title: { text: axes[1], font: { size: ft } }, range: [y0, y1], scaleanchor: "x",
      scaleratio: 1, ...axis },
    // The ranges above are the page's view (the user's zoom and pan, or Python's), so Plotly.react shows it.
    uirevision: `${d.uirevision || ""}|${inst.viewRev}`,
    shapes, annotations, images,
  };
  if (images.length) layout.plot_bgcolor = "rgba(0,0,0,0)";
  return { traces, layout, drawn, complete: Boolean(pts) && (!d.background || Boolean(bg)) };
}

/** The plot area's width over its height, once Plotly has laid it out (else null: a square is asked for). */
export function plotAspect(inst) {
  const s = inst.gd && inst.gd._fullLayout && inst.gd._fullLayout._size;
  return s && s.w > 0 && s.h > 0 ? s.w / s.h : null;
}

/** [x0, x1, y0, y1] that show the view {cx, cy, half} in a plot area of this aspect: the square fits the shorter
 * side and the longer one shows more of the plane, at the same scale. One function of the view and the area, so
 * a link (the view) reopens the same ranges in the same area, whatever width the chart had when first drawn. */
export function fitRanges(v, aspect) {
  const a = finite(aspect) && aspect > 0 ? aspect : 1;
  const hx = v.half * Math.max(1, a), hy = v.half * Math.max(1, 1 / a);
  return [v.cx - hx, v.cx + hx, v.cy - hy, v.cy + hy];
}

export const CONFIG = {
  displaylogo: false, scrollZoom: true, doubleClick: "reset", responsive: true,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
};
