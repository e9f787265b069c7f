/*
 * The lecture's keys and title: an st.components.v2 component (an ES module in the app's own page, no iframe).
 *
 * PageDown / PageUp (what a presenter's clicker sends) step through the scenes wherever the focus is, except
 * in a text field; → / ← only when the focus is on the page itself or a button, not on a widget that uses the
 * arrows (the latent map moves its ★ with them, a slider its value, tabs switch): a key the map has taken
 * (defaultPrevented) is never a step. A view with builds, like a slide's (the Step by step tab, presenting), shows
 * buttons keyed session_keys.BUILD_NEXT / BUILD_PREV: while one is enabled the key presses it instead, so the
 * scene moves on only after its last build. Each step sends the scene wanted, trigger "step" {index}; Python shows
 * it and sends back data {index, titles, line}. The title is drawn at once, fixed over the page's header band,
 * so it takes no room from the map.
 *
 * One listener on the document for the page's life (window.__lectureKeys): a rerun or a new mount only hands
 * it the latest setTriggerValue and data.
 */

const S = window.__lectureKeys || (window.__lectureKeys = { send: null, target: 0, titles: [], line: "", bar: null,
                                                             listening: false, steps: 0 });
// Roles of widgets that use the arrow keys themselves.
const ARROW_ROLES = new Set(["slider", "tab", "tablist", "radio", "radiogroup", "listbox", "option", "combobox",
  "menu", "menuitem", "menubar", "spinbutton", "textbox", "grid", "gridcell", "tree", "treeitem", "switch",
  "application", "scrollbar"]);

function typing(el) {
  const tag = el.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
}

function usesArrows(el) {
  if (el === document.body || el === document.documentElement) return false;
  const role = el.getAttribute && el.getAttribute("role");
  if (role && ARROW_ROLES.has(role)) return true;
  if (el.tagName === "CANVAS" || el.tagName === "VIDEO" || el.tagName === "AUDIO") return true;
  return el.tabIndex >= 0 && !["BUTTON", "A", "SUMMARY"].includes(el.tagName);
}

function onKey(e) {
  if (!S.send || e.ctrlKey || e.metaKey || e.altKey) return;
  const path = e.composedPath ? e.composedPath() : [e.target];
  const target = path.find((n) => n instanceof Element) || document.body;
  if (typing(target)) return;
  let delta;
  if (e.key === "PageDown") delta = 1;
  else if (e.key === "PageUp") delta = -1;
  else if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
    if (e.defaultPrevented || e.shiftKey || path.some((n) => n instanceof Element && usesArrows(n))) return;
    delta = e.key === "ArrowRight" ? 1 : -1;
  } else return;
  e.preventDefault(); // the page must not scroll: the key is the lecture's
  const build = buildButton(delta);
  if (build) build.click();
  else go(S.target + delta);
}

// The view's next / previous build, if it has one to show (an enabled button on the page).
function buildButton(delta) {
  const b = document.querySelector(`.st-key-lecture_build_${delta > 0 ? "next" : "prev"} button`);
  return b && !b.disabled && b.getClientRects().length ? b : null;
}

function go(i) {
  const n = S.titles.length;
  const to = Math.max(0, Math.min(n - 1, i));
  if (!n || to === S.target) return;
  S.target = to;
  S.steps += 1;
  S.line = "";
  draw();
  S.send && S.send("step", { index: to });
}

function button(cls, label, text, delta) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = cls;
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.title = label;
  b.addEventListener("click", () => go(S.target + delta));
  return b;
}

function build(parentElement) {
  const bar = document.createElement("div");
  bar.className = "lk-bar";
  bar.setAttribute("role", "navigation");
  bar.setAttribute("aria-label", "lecture scenes");
  const text = document.createElement("div");
  text.className = "lk-text";
  const title = document.createElement("div");
  title.className = "lk-title";
  const line = document.createElement("div");
  line.className = "lk-line";
  text.append(title, line);
  bar.append(button("lk-prev", "previous scene (PageUp)", "‹", -1), text,
             button("lk-next", "next scene (PageDown)", "›", 1));
  parentElement.appendChild(bar);
  return { bar, title, line, prev: bar.firstChild, next: bar.lastChild };
}

function draw() {
  const b = S.bar;
  if (!b || !b.bar.isConnected) return;
  const n = S.titles.length;
  b.title.textContent = n ? `${S.target + 1}/${n} · ${S.titles[S.target]}` : "";
  b.line.textContent = S.line;
  b.line.hidden = !S.line;
  b.prev.disabled = S.target <= 0;
  b.next.disabled = S.target >= n - 1;
}

export default function (component) {
  const { parentElement, setTriggerValue } = component;
  // One JSON document as bytes (keys.py: a list in a dict would make the server import pandas to test it).
  const data = component.data instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(component.data)) : null;
  if (!S.bar || !S.bar.bar.isConnected || S.bar.bar.getRootNode() !== parentElement.getRootNode()) {
    S.bar = build(parentElement);
  }
  S.send = setTriggerValue;
  S.titles = Array.isArray(data && data.titles) ? data.titles.map(String) : [];
  S.target = Number.isInteger(data && data.index) ? data.index : 0;
  S.line = typeof (data && data.line) === "string" ? data.line : "";
  if (!S.listening) {
    document.addEventListener("keydown", onKey);
    S.listening = true;
  }
  draw();
  return () => {
    S.send = null; // unmounted (the lecture stopped): the keys are the page's again
  };
}
