"""What the latent map shows, once, for every view of it (the in-page plane, the Plotly map).

No Streamlit and no model calls here: build_scene takes the encodings, the settings and your digit's code and
returns plain numbers, so the two maps cannot drift apart and a test can check the scene directly.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass

import numpy as np

from vae_core import analysis
from vae_core.neighbour_map import NeighbourMap

PICK_COLOR = "#D62728"
OWN_COLOR = "#7B2CBF"  # your digit
POSTERIOR_COLOR = "#222222"
# The morph's path: a dark line on a wide white casing, so that it shows on every class colour (the dark line on
# the light ones, the casing on the dark ones: the 7s are black); its marked frame is a ring of FRAME_COLOR.
PATH_COLOR = "#111111"
PATH_CASING = "#FFFFFF"
FRAME_COLOR = "#FF7F0E"
CLASS_COLOR = "#0B6E4F"  # the class's drawings: one colour, apart from the test set's ten
TRUTH_COLOR = "#111111"  # a poll's true code and its 2σ ellipse
HEAT_N = 48  # the guesses' density: a HEAT_N x HEAT_N grid over their extent


@dataclass(frozen=True)
class ClassOverlay:
    """What a class adds to the map (set by the page's class, dashboard/classroom): its drawings' codes with
    their labels and reconstructions, and a poll's guesses on the map with the test image's true q(z|x)."""

    codes: np.ndarray  # float32 [n, d]: the drawings' μ
    labels: tuple[str, ...] = ()  # what each was asked to be
    recons: bytes = b""  # n x 784 uint8: each one's reconstruction at μ (shown on hover, never the drawing)
    guesses: np.ndarray | None = None  # float32 [m, 2]: where the students think the test image lands, on the map
    truth: tuple | None = None  # (mu [d], sigma [d]) of the poll's test image


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    label: str
    color: str
    shape: str = "ring"  # "ring" (a pick) or "diamond" (your digit)
    label_at: str = "ne"  # where its label sits: "ne" (above right: the picks') or "sw" (below left)
    pick: int | None = None  # a pick's ring: its test image (a follower's map draws picks itself: frontend/follow.js)


@dataclass(frozen=True)
class Ellipse:
    """The 1σ ellipse of a diagonal Gaussian q(z|x) in (z1, z2)."""

    x: float
    y: float
    sx: float
    sy: float
    color: str
    dash: bool = False
    fill: str | None = None
    top: bool = False  # drawn above the ★ (the last pick's posterior must stay visible under it)
    angle: float = 0.0  # radians from the map's x axis to sx's axis, counter-clockwise (a plane's tilted ellipse)
    pick: int | None = None  # the last pick's posterior: its test image


@dataclass(frozen=True)
class Scene:
    points: np.ndarray  # float32 [N, 2] plotted coordinates (z1, z2) or (z1, jitter)
    labels: np.ndarray  # int64 [N]
    class_names: tuple[str, ...]
    axes: tuple[str, str]
    star: tuple[float, float]
    z: tuple[float, ...]  # the full ★
    limit: float
    view: dict  # {cx, cy, half, rev}
    home: dict  # {cx, cy, half}
    focus: tuple[float, float] | None  # the last pick
    marks: tuple[Mark, ...] = ()
    ellipses: tuple[Ellipse, ...] = ()
    hidden: tuple[int, ...] = ()
    background: tuple[int, float] | None = None  # (n, e): the n x n manifold over [-e, e]^2
    caption: str = ""  # d > 2: which plane the map shows and its share of the codes' variance
    map_caption: str = ""  # drawn on the Live map, when shorter than caption (UMAP's)
    plane: object = None  # d > 2: the vae_core.analysis.Plane shown (its mean and basis go to the page), or the
    # NeighbourMap of UMAP's map (projection "umap"): no plane, no ellipses, the server decodes
    projection: object = None  # d > 2: the plane's name, "pca", "umap" or (i, j)
    samples: np.ndarray | None = None  # float32 [k, 2]: posterior samples z = mu + sigma * eps, on the map
    samples_color: str = PICK_COLOR
    path: np.ndarray | None = None  # float32 [n, 2]: the morph's path z(t), t = 0 .. 1, on the map
    path_frame: int | None = None  # the frame under the morph player's scrubber (also a mark)
    class_xy: np.ndarray | None = None  # float32 [n, 2]: the class's drawings on the map
    class_labels: tuple[str, ...] = ()
    class_recons: bytes = b""
    heat: dict | None = None  # the guesses' density: {"grid": [HEAT_N^2] in 0..1, "n", "extent": [x0, x1, y0, y1]}


def heat_grid(xy: np.ndarray, n: int = HEAT_N) -> dict | None:
    """A Gaussian kernel density of points [m, 2] on an n x n grid (row 0 at the top), scaled to a peak of 1.

    Bandwidth per axis by Scott's rule, h = s m^(-1/6) (s: the points' standard deviation, at least 0.3, so that
    a few guesses show as a patch, not a pixel); the grid spans the points ± 3h."""
    xy = np.asarray(xy, np.float64).reshape(-1, 2)
    xy = xy[np.isfinite(xy).all(1)]
    if not len(xy):
        return None
    h = np.maximum(xy.std(0), 0.3) * len(xy) ** (-1 / 6)
    lo, hi = xy.min(0) - 3 * h, xy.max(0) + 3 * h
    gx, gy = np.linspace(lo[0], hi[0], n), np.linspace(hi[1], lo[1], n)  # y from the top row down
    kx = np.exp(-0.5 * ((gx[:, None] - xy[None, :, 0]) / h[0]) ** 2)  # [n, m]
    ky = np.exp(-0.5 * ((gy[:, None] - xy[None, :, 1]) / h[1]) ** 2)
    density = ky @ kx.T  # [row (y), col (x)]: sum_i k_y(row, i) k_x(col, i)
    density /= density.max()
    return {"grid": [round(float(v), 3) for v in density.ravel()], "n": n,
            "extent": [float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])], "count": int(len(xy))}


def background_extent(view: dict, limit: float) -> float:
    """The manifold under the map covers the view: e = max(|cx|, |cy|) + half, up to the next half unit."""
    reach = max(abs(view["cx"]), abs(view["cy"])) + view["half"]
    return float(min(max(8.0, 2 * limit), max(1.0, math.ceil(reach * 2) / 2)))


def axis_names(projection) -> tuple[str, str]:
    """The map's axes on a projection's plane: PC1, PC2 or two coordinates z_i, z_j (1-based); UMAP's have no name."""
    if projection == "umap":
        return ("UMAP 1", "UMAP 2")
    return ("PC1", "PC2") if projection == "pca" else (f"z{projection[0] + 1}", f"z{projection[1] + 1}")


UMAP_DECODING = ("UMAP has no inverse: a point of this map decodes to the inverse-distance mix of the codes of its "
                 "{k} nearest dots (a dot to its own μ), on the server.")


def map_caption(scene: Scene) -> str:
    """Under a map of a plane (d > 2): which plane it is, its share of the variance, and what the dots are."""
    if isinstance(scene.plane, NeighbourMap):
        return f"{scene.caption}. " + UMAP_DECODING.format(k=scene.plane.k)
    return (f"{scene.caption}. Dots: the test images' μ projected onto the plane; moving on the map changes z "
            f"along the plane only, the other directions stay at the ★'s.")


def overlay_layers(scene: Scene) -> dict:
    """The posterior samples and the morph's path, as both maps' "samples" and "path" layers, and the class's
    (class_layers); rounded: a map is a few hundred px across and a view is at least 0.01 wide, so 1e-4 is below
    a pixel."""
    out: dict = {"samples": None, "path": None}
    if scene.samples is not None and len(scene.samples):
        out["samples"] = {"xy": [round(float(v), 4) for v in scene.samples.ravel()], "color": scene.samples_color}
    if scene.path is not None and len(scene.path) > 1:
        out["path"] = {"xy": [round(float(v), 4) for v in scene.path.ravel()], "frame": scene.path_frame,
                       "color": PATH_COLOR, "casing": PATH_CASING}
    out.update(class_layers(scene))
    return out


def class_layers(scene: Scene) -> dict:
    """The class's drawings ("classDots": where, their labels, their reconstructions as base64 uint8 784 each)
    and the poll's guesses ("heat"), as the Live map's layers; None where there are none."""
    out: dict = {"classDots": None, "heat": scene.heat}
    if scene.class_xy is not None and len(scene.class_xy):
        out["classDots"] = {"xy": [round(float(v), 4) for v in scene.class_xy.ravel()],
                            "labels": list(scene.class_labels), "color": CLASS_COLOR,
                            "recons": base64.b64encode(scene.class_recons).decode("ascii")}
    return out


def projection_caption(plane, projection) -> str:
    """Which plane, and the share of the codes' variance it shows: sum_k Var(u_k) / tr Cov(mu)."""
    x, y = axis_names(projection)
    name = f"PCA plane: {x}–{y}" if projection == "pca" else f"Coordinate plane: {x}–{y}"
    share = float(plane.total_ratio)
    return f"{name}, {share:.0%} of the variance" if math.isfinite(share) else name


def project_ellipse(mu, sigma, plane) -> tuple[float, float, float, float, float]:
    """(x, y, sx, sy, angle): the 1σ ellipse of N(mu, diag sigma^2) seen on the plane (analysis.plane_ellipses)."""
    x, y = analysis.to_plane(np.asarray(mu, np.float64)[None], plane)[0]
    sx, sy, angle = analysis.plane_ellipses(np.asarray(sigma, np.float64)[None], plane)[0]
    return float(x), float(y), float(sx), float(sy), float(angle)


def plane_xy(z, d: int, plane=None) -> np.ndarray:
    """Codes [K, d] -> where the map draws them [K, 2]: on the plane (d > 2), else (z1, z2), or (z1, 0) for
    d = 1 (as the ★)."""
    z = np.asarray(z, dtype=np.float32).reshape(-1, d)
    if isinstance(plane, NeighbourMap):  # placed by the map's points of its nearest test codes
        return plane.to_map(z).astype(np.float32)
    if plane is not None:
        return analysis.to_plane(z.astype(np.float64), plane).astype(np.float32)
    if d > 1:
        return np.ascontiguousarray(z[:, :2])
    return np.stack([z[:, 0], np.zeros(len(z), np.float32)], 1)


def build_scene(*, enc, d: int, z, limit: float, view: dict, picks=(), own=None, hidden=(), background_n=None,
                plane=None, projection=None, points_on_plane=None, posterior=None, path=None, path_frame=None,
                extra_marks=(), overlay: ClassOverlay | None = None) -> Scene:
    """enc: models.Encodings or None (no test set: an empty map); own: (mu, sigma) of your digit or None;
    background_n: the manifold's grid size when it is shown under the points (d > 1 only);
    plane (d > 2): the analysis.Plane the map shows, projection its name ("pca" or (i, j)), points_on_plane the
    test codes on it [N, 2] (computed here when not given). Without a plane the map is (z1, z2). UMAP's map
    (plane: a NeighbourMap, projection "umap", points_on_plane its points) places codes by their nearest test codes
    and draws no ellipse: a Gaussian has no shape on it.
    posterior: (mu [d], sigma [d], samples [k, d], colour) whose samples are shown, with the 2σ ellipse;
    path: the morph's codes [n, d]; path_frame: the frame marked on it; extra_marks: more Marks, placed by the
    caller (the Step by step tab's z); overlay: the class's layers."""
    if enc is not None:
        points, labels, class_names = enc.xy, enc.labels, tuple(enc.class_names)
        if plane is not None:
            points = points_on_plane
            if points is None and isinstance(plane, NeighbourMap):
                points = plane.points.astype(np.float32)
            elif points is None:
                points = analysis.to_plane(enc.mu, plane).astype(np.float32)
        picks = [int(p) for p in picks if 0 <= int(p) < len(labels)]
    else:
        points, labels, class_names, picks = np.zeros((0, 2), np.float32), np.zeros(0, np.int64), (), []
    z = tuple(round(float(v), 4) for v in z)

    def ellipse(mu, sigma) -> tuple[float, float, float, float, float]:
        """(x, y, sx, sy, angle) of q's 1σ ellipse on the map."""
        if plane is not None:
            return project_ellipse(mu, sigma, plane)
        return float(mu[0]), float(mu[1]), float(sigma[0]), float(sigma[1]), 0.0

    nonlinear = isinstance(plane, NeighbourMap)
    marks, ellipses = [], []
    for name, p in zip(("A", "B") if len(picks) == 2 else ("A",), picks):
        marks.append(Mark(float(points[p, 0]), float(points[p, 1]), name, PICK_COLOR, pick=p))
    if picks and d > 1 and not nonlinear:
        x, y, sx, sy, angle = ellipse(enc.mu[picks[-1]], enc.sigma[picks[-1]])
        ellipses.append(Ellipse(x, y, sx, sy, POSTERIOR_COLOR, top=True, angle=angle, pick=picks[-1]))
    if own is not None:
        mu, sigma = own
        if nonlinear:
            x, y = (float(c) for c in plane.to_map(mu)[0])
        elif d > 1:
            x, y, sx, sy, angle = ellipse(mu, sigma)
            ellipses.append(Ellipse(x, y, sx, sy, OWN_COLOR, dash=True, fill="rgba(123,44,191,0.10)", angle=angle))
        else:
            x, y = float(mu[0]), 0.0
        marks.append(Mark(x, y, "yours", OWN_COLOR, "diamond"))
    samples, samples_color = None, PICK_COLOR
    if posterior is not None:
        mu, sigma, zs, samples_color = posterior
        samples = plane_xy(zs, d, plane)
        if d > 1 and not nonlinear:  # the 2σ ellipse holds ~86 % of the draws in 2-D: 1 - exp(-2^2 / 2)
            x, y, sx, sy, angle = ellipse(mu, sigma)
            ellipses.append(Ellipse(x, y, 2 * sx, 2 * sy, samples_color, dash=True, fill="rgba(0,0,0,0)", top=True,
                                    angle=angle))
    path_xy, frame = None, None
    if path is not None and len(path) > 1:
        path_xy = plane_xy(path, d, plane)
        if path_frame is not None:
            frame = int(min(max(int(path_frame), 0), len(path_xy) - 1))
            fx, fy = path_xy[frame]
            # its label below left: the ends' are above right, and frame 1 sits on A
            marks.append(Mark(float(fx), float(fy), f"{frame + 1}/{len(path_xy)}", FRAME_COLOR, label_at="sw"))
    marks.extend(extra_marks)
    class_xy, class_labels, class_recons, heat = None, (), b"", None
    if overlay is not None:
        if len(overlay.codes):
            class_xy, class_labels, class_recons = plane_xy(overlay.codes, d, plane), overlay.labels, overlay.recons
        if overlay.guesses is not None:
            heat = heat_grid(overlay.guesses)
        if overlay.truth is not None:
            mu, sigma = overlay.truth
            x, y, sx, sy, angle = ellipse(mu, sigma) if d > 1 else (float(mu[0]), 0.0, 0.0, 0.0, 0.0)
            marks.append(Mark(x, y, "true μ", TRUTH_COLOR, "diamond"))
            if d > 1:  # the 2σ ellipse of the test image's q(z|x)
                ellipses.append(Ellipse(x, y, 2 * sx, 2 * sy, TRUTH_COLOR, fill="rgba(0,0,0,0)", top=True,
                                        angle=angle))
    home = {"cx": 0.0, "cy": 0.0, "half": float(limit)}
    if plane is not None:
        u, v = plane_xy(np.array(z, np.float64), d, plane)[0]
        star = (round(float(u), 4), round(float(v), 4))
        axes = axis_names(projection)
    else:
        star = (z[0], z[1] if d > 1 else 0.0)
        axes = ("z1", "z2") if d > 1 else ("z1", "(random jitter)")
    return Scene(
        points=points, labels=labels, class_names=class_names, axes=axes,
        star=star, z=z, limit=float(limit), view=dict(view), home=home,
        focus=(float(points[picks[-1], 0]), float(points[picks[-1], 1])) if picks else None,
        marks=tuple(marks), ellipses=tuple(ellipses),
        hidden=tuple(int(h) for h in hidden if 0 <= int(h) < len(class_names)),
        background=(int(background_n), background_extent(view, limit)) if background_n and d > 1 else None,
        caption=projection_caption(plane, projection) if plane is not None and not nonlinear else "", plane=plane,
        projection=projection,
        samples=samples, samples_color=samples_color, path=path_xy, path_frame=frame,
        class_xy=class_xy, class_labels=tuple(class_labels), class_recons=class_recons, heat=heat,
    )
