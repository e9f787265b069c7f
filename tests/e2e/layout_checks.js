// What the layout matrix (test_layout_matrix.py) asserts of a page, read from the DOM: one function, evaluated
// by Playwright, returning the failures as sentences (an empty list: the cell passes). Its argument:
// {presenter, presenting, phone, panel, map, figure}: presenter mode's checks of the sub-tab, whether presenter mode is on,
// the phone's allowances, the open sub-tab's panel's id, the map the page shows ("live", "plotly" or null), and
// whether the sub-tab has a figure of its own (the Sampling panel draws on the map).
(opts) => {
  const fails = [];
  const vw = window.innerWidth, vh = window.innerHeight;
  const clean = (s) => (s || '').replace(/\s+/g, ' ').trim();
  const short = (s) => { s = clean(s); return s.length > 60 ? s.slice(0, 57) + '…' : s; };
  const name = (e) => {
    const key = [...(e.closest('[class*="st-key-"]')?.classList || [])].find((c) => c.startsWith('st-key-'));
    const tid = e.closest('[data-testid]')?.dataset.testid;
    return [e.tagName.toLowerCase() + (e.className && typeof e.className === 'string'
      ? '.' + e.className.split(' ').filter((c) => !c.startsWith('st-emotion') && !/^e[a-z0-9]+$/.test(c))[0] : ''),
    tid, key].filter(Boolean).join(' in ');
  };
  // drawn, and not slid off the screen (a folded sidebar)
  const main = document.querySelector('[data-testid=stMain]');
  const shown = (e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.right > 0 && r.left < vw
      && e.checkVisibility({opacityProperty: true, visibilityProperty: true});
  };
  // inside a box that scrolls or clips on its own (a row of tabs, a code block): not the page's width
  const clipped = (e) => {
    for (let a = e.parentElement; a && a !== main; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    }
    return false;
  };
  // Every document the page shows: the page, the components' shadow roots, same-origin iframes.
  const roots = [];
  const walk = (root, where) => {
    roots.push([root, where]);
    for (const e of root.querySelectorAll('*')) {
      if (e.shadowRoot) walk(e.shadowRoot, 'the component ' + name(e));
      if (e.tagName === 'IFRAME') {
        try { if (e.contentDocument?.body) walk(e.contentDocument, 'the frame ' + e.title); } catch (err) { /* other origin */ }
      }
    }
  };
  walk(document, 'the page');
  // an icon is a word drawn as one glyph of an icon font: its text's box is not what shows
  const excluded = (e) => getComputedStyle(e).fontFamily.includes('Material') || e.closest('svg, canvas, .katex, [role=tooltip], [data-testid=stTooltipContent], '
                                    + '[data-testid=stCode], [data-testid=stIconMaterial], .js-plotly-plot, script, style, template');
  // the part of a box its ancestors that clip or scroll let through (null: none of it)
  const through = (e, b) => {
    let [l, t, r, btm] = [b.left, b.top, b.right, b.bottom];
    for (let a = e; a; a = a.parentElement) {  // the element itself too: a screen reader's 1 x 1 px label
      const st = getComputedStyle(a);
      if (st.overflowX === 'visible' && st.overflowY === 'visible') continue;
      const c = a.getBoundingClientRect();
      if (st.overflowX !== 'visible') { l = Math.max(l, c.left); r = Math.min(r, c.right); }
      if (st.overflowY !== 'visible') { t = Math.max(t, c.top); btm = Math.min(btm, c.bottom); }
    }
    return r - l > 1 && btm - t > 1 ? {left: l, top: t, right: r, bottom: btm} : null;
  };
  // what scrolls the page up and down: Streamlit's main area, or the document
  const scroller = [document.querySelector('[data-testid=stMain]'), document.querySelector('[data-testid=stAppViewContainer]')]
    .find((e) => e && e.scrollHeight > e.clientHeight + 1 && ['auto', 'scroll'].includes(getComputedStyle(e).overflowY))
    || document.scrollingElement;
  if (opts.presenting) scroller.scrollTop = 0;  // presenter mode: on the screen as the page opens

  // 1. Nothing scrolls sideways: the page, nor Streamlit's scrolling main area.
  const wide = () => {
    const out = [];
    for (const e of document.querySelectorAll('[data-testid=stMain] *')) {
      const r = e.getBoundingClientRect();
      if (r.right > vw + 1 && r.width > 0 && !clipped(e) && !excluded(e) && ![...e.children].some((c) => c.getBoundingClientRect().right > vw + 1)) {
        out.push(`${name(e)} "${short(e.textContent)}" to ${Math.round(r.right)}`);
      }
    }
    return out.slice(0, 4).join('; ');
  };
  const sideways = Math.max(document.documentElement.scrollWidth, main ? main.scrollWidth : 0);
  if (sideways > vw) fails.push(`the page scrolls sideways: ${sideways} px in a ${vw} px window (widest: ${wide()})`);

  // 2. No text cut: the element's text is wider than its box.
  const TEXT = ['[data-testid=stMarkdownContainer]', '[data-testid=stWidgetLabel] p', '[data-testid=stCaptionContainer]', '[data-testid=stMarkdownContainer] p',
    '[data-testid=stMarkdownContainer] li', '[data-testid=stImageCaption]', '[data-testid=stMetricValue] > div',
    '[data-testid=stMetricLabel] p', '[role=tab] p', 'button p', 'button', '[role=combobox]', 'input[type=text]',
    'input[type=number]', '[data-testid=stSliderThumbValue]', '[data-testid=stTickBarMin]', '[data-testid=stTickBarMax]',
    '[data-testid=stExpander] summary', '[data-testid=stAlertContentInfo]', 'h1', 'h2', 'h3', 'h4'].join(', ');
  const cut = (e) => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1;
  for (const e of document.querySelectorAll(TEXT)) {
    if (!shown(e) || excluded(e)) continue;
    if (cut(e)) fails.push(`cut: ${name(e)} "${short(e.value || e.textContent)}" (${e.scrollWidth} px of text in ${e.clientWidth})`);
  }
  // a word wider than its box is broken in the middle ("reconstructio / n")
  const ruler = document.createElement('canvas').getContext('2d');
  for (const e of document.querySelectorAll('[data-testid=stImageCaption], [data-testid=stCaptionContainer], '
                                            + '[data-testid=stWidgetLabel] p, [data-testid=stMarkdownContainer] p')) {
    if (!shown(e) || excluded(e) || !e.clientWidth || e.parentElement.closest('[data-testid=stImageCaption]')) continue;
    const st = getComputedStyle(e);
    ruler.font = `${st.fontStyle} ${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
    const room = e.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
    const word = (e.innerText || '').split(/\s+/).filter((w) => ruler.measureText(w).width > room + 1)[0];
    if (word) fails.push(`a word broken: "${short(word)}" in ${name(e)} "${short(e.textContent)}" (${Math.round(room)} px wide)`);
  }
  for (const e of document.querySelectorAll('.katex-display')) {
    if (!shown(e) || !cut(e)) continue;
    // a formula wider than a phone scrolls inside its own box; on a wider screen it must fit
    const scrolls = ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
    if (!(opts.phone && scrolls)) fails.push(`formula cut: "${short(e.textContent)}" (${e.scrollWidth} px in ${e.clientWidth})`);
  }
  // the components' HTML text: any element holding text of its own
  for (const [root, where] of roots.slice(1)) {
    for (const e of root.querySelectorAll('*')) {
      if (excluded(e) || !shown(e) || getComputedStyle(e).display.startsWith('inline')) continue;
      const own = [...e.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('');
      if (clean(own) && cut(e)) fails.push(`cut in ${where}: ${name(e)} "${short(e.textContent)}" (${e.scrollWidth} px in ${e.clientWidth})`);
    }
  }
  // no picture wider than its column (the own digit's strip once was, at 1366 px)
  for (const img of document.querySelectorAll('[data-testid=stImage] img')) {
    const col = img.closest('[data-testid=stColumn]');
    if (!col || !shown(img)) continue;
    const r = img.getBoundingClientRect(), c = col.getBoundingClientRect();
    if (r.right > c.right + 1 || r.left < c.left - 1) {
      const caption = img.closest('[data-testid=stImage]').textContent;
      fails.push(`a picture wider than its column: "${short(caption)}" ${Math.round(r.width)} px in ${Math.round(c.width)}`);
    }
  }
  // every tab of a row in sight, none behind the row's scroll arrow
  for (const list of document.querySelectorAll('[role=tablist]')) {
    if (!shown(list)) continue;
    const r = list.getBoundingClientRect();
    const hidden = [...list.querySelectorAll('[role=tab]')].filter((t) => {
      const b = t.getBoundingClientRect();
      return b.left < r.left - 1 || b.right > r.right + 1 || b.right > vw;
    }).map((t) => clean(t.textContent));
    if (hidden.length) fails.push(`tabs out of sight in their row: ${hidden.join(', ')}`);
  }

  // 3. No two texts overlap: the boxes of each text node's lines, across the page and in each component.
  const pieces = [];
  for (const [root, where] of roots) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let n = walker.nextNode();
    for (; n; n = walker.nextNode()) {
      const e = n.parentElement;
      if (!clean(n.textContent) || !e || excluded(e) || e.closest('[aria-hidden=true]') || !shown(e)) continue;
      range.selectNodeContents(n);
      for (const r of range.getClientRects()) {
        const b = through(e, r);
        if (b) pieces.push({b, e, where, text: short(n.textContent)});
      }
    }
  }
  const seen = new Set();
  for (let i = 0; i < pieces.length; i++) {
    for (let j = i + 1; j < pieces.length; j++) {
      const p = pieces[i], q = pieces[j];
      if (p.where !== q.where || p.e === q.e) continue;
      const w = Math.min(p.b.right, q.b.right) - Math.max(p.b.left, q.b.left);
      const h = Math.min(p.b.bottom, q.b.bottom) - Math.max(p.b.top, q.b.top);
      if (w > 2 && h > 2) {
        const key = p.text + '|' + q.text;
        if (!seen.has(key)) fails.push(`overlap in ${p.where}: "${p.text}" (${name(p.e)}) and "${q.text}" (${name(q.e)})`);
        seen.add(key);
      }
    }
  }

  // 4. The map (the plane, its decoded digit, its legend) on the screen; in presenter mode, unscrolled, with the
  // open sub-tab's figure, and the text at least 16 px.
  const header = document.querySelector('header')?.getBoundingClientRect().bottom || 0;
  const onScreen = (what, r, top) => {
    if (!(r.left >= -1 && r.right <= vw + 1 && r.top >= top - 1 && r.bottom <= vh + 1)) {
      fails.push(`${what} not on the screen: [${[r.left, r.top, r.right, r.bottom].map(Math.round)}] in ${vw} x ${vh}`
                 + ` under a ${Math.round(top)} px header`);
    }
  };
  const live = [...document.querySelectorAll('*')].find((e) => e.shadowRoot?.querySelector('canvas.lp-digit'));
  const plotly = [...document.querySelectorAll('.pm-graph')].find((g) => g.getBoundingClientRect().left >= 0);
  const host = opts.map === 'live' ? live : plotly;
  const parts = !host ? [] : opts.map === 'live'
    ? [['the map', host.shadowRoot.querySelector('.lp-plane-box canvas')],
       // decoded in the page (a canvas), or on the server where the map has no inverse (UMAP's: a picture)
       ['the decoded digit', [...host.shadowRoot.querySelectorAll('canvas.lp-digit, img.lp-server-img')]
         .find((e) => e.getBoundingClientRect().width > 0)],
       ['the map\'s legend', host.shadowRoot.querySelector('.lp-legend')]]
    : [['the Plotly map', host], ['the Plotly map\'s x axis title', host.querySelector('.g-xtitle')],
       ['the Plotly map\'s legend', host.querySelector('.legend')]];
  if (opts.map && !host) fails.push(`no ${opts.map} map on the page`);
  if (host) {
    if (!opts.presenting || opts.phone) {  // scrolled to the map's top, as a reader would
      scroller.scrollTop += host.getBoundingClientRect().top - header - 8;
    }
    for (const [what, e] of parts) {
      if (!e) fails.push(`${what} is missing`);
      else if (opts.phone) {  // a phone stacks them: each fits the width and the height on its own
        const r = e.getBoundingClientRect();
        if (r.left < -1 || r.right > vw + 1 || r.height > vh - header) fails.push(`${what} does not fit the phone: ${Math.round(r.width)} x ${Math.round(r.height)}`);
      } else onScreen(what, e.getBoundingClientRect(), header);
    }
  }
  if (opts.presenter && !opts.phone && opts.figure !== false) {
    const panel = document.getElementById(opts.panel);
    // a figure, or (your digit's panel, before a digit is drawn) the drawing pad
    const fig = panel?.querySelector('[data-testid=stImage] img, [data-testid=stPlotlyChart], [data-testid=stPyplot] img')
      || [...(panel?.querySelectorAll('*') || [])].map((e) => e.shadowRoot?.querySelector('canvas.dp-canvas')).find(Boolean);
    if (!fig) fails.push('the sub-tab shows no figure');
    else onScreen(`the sub-tab's figure (${name(fig)})`, fig.getBoundingClientRect(), header);
  }
  if (opts.presenter && !opts.phone) {
    const MIN_PX = 15.75;  // Streamlit's body text (0.984375rem), counted as 16
    const small = new Map();
    for (const p of pieces) {
      if (p.where !== 'the page' || !p.e.closest('[data-testid=stMain]')) continue;
      const size = parseFloat(getComputedStyle(p.e).fontSize);
      if (size < MIN_PX && !small.has(p.text)) small.set(p.text, `"${p.text}" ${size} px (${name(p.e)})`);
    }
    if (small.size) fails.push(`text under 16 px in presenter mode (${small.size}): ${[...small.values()].slice(0, 6).join('; ')}`);
  }
  return fails;
}
