"""What both maps draw over the points, checked without a browser: the morph's path stands out on every class
colour, the morph frame's label keeps clear of the picks' labels, and the Plotly map's ranges are one function of
its view (figure.js, run under Node).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import views  # noqa: E402
from dashboard.explore.scene import PATH_CASING, PATH_COLOR, build_scene, overlay_layers  # noqa: E402

NODE = shutil.which("node")
FIGURE = ROOT / "dashboard" / "plotly_map" / "frontend" / "figure.js"
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js (`node`) is not installed")


def luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour "#RRGGBB"."""
    c = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(c @ [0.2126, 0.7152, 0.0722])


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_morph_path_stands_out_on_every_class_colour():
    """The dark line or its casing reaches WCAG's 3:1 for graphics against each class's dots (the 7s are black:
    a black line alone vanishes into them), and the line stands out on its casing."""
    for colour in views.CLASS_COLORS:
        best = max(contrast(PATH_COLOR, colour), contrast(PATH_CASING, colour))
        assert best >= 3.0, (colour, best)
    assert contrast(PATH_COLOR, PATH_CASING) >= 7.0
    assert min(contrast(PATH_COLOR, c) for c in views.CLASS_COLORS) < 3.0, "why the casing is needed: the 7s"


def _scene_with_a_morph(frame: int):
    enc = type("Enc", (), {"xy": np.array([[0.0, 0.0], [2.0, 1.0]], np.float32), "labels": np.array([1, 7]),
                           "class_names": [str(k) for k in range(10)],
                           "mu": np.array([[0.0, 0.0], [2.0, 1.0]], np.float32),
                           "sigma": np.full((2, 2), 0.2, np.float32)})()
    path = np.linspace([0.0, 0.0], [2.0, 1.0], 12)
    return build_scene(enc=enc, d=2, z=[0.0, 0.0], limit=4.0, view={"cx": 0, "cy": 0, "half": 4, "rev": 0},
                       picks=[0, 1], path=path, path_frame=frame)


def test_the_morph_frames_label_sits_away_from_the_picks_labels():
    scene = _scene_with_a_morph(0)  # frame 1 of 12 lies on A
    by_label = {m.label: m for m in scene.marks}
    assert (by_label["1/12"].x, by_label["1/12"].y) == (by_label["A"].x, by_label["A"].y)
    assert by_label["A"].label_at == by_label["B"].label_at == "ne" and by_label["1/12"].label_at == "sw"
    layer = overlay_layers(scene)["path"]
    assert (layer["color"], layer["casing"]) == (PATH_COLOR, PATH_CASING), "both maps draw the scene's colours"


def _figure(data: dict, view: dict, size: dict | None) -> dict:
    """figure.js's figure() for this data, on a chart whose plot area Plotly laid out at size {w, h}."""
    inst = {"data": data, "hidden": [], "extraHidden": [], "view": view, "pyView": view,
            "gd": {"_fullLayout": {"_size": size}} if size else {}}
    script = f"""
      const {{ figure }} = await import({json.dumps(FIGURE.as_uri())});
      const inst = {json.dumps(inst)};
      inst.hidden = new Set(); inst.extraHidden = new Set();
      const f = figure(inst);
      console.log(JSON.stringify({{ traces: f.traces.map((t) => ({{ name: t.name, line: t.line || null,
        marker: t.marker, showlegend: t.showlegend }})), layout: f.layout }}));"""
    proc = subprocess.run([NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@needs_node
def test_the_plotly_map_draws_the_path_on_its_casing_and_the_frame_label_below_left():
    scene = _scene_with_a_morph(0)
    data = {"classes": list(scene.class_names), "marks": [
        {"x": m.x, "y": m.y, "label": m.label, "color": m.color, "shape": m.shape, "labelAt": m.label_at}
        for m in scene.marks], **overlay_layers(scene)}
    fig = _figure(data, {"cx": 0, "cy": 0, "half": 4}, None)
    names = [t["name"] for t in fig["traces"]]
    casing, line = [t for t in fig["traces"] if t["name"] == "morph path"]
    assert casing["line"]["color"] == PATH_CASING and line["line"]["color"] == PATH_COLOR
    assert casing["line"]["width"] >= line["line"]["width"] + 4, "the casing shows on both sides of the line"
    assert names.index("morph path") < names.index("picked A"), "under the ends' rings"
    notes = {a["text"]: a for a in fig["layout"]["annotations"]}
    a, frame = notes["<b>A</b>"], notes["<b>1/12</b>"]
    assert a["xshift"] > 0 and a["yshift"] > 0, "A above right of its ring"
    assert frame["xshift"] < 0 and frame["yshift"] < 0 and (frame["xanchor"], frame["yanchor"]) == ("right", "top")


@needs_node
@pytest.mark.parametrize("size, expected", [
    ({"w": 800, "h": 400}, [-3.0, 5.0, -1.0, 3.0]),  # wide: the square fits the height, x shows more
    ({"w": 300, "h": 600}, [-1.0, 3.0, -3.0, 5.0]),  # tall: the square fits the width
    (None, [-1.0, 3.0, -1.0, 3.0]),  # not laid out yet: the square, Plotly widens the longer side
])
def test_the_plotly_maps_ranges_are_its_view_fitted_to_its_plot_area(size, expected):
    """The ranges shown are one function of the view {cx, cy, half} (what a link holds) and the plot area, not of
    the width the chart had when first drawn."""
    fig = _figure({"classes": []}, {"cx": 1.0, "cy": 1.0, "half": 2.0}, size)
    layout = fig["layout"]
    assert layout["xaxis"]["range"] + layout["yaxis"]["range"] == pytest.approx(expected)
