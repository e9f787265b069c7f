"""What the latent-plane component is sent, as compact JSON-ready dicts (no Streamlit here).

    decoder_spec(model)          the decoder's layers and weights: float32, little-endian, base64
    points_spec(plane, labels)   the encoded test set: float32 coordinates and uint8 labels, base64
    image_spec(image, extent)    a picture drawn under the points (the manifold grid), as a PNG data URL

Each is sent to the page once per session (see BlobLedger) and referred to by a short key afterwards.
The page's copy of the decoder (frontend/decoder.js) reads decoder_spec layer by layer; a decoder with a
layer it does not know raises UnsupportedDecoder, and the page then shows the server's image instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable

import numpy as np
import torch
from torch import nn

DECODER_FORMAT = "vae-decoder"
DECODER_VERSION = 1


class UnsupportedDecoder(ValueError):
    """The decoder has a layer that decoder.js does not implement."""


def b64_float32(arrays: Iterable[np.ndarray]) -> str:
    """Concatenate arrays as little-endian float32 and base64 them (4 bytes per number, 5.3 as text)."""
    flat = [np.ascontiguousarray(a, dtype="<f4").ravel() for a in arrays]
    data = np.concatenate(flat) if flat else np.zeros(0, "<f4")
    return base64.b64encode(data.tobytes()).decode("ascii")


def as_json(payload: dict) -> bytes:
    """A component's data as one UTF-8 JSON document, sent as bytes. Given a dict (or a string), Streamlit tests
    each top-level value for a dataframe, which imports pandas and pyarrow into the server (about 70 MiB a
    replica), and serialises the whole twice (once with sorted keys, for the element's identity): ~3 ms a run for
    the plane. Bytes go to the page as they are, hashed once; the page parses them (frontend/*.js, `readData`)."""
    return json.dumps(payload, separators=(",", ":")).encode()


def _pair(v) -> list[int]:
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def decoder_layers(model) -> list[nn.Module]:
    """The decoder's modules in order: vae_core's decoders are one nn.Sequential, `decoder.net`."""
    net = getattr(getattr(model, "decoder", None), "net", None)
    if not isinstance(net, nn.Sequential):
        raise UnsupportedDecoder("the decoder is not an nn.Sequential at model.decoder.net")
    return list(net)


@torch.no_grad()
def decoder_spec(model) -> dict:
    """The decoder as the page's decoder.js reads it.

    {format, version, latent_dim, output: "sigmoid" | "clamp" | "cb_mean", image, n, data, layers}, where data
    holds every weight as float32 base64 and each layer names its offsets into it. Dropout (a no-op in eval
    mode) is left out. Raises UnsupportedDecoder for any other kind of layer.
    """
    cfg = model.cfg
    layers: list[dict] = []
    arrays: list[np.ndarray] = []
    offset = 0

    def add(t: torch.Tensor) -> int:
        nonlocal offset
        a = t.detach().to("cpu", torch.float32).numpy()
        arrays.append(a)
        start, offset = offset, offset + a.size
        return start

    for m in decoder_layers(model):
        if isinstance(m, nn.Linear):
            if m.bias is None:
                raise UnsupportedDecoder("a Linear layer without bias")
            layers.append({"type": "linear", "in": m.in_features, "out": m.out_features,
                           "w": add(m.weight), "b": add(m.bias)})
        elif isinstance(m, (nn.ReLU, nn.Tanh)):
            layers.append({"type": "relu" if isinstance(m, nn.ReLU) else "tanh"})
        elif isinstance(m, nn.Dropout):
            continue  # the identity in eval mode
        elif isinstance(m, nn.Unflatten):
            if m.dim != 1:
                raise UnsupportedDecoder(f"Unflatten over dim {m.dim}")
            layers.append({"type": "reshape", "shape": [int(s) for s in m.unflattened_size]})
        elif isinstance(m, nn.ConvTranspose2d):
            if m.groups != 1 or _pair(m.dilation) != [1, 1] or _pair(m.output_padding) != [0, 0] \
                    or m.bias is None or m.padding_mode != "zeros" or isinstance(m.padding, str):
                raise UnsupportedDecoder("ConvTranspose2d with groups, dilation, output_padding or no bias")
            layers.append({"type": "conv_transpose", "in": m.in_channels, "out": m.out_channels,
                           "kernel": _pair(m.kernel_size), "stride": _pair(m.stride), "padding": _pair(m.padding),
                           "w": add(m.weight), "b": add(m.bias)})
        else:
            raise UnsupportedDecoder(f"layer {type(m).__name__} has no browser implementation")
    if cfg.image_shape[0] != 1:
        raise UnsupportedDecoder("only one-channel images are drawn in the browser")
    return {
        "format": DECODER_FORMAT, "version": DECODER_VERSION, "latent_dim": int(cfg.latent_dim),
        "output": {"bernoulli": "sigmoid", "continuous-bernoulli": "cb_mean"}.get(cfg.likelihood, "clamp"),
        "image": [int(s) for s in cfg.image_shape], "n": offset, "data": b64_float32(arrays), "layers": layers,
    }


def points_spec(plane: np.ndarray, labels: np.ndarray) -> dict:
    """The scatter: n points (x, y) as float32 base64 and their class labels as uint8 base64."""
    plane = np.asarray(plane, dtype=np.float32)
    labels = np.asarray(labels)
    if plane.ndim != 2 or plane.shape[1] != 2 or len(labels) != len(plane):
        raise ValueError(f"points must be [N, 2] with N labels, got {plane.shape} and {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise ValueError("labels must be in 0..255")
    return {
        "kind": "points", "n": int(len(plane)), "xy": b64_float32([plane]),
        "labels": base64.b64encode(labels.astype(np.uint8).tobytes()).decode("ascii"),
    }


def shapes_spec(shapes: np.ndarray) -> dict:
    """Each test image's posterior on the map, [N, 3]: its 1σ ellipse's axes and angle (sx, sy, angle), float32."""
    shapes = np.asarray(shapes, dtype=np.float32)
    if shapes.ndim != 2 or shapes.shape[1] != 3:
        raise ValueError(f"shapes must be [N, 3], got {shapes.shape}")
    return {"kind": "shapes", "n": int(len(shapes)), "sxa": b64_float32([shapes])}


def image_spec(png: bytes, extent: tuple[float, float, float, float]) -> dict:
    """A PNG laid under the points, spanning extent = (x0, x1, y0, y1) of the latent plane (row 0 at y1)."""
    return {"kind": "image", "src": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            "extent": [float(v) for v in extent]}


def blob_key(*parts) -> str:
    """A short, stable key for a blob, from whatever identifies its content (e.g. the model folder and stamp)."""
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:16]


class BlobLedger:
    """Which blobs this browser session has been sent, so each is sent once.

    `outgoing(blobs)` returns those of {key: payload or a function making it} not sent yet, made, and marks
    them sent (a payload already sent is not even made); `forget(keys)` is called
    when the page reports keys it does not hold (a message lost to an interrupted rerun, or a page whose
    cache was cleared), so they go out again with the next run.
    """

    def __init__(self) -> None:
        self.sent: set[str] = set()

    def outgoing(self, blobs: dict) -> dict[str, dict]:
        out = {k: v() if callable(v) else v for k, v in blobs.items() if k not in self.sent}
        self.sent.update(out)
        return out

    def forget(self, keys: Iterable) -> None:
        for k in keys or ():
            self.sent.discard(str(k))


def plane_spec(plane, origin_z=None) -> dict:
    """The slice of a d-dimensional latent space the page decodes, for decoder.js's setPlane(origin, e1, e2):

        z = o + u e1 + v e2,   o = origin_z - sum_k ((origin_z - m) . e_k) e_k   (vae_core.analysis.plane_origin)

    plus the share of the codes' variance each axis holds, for the axis labels. Plain JSON lists: 3d numbers.
    """
    from vae_core.analysis import plane_origin

    o = plane_origin(plane, origin_z)
    ratio = [None if not np.isfinite(r) else float(r) for r in plane.variance_ratio]
    return {
        "kind": "plane", "dim": int(plane.dim), "origin": [float(v) for v in o],
        "e1": [float(v) for v in plane.basis[0]], "e2": [float(v) for v in plane.basis[1]],
        "variance_ratio": ratio,
        "total_ratio": None if not np.isfinite(plane.total_ratio) else float(plane.total_ratio),
    }
