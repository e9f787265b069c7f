"""The page's decoder (dashboard/latent_plane/frontend/decoder.js) against PyTorch's, run under Node.

For 100 random z per model, the largest difference of any pixel must be at most 1e-4. The shipped models
(mnist-mlp, mnist-conv) are checked, plus tiny ones covering the Gaussian likelihood, dropout layers, odd
sizes and more than two latent dimensions. The plane slice (setPlane + decodePlane, for d > 2) is checked
the same way against torch at z = o + u e1 + v e2, for d = 16 and 64, MLP and conv, and the shipped 16-D
and 64-D models on their principal planes. The components' ES modules are linked as the page links them.
Skipped, with the reason, where `node` is not installed.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard.latent_plane.spec import (  # noqa: E402
    UnsupportedDecoder,
    decoder_spec,
    plane_spec,  # noqa: E402
    points_spec,
)
from vae_core import VAE, VAEConfig, load_checkpoint  # noqa: E402
from vae_core.analysis import Plane, from_plane, principal_plane  # noqa: E402

NODE = shutil.which("node")
FRONTEND = ROOT / "dashboard" / "latent_plane" / "frontend"
PLOTLY_ENTRY = ROOT / "dashboard" / "plotly_map" / "frontend" / "plotly_map.js"
TOLERANCE = 1e-4

if NODE is None and os.environ.get("LATENT_EXPLORER_REQUIRE_NODE") == "1":  # CI: a missing Node is a failure
    raise RuntimeError("LATENT_EXPLORER_REQUIRE_NODE=1 but `node` is not on PATH")
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js (`node`) is not installed: cannot run decoder.js")


def run_js_decoder(spec: dict, z: np.ndarray, tmp_path: Path) -> np.ndarray:
    """decoder.js's images for the codes z [B, d], via decode_cli.js: float32 [B, C*H*W]."""
    src = tmp_path / "input.json"
    src.write_text(json.dumps({"spec": spec, "z": z.astype(np.float64).tolist()}))
    proc = subprocess.run([NODE, str(FRONTEND / "decode_cli.js"), str(src)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return np.frombuffer(base64.b64decode(proc.stdout), dtype="<f4").reshape(len(z), -1)


def run_js_plane(spec: dict, plane: dict, uv: np.ndarray, tmp_path: Path) -> np.ndarray:
    """decoder.js's images at the plane points uv [B, 2] after setPlane(plane): float32 [B, C*H*W]."""
    src = tmp_path / "input_plane.json"
    src.write_text(json.dumps({"spec": spec, "plane": plane, "uv": uv.astype(np.float64).tolist()}))
    proc = subprocess.run([NODE, str(FRONTEND / "decode_cli.js"), str(src)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return np.frombuffer(base64.b64decode(proc.stdout), dtype="<f4").reshape(len(uv), -1)


def torch_images(model: VAE, z: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model.decode(torch.from_numpy(z)).reshape(len(z), -1).numpy()


def random_codes(d: int, n: int = 100, seed: int = 0) -> np.ndarray:
    """n codes spread over and a little beyond the region the map shows (|z| up to about 5)."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d)) * 2.0).astype(np.float32)


def tiny(seed: int, **kw) -> VAE:
    torch.manual_seed(seed)
    model = VAE(VAEConfig(**kw)).eval()
    with torch.no_grad():  # larger weights than the default init, so the outputs are not all near 0.5
        for p in model.decoder.parameters():
            p.mul_(3.0)
    return model


@needs_node
@pytest.mark.parametrize("name", ["mnist-mlp", "mnist-conv"])
def test_shipped_decoders_match_torch(name, tmp_path):
    folder = ROOT / "pretrained" / name
    if not (folder / "model.safetensors").is_file():
        pytest.skip(f"pretrained/{name} is not in this checkout")
    model, _ = load_checkpoint(folder)
    z = random_codes(model.cfg.latent_dim)
    expected = torch_images(model, z)
    got = run_js_decoder(decoder_spec(model), z, tmp_path)
    assert got.shape == expected.shape == (100, 784)
    diff = float(np.abs(got - expected).max())
    assert diff <= TOLERANCE, f"{name}: max |JS - torch| = {diff:.2e}"
    assert expected.std() > 0.05, "the images should not be blank, or the comparison means little"


@needs_node
@pytest.mark.parametrize("kw", [
    dict(arch="mlp", latent_dim=2, hidden=(37, 19), likelihood="gaussian"),
    dict(arch="mlp", latent_dim=5, hidden=(64,), dropout=0.2),
    dict(arch="conv", latent_dim=3, hidden=(24,), conv_channels=(5, 7), likelihood="gaussian", dropout=0.1),
    dict(arch="conv", latent_dim=1, hidden=(16,), conv_channels=(3, 4)),
    dict(arch="mlp", latent_dim=4, hidden=(32, 16), activation="tanh", likelihood="continuous-bernoulli"),
], ids=["mlp-gaussian", "mlp-5d-dropout", "conv-gaussian-3d-dropout", "conv-1d", "mlp-tanh-continuous-bernoulli"])
def test_tiny_decoders_match_torch(kw, tmp_path):
    model = tiny(1, **kw)
    z = random_codes(model.cfg.latent_dim, seed=2)
    expected = torch_images(model, z)
    got = run_js_decoder(decoder_spec(model), z, tmp_path)
    diff = float(np.abs(got - expected).max())
    assert diff <= TOLERANCE, f"max |JS - torch| = {diff:.2e}"
    if kw.get("likelihood") == "gaussian":
        assert (expected == 0).any() or (expected == 1).any(), "the Gaussian clamp should be exercised"


@needs_node
def test_a_wrong_weight_is_caught(tmp_path):
    """The comparison can fail: one perturbed weight in the last layer changes some pixels by more than 1e-4."""
    model = tiny(3, arch="mlp", hidden=(16,))
    z = random_codes(2, n=10)
    spec = decoder_spec(model)
    w = np.frombuffer(base64.b64decode(spec["data"]), dtype="<f4").copy()
    w[spec["layers"][-1]["w"]] += 0.5
    spec["data"] = base64.b64encode(w.tobytes()).decode()
    got = run_js_decoder(spec, z, tmp_path)
    assert np.abs(got - torch_images(model, z)).max() > TOLERANCE


def test_decoder_spec_is_compact_float32():
    """Weights travel as base64 float32 (4 bytes a number, 16/3 as text), not as JSON lists of numbers."""
    model = tiny(0, arch="mlp", hidden=(64, 32))
    spec = decoder_spec(model)
    n_params = sum(p.numel() for p in model.decoder.parameters())
    assert spec["n"] == n_params
    assert len(spec["data"]) == 4 * ((4 * n_params + 2) // 3)
    assert len(json.dumps(spec)) < 1.5 * len(spec["data"])
    assert [layer["type"] for layer in spec["layers"]] == ["linear", "relu", "linear", "relu", "linear"]
    assert spec["output"] == "sigmoid" and spec["latent_dim"] == 2 and spec["image"] == [1, 28, 28]


def test_an_unknown_layer_is_refused():
    model = tiny(0, arch="mlp", hidden=(8,))
    model.decoder.net.append(torch.nn.Softsign())  # tanh and ReLU have a browser implementation, this has none
    with pytest.raises(UnsupportedDecoder, match="Softsign"):
        decoder_spec(model)


def test_points_spec_round_trip():
    xy = np.array([[0.5, -1.25], [3.0, 2.0]], np.float32)
    spec = points_spec(xy, np.array([7, 2]))
    assert spec["n"] == 2
    assert np.array_equal(np.frombuffer(base64.b64decode(spec["xy"]), "<f4").reshape(2, 2), xy)
    assert list(base64.b64decode(spec["labels"])) == [7, 2]
    with pytest.raises(ValueError):
        points_spec(xy, np.array([1]))


def random_plane(d: int, seed: int) -> Plane:
    """A plane through a random mean with a random orthonormal pair of axes."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(d, 2)))
    return Plane(rng.normal(size=d), q.T.copy(), np.full(2, np.nan), float("nan"))


def assert_plane_parity(model: VAE, plane: Plane, origin: np.ndarray, tmp_path: Path, n: int = 60) -> None:
    uv = (np.random.default_rng(7).normal(size=(n, 2)) * 2.5).astype(np.float32)
    spec = plane_spec(plane, origin)
    z = from_plane(uv, plane, origin).astype(np.float32)  # torch decodes z = o + u e1 + v e2
    expected = torch_images(model, z)
    got = run_js_plane(decoder_spec(model), spec, uv, tmp_path)
    diff = float(np.abs(got - expected).max())
    assert diff <= TOLERANCE, f"max |JS decodePlane - torch| = {diff:.2e}"
    assert expected.std() > 0.02, "the images should not be blank, or the comparison means little"
    # The same points through decode(z) agree too: the folded first layer changes nothing else.
    assert float(np.abs(run_js_decoder(decoder_spec(model), z, tmp_path) - got).max()) <= TOLERANCE


@needs_node
@pytest.mark.parametrize("kw", [
    dict(arch="mlp", latent_dim=16, hidden=(64, 32)),
    dict(arch="mlp", latent_dim=64, hidden=(48,), likelihood="gaussian"),
    dict(arch="conv", latent_dim=16, hidden=(24,), conv_channels=(4, 6)),
    dict(arch="conv", latent_dim=64, hidden=(32,), conv_channels=(3, 5), dropout=0.1),
], ids=["mlp-16d", "mlp-64d-gaussian", "conv-16d", "conv-64d-dropout"])
def test_plane_slice_matches_torch(kw, tmp_path):
    model = tiny(4, **kw)
    d = model.cfg.latent_dim
    plane = random_plane(d, seed=d)
    origin = np.random.default_rng(1).normal(size=d)  # anchored off the plane: o keeps its other coordinates
    assert_plane_parity(model, plane, origin, tmp_path)


@needs_node
@pytest.mark.parametrize("name", ["mnist16-mlp", "fashion64-conv"])
def test_shipped_high_dimensional_models_on_their_principal_plane(name, tmp_path):
    folder = ROOT / "pretrained" / name
    if not (folder / "model.safetensors").is_file():
        pytest.skip(f"pretrained/{name} is not in this checkout")
    model, _ = load_checkpoint(folder)
    d = model.cfg.latent_dim
    assert d > 2
    codes = np.random.default_rng(3).normal(size=(500, d)).astype(np.float32)
    with torch.no_grad():  # codes of decoded prior samples: a plane through where the model puts its images
        mu, _ = model.encode(model.decode(torch.from_numpy(codes)))
    plane = principal_plane(mu)
    assert_plane_parity(model, plane, mu[0].numpy(), tmp_path)


@needs_node
def test_decode_plane_needs_a_plane_and_the_right_sizes(tmp_path):
    script = f"""
import {{ readFileSync }} from "node:fs";
import {{ LatentDecoder }} from {json.dumps((FRONTEND / "decoder.js").as_uri())};
const {{ Decoder }} = LatentDecoder;
const spec = JSON.parse(readFileSync(process.argv[1], "utf8"));
const dec = new Decoder(spec);
const msgs = [];
for (const f of [() => dec.decodePlane(0, 0), () => dec.setPlane([0, 0, 0], [1, 0, 0], [0, 1]),
                 () => dec.setPlane([0, 0, NaN], [1, 0, 0], [0, 1, 0])]) {{
  try {{ f(); msgs.push("no error"); }} catch (e) {{ msgs.push(e.message); }}
}}
console.log(JSON.stringify(msgs));
"""
    model = tiny(0, arch="mlp", latent_dim=3, hidden=(8,))
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(decoder_spec(model)))
    proc = subprocess.run([NODE, "--input-type=module", "-e", script, str(spec_file)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    msgs = json.loads(proc.stdout)
    assert "call setPlane" in msgs[0] and "e2 must have 3 numbers" in msgs[1] and "origin[2]" in msgs[2]


def test_plane_spec_origin_lies_on_the_slice_through_the_anchor():
    plane = random_plane(16, seed=0)
    anchor = np.random.default_rng(5).normal(size=16)
    spec = plane_spec(plane, anchor)
    o, e1, e2 = (np.array(spec[k]) for k in ("origin", "e1", "e2"))
    # anchor = o + u e1 + v e2 for its own (u, v): the slice passes through it.
    u, v = (anchor - plane.mean) @ e1, (anchor - plane.mean) @ e2
    np.testing.assert_allclose(o + u * e1 + v * e2, anchor, atol=1e-12)
    assert spec["dim"] == 16 and spec["variance_ratio"] == [None, None] and spec["total_ratio"] is None
    json.dumps(spec)  # plain JSON


@needs_node
@pytest.mark.parametrize("entry", [FRONTEND / "plane.js", PLOTLY_ENTRY], ids=["latent_plane", "plotly_map"])
def test_the_components_modules_link(entry):
    """The page imports each component's entry and, through it, its sibling modules: Node links the same graph,
    so an import of a missing file or name fails here rather than in a browser."""
    script = f"const m = await import({json.dumps(entry.as_uri())}); console.log(typeof m.default);"
    proc = subprocess.run([NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "function"
