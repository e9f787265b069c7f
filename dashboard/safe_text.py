"""User-given text (a link's parameters, a folder or file name, what was typed in a field) made safe to show.

st.markdown, st.info, st.error, st.caption and the like render markdown: a link's text would become a clickable
link, an image fetched from elsewhere, an icon or a formula. plain() escapes it, so it shows as it was given.
Plotly's titles and labels take a few HTML tags (links among them): plain_html() escapes those.
"""

from __future__ import annotations

import html
import re

# What markdown, GFM or Streamlit gives a meaning to: links, images, emphasis, code, headings, tables, HTML,
# :icons: and :colour[text], $formulas$; a list's '-', '+' or '1.' at the start; the ':' of https:// and the '.'
# of www. and an e-mail's '@' (autolinks). A backslash before its last character makes each literal.
_MARKDOWN = re.compile(r"[\\`*_{}\[\]()#!|<>~$:=^&@]|^[-+]|^\d+\.|(?i:www)\.")


def _escaped(match: re.Match) -> str:
    text = match.group(0)
    return f"{text[:-1]}\\{text[-1]}"


def plain(text: object) -> str:
    """The text, on one line, with every markdown character escaped: shown as given, never as markdown."""
    return _MARKDOWN.sub(_escaped, " ".join(str(text).split()))


def plain_html(text: object) -> str:
    """The text for a Plotly title or label: its HTML characters escaped."""
    return html.escape(" ".join(str(text).split()))
