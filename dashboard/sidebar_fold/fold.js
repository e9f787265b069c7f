/*
 * Folds Streamlit's sidebar when presenter mode was switched: on, or either way while the open sidebar lies
 * over the page (a phone: the main area does not make room for it). A click on the sidebar's own collapse
 * button, as a reader's: Streamlit keeps its state and stores the choice as for a click by hand.
 * data: {presenter: bool}. The first value a page sees is only remembered (the page's config has folded it).
 */

let seen; // presenter mode as this page last saw it (module state: it outlives the reruns)

function fold(turnedOn) {
  const sidebar = document.querySelector("[data-testid=stSidebar]");
  const main = document.querySelector("[data-testid=stMain]");
  if (!sidebar || !main || sidebar.getAttribute("data-collapsed") !== "false") return;
  const covers = sidebar.getBoundingClientRect().right > main.getBoundingClientRect().left + 1;
  if (!turnedOn && !covers) return;
  const button = sidebar.querySelector("[data-testid=stSidebarCollapseButton] button");
  if (button) button.click();
}

export default function (component) {
  const on = Boolean(component.data && component.data.presenter);
  const before = seen;
  seen = on;
  if (before === undefined || before === on) return;
  // two frames: Streamlit has applied the page config's sidebar state (it folds the sidebar itself when no
  // choice by hand is stored), and the sidebar is where that left it
  requestAnimationFrame(() => requestAnimationFrame(() => fold(on)));
}
