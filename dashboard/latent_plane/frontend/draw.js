/*
 * A drawing pad: an st.components.v2 component (ES module, no build). White ink on black, like MNIST.
 *
 * Each finished stroke sends the whole pad to Python as a PNG data URL (trigger "drawn"); "Clear" sends
 * "cleared". data.image, when given, is drawn into a blank pad, so the drawing survives the pad being
 * mounted again (e.g. after another model was chosen); a new data.blank blanks the pad (an upload replaced it).
 */

const SIZE = 280; // px, canvas and CSS
const PADS = new WeakMap();

function createPad(parentElement) {
  const root = document.createElement("div");
  root.className = "dp-root";
  const canvas = document.createElement("canvas");
  canvas.className = "dp-canvas";
  canvas.width = SIZE;
  canvas.height = SIZE;
  canvas.setAttribute("aria-label", "drawing pad: draw a digit with the mouse, a pen or a finger");
  const bar = document.createElement("div");
  bar.className = "dp-bar";
  const clear = document.createElement("button");
  clear.type = "button";
  clear.className = "dp-clear";
  clear.textContent = "Clear";
  const hint = document.createElement("span");
  hint.className = "dp-hint";
  hint.textContent = "Draw one digit, large, in the middle.";
  bar.append(clear, hint);
  root.append(canvas, bar);
  parentElement.appendChild(root);

  const ctx = canvas.getContext("2d");
  const pad = { root, canvas, ctx, drawing: false, last: null, inked: false, shown: null, setTrigger: null };
  blank(pad);

  const pos = (e) => {
    const r = canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * SIZE) / r.width, y: ((e.clientY - r.top) * SIZE) / r.height };
  };
  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    canvas.setPointerCapture(e.pointerId);
    pad.drawing = true;
    pad.last = pos(e);
    dot(pad, pad.last);
    e.preventDefault();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!pad.drawing) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ev of events.length ? events : [e]) {
      const p = pos(ev);
      line(pad, pad.last, p);
      pad.last = p;
    }
  });
  const end = () => {
    if (!pad.drawing) return;
    pad.drawing = false;
    pad.inked = true;
    pad.shown = canvas.toDataURL("image/png");
    pad.setTrigger && pad.setTrigger("drawn", pad.shown);
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  clear.addEventListener("click", () => {
    blank(pad);
    pad.shown = null;
    pad.setTrigger && pad.setTrigger("cleared", true);
  });
  return pad;
}

function blank(pad) {
  pad.ctx.fillStyle = "#000";
  pad.ctx.fillRect(0, 0, SIZE, SIZE);
  pad.inked = false;
}

function brush(ctx) {
  ctx.strokeStyle = "#fff";
  ctx.fillStyle = "#fff";
  ctx.lineWidth = 20;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
}

function dot(pad, p) {
  brush(pad.ctx);
  pad.ctx.beginPath();
  pad.ctx.arc(p.x, p.y, 10, 0, 2 * Math.PI);
  pad.ctx.fill();
}

function line(pad, a, b) {
  brush(pad.ctx);
  pad.ctx.beginPath();
  pad.ctx.moveTo(a.x, a.y);
  pad.ctx.lineTo(b.x, b.y);
  pad.ctx.stroke();
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let pad = PADS.get(parentElement);
  if (!pad || !pad.root.isConnected) {
    pad = createPad(parentElement);
    PADS.set(parentElement, pad);
  }
  pad.setTrigger = setTriggerValue;
  // A new data.blank: the page's digit is an upload now, and the pad must not show the old drawing as if it were
  // the digit. The first one seen is the mounted pad's, blank already.
  const rev = data && data.blank;
  if (rev !== undefined && rev !== pad.blankRev) {
    if (pad.blankRev !== undefined && !pad.drawing) {
      blank(pad);
      pad.shown = null;
    }
    pad.blankRev = rev;
  }
  // The pad is the truth once it has ink; data.image only refills a freshly mounted, blank pad.
  const image = data && data.image;
  if (image && !pad.inked && !pad.drawing) {
    const img = new Image();
    img.onload = () => {
      if (pad.inked || pad.drawing) return;
      pad.ctx.drawImage(img, 0, 0, SIZE, SIZE);
      pad.inked = true;
      pad.shown = image;
    };
    img.src = image;
  }
}
