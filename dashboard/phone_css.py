"""The app's CSS for a phone: every control of the main area a thumb can hit, at least TARGET_PX tall.

Scoped to windows no wider than PHONE_MAX_PX (Streamlit stacks a row's columns below that width), so a laptop
keeps its compact rows. Where a bigger box would move what is around it (the help icon beside a label, a
slider's thumb on its track), the box grows with a transparent margin around what is drawn. The latent map's
and the drawing pad's own controls live in their shadow roots: latent_plane/frontend/plane.css and draw.css
hold the same rule at the same width.
"""

from __future__ import annotations

TARGET_PX = 44  # a fingertip's target (Apple's Human Interface Guidelines, WCAG 2.5.5)
PHONE_MAX_PX = 640
_HELP_ICON_PX = 18  # Streamlit's help icon: its box grows by (TARGET_PX - 18) / 2 each way, its place does not
_THUMB_PX = 13.5  # Streamlit's slider thumb

_M = "[data-testid=stMain]"
_GROW = (TARGET_PX - _HELP_ICON_PX) / 2
_PAD = (TARGET_PX - _THUMB_PX) / 2

PHONE_CSS = (
    f"@media (max-width: {PHONE_MAX_PX}px) {{"
    f" {_M} [role=tab] {{ min-height: {TARGET_PX}px; }}"
    f" {_M} [data-testid=stButtonGroup] button, {_M} [data-testid=stNumberInputStepDown],"
    f" {_M} [data-testid=stNumberInputStepUp], {_M} [data-testid=stSelectbox] button,"
    f" {_M} [data-testid=stExpander] summary {{ min-height: {TARGET_PX}px; }}"
    f" {_M} [data-testid=stNumberInputContainer] {{ height: auto; min-height: {TARGET_PX}px; }}"
    # a toggle, a checkbox, a radio option: the whole line is the target, its text centred in it
    f" {_M} [data-testid=stCheckbox] label, {_M} [data-testid=stRadioOption] {{ min-height: {TARGET_PX}px;"
    " display: flex; align-items: center; }"
    f" {_M} [data-testid=stTooltipHoverTarget] button {{ padding: {_GROW}px; margin: -{_GROW}px; }}"
    # Plotly's toolbar over a chart (zoom, pan, download): its buttons, a row of fingertips
    f" {_M} .js-plotly-plot .modebar-btn {{ min-width: {TARGET_PX}px; min-height: {TARGET_PX}px; display: inline-flex;"
    " align-items: center; justify-content: center; }"
    # the thumb's box is the target; its colour stays a 13.5 px disc in the middle (translate(-50%, -50%) centres it)
    f" {_M} [data-testid=stSlider] div:has(> div > input[type=range]) {{ width: {TARGET_PX}px; height: {TARGET_PX}px;"
    f" padding: {_PAD}px; background-clip: content-box; }}"
    " }"
)
