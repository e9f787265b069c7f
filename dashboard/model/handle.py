"""ModelHandle: one object for the model in use, passed wherever a page needs the model.

It holds the registry entry, the loaded VAE and its config; everything expensive (the test encodings, the
analysis, the planes, the grids, the page's blobs) it gets from caches.py and blobs.py, computed once per model
version for every session, so a handle is cheap to make at every run and to pass around.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

import vae_core
from vae_core import analysis
from vae_core.evaluate import binarization_of
from vae_core.image_folder import FOLDER

from . import blobs, caches, compute, one_image
from .registry import DATASET_TITLES, ModelEntry, public_reason

log = logging.getLogger(__name__)


def test_set_missing(dataset: str) -> str:
    """Why a model's test set gives no points, in one plain line for the page: the folders looked in and a
    download's error name server paths, so they go to the server log only. A config's own name is never shown."""
    title = DATASET_TITLES.get(dataset)
    what = f"The {title} test set" if title else "This model's test set"
    return f"{what} is not installed on this server (or cannot be read), so the map shows no points."


@dataclass(frozen=True)
class ModelHandle:
    entry: ModelEntry
    model: vae_core.VAE
    config: dict

    # --- what it is ---------------------------------------------------------------------------

    @property
    def folder(self) -> str:
        return self.entry.folder

    @property
    def stamp(self) -> tuple[int, int]:
        return self.entry.stamp

    @property
    def key(self) -> str:
        """Names this version of the model: a new one when the checkpoint is rewritten."""
        return self.entry.key

    @property
    def link_name(self) -> str:
        return self.entry.link_name

    @property
    def dataset(self) -> str:
        data = self.config.get("data")
        name = data.get("dataset") if isinstance(data, dict) else None
        return name if isinstance(name, str) else "mnist"

    @property
    def test_set_name(self) -> str:
        """Names the test images the map shows: the dataset's name, or for a model trained on a folder of images,
        which folder (its classes and test split): two such models do not share test image numbers."""
        data = self.config.get("data") or {}
        if self.dataset != FOLDER:
            return self.dataset
        split = (data.get("split") or {}).get("test_files_sha256", "")[:8]
        return f"your images ({', '.join(data.get('classes') or ())}; split {split})"

    @property
    def latent_dim(self) -> int:
        return int(self.model.cfg.latent_dim)

    # --- computed once per model (caches.py) ------------------------------------------------------

    def encodings(self) -> compute.Encodings:
        """q(z|x) of every test image. Raises when the test set cannot be loaded (vae_core.DatasetError)."""
        return caches.test_encodings(self.folder, self.stamp, self.dataset)

    def analysis(self) -> analysis.LatentSummary:
        """The test codes' principal plane, KL per dimension, active units and KL order."""
        return caches.latent_analysis(self.folder, self.stamp, self.dataset)

    def plane(self, projection) -> analysis.Plane | None:
        """The plane through the latent space that a projection ("pca" or (i, j)) names; None for d <= 2."""
        return caches.map_plane(self.folder, self.stamp, self.dataset, projection)

    def umap(self):
        """The UMAP map of the test codes (umap_cache.UmapView), computed once per model (d > 2 only)."""
        # imported here, not at the top: umap-learn takes seconds to import, and only the UMAP map needs it
        from . import umap_cache

        return umap_cache.umap_view(self.folder, self.stamp, self.dataset)

    def map_points(self, projection) -> np.ndarray:
        """The test codes where the map draws them for that projection, float32 [N, 2]."""
        return caches.map_points(self.folder, self.stamp, self.dataset, projection)

    def manifold_png(self, n: int, extent, piece: tuple | None = None) -> tuple[bytes, int]:
        return caches.manifold_png(self.folder, self.stamp, n, extent, piece)

    def morph_media(self, z0: tuple[float, ...], z1: tuple[float, ...], steps: int, mode: str) -> caches.MorphMedia:
        return caches.morph_media(self.folder, self.stamp, z0, z1, steps, mode)

    def attribute_direction(self, kind: str, a: int = 0, b: int = 1) -> np.ndarray:
        """The direction "ink", "slant" (median split of the test images) or "class" (class a -> class b)."""
        return caches.attribute_direction(self.folder, self.stamp, self.dataset, kind, a, b)

    def picked_images(self, index: int, size: int) -> tuple[str, str]:
        return caches.picked_images(self.folder, self.stamp, self.dataset, index, size)

    # --- the page's copies (blobs.py) ---------------------------------------------------------------

    def decoder_blob(self) -> tuple[str, dict | None, str | None]:
        return blobs.decoder_blob(self.folder, self.stamp)

    def decodes_in_page(self) -> bool:
        """Whether the page can run this model's decoder (and so has its own z sliders); else the server decodes."""
        return self.decoder_blob()[1] is not None

    def points_blob(self, projection=None) -> tuple[str, dict]:
        """The test codes for the page: (z1, z2) without a projection, else on its plane."""
        if projection is None:
            return blobs.points_blob(self.folder, self.stamp, self.dataset)
        if projection == "umap":
            from . import umap_cache  # the map was made by self.umap(): the module is loaded already

            return umap_cache.umap_points_blob(self.folder, self.stamp, self.dataset)
        return blobs.projected_points_blob(self.folder, self.stamp, self.dataset, projection)

    def pick_shapes_blob(self, projection=None) -> tuple[str, dict] | None:
        """Each test image's posterior ellipse on the map (None for d = 1), for a follower's map that draws picks."""
        return blobs.pick_shapes_blob(self.folder, self.stamp, self.dataset, projection)

    def grid_blob_key(self, n: int, extent: float, piece: tuple | None = None) -> str:
        return blobs.grid_key(self.folder, self.stamp, n, extent, piece)

    def grid_blob(self, n: int, extent: float, piece: tuple | None = None) -> tuple[str, dict]:
        return blobs.grid_blob(self.folder, self.stamp, n, extent, piece)

    # --- on the fly ----------------------------------------------------------------------------

    def decode(self, z) -> np.ndarray:
        """Latent codes [B, d] (or one code [d]) -> float32 images [B, 28, 28] in [0, 1]."""
        return compute.decode(self.model, z)

    def encode_image(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One image [28, 28] -> (mu [d], sigma [d], the reconstruction at mu)."""
        return compute.encode_image(self.model, pixels)

    @property
    def binarization(self) -> tuple[str, int | None]:
        """(mode, seed) of the images its figures are measured on: "none" (grey levels), or binarized with seed."""
        return binarization_of(self.config)

    def walk_test_image(self, index: int, seed: int) -> one_image.Walk:
        """Test image #index through the model, step by step, as its test loss measures it; eps seeded."""
        mode, bseed = self.binarization
        images = (caches.model_test_set(self.folder, self.stamp, self.dataset).test_images if mode == "none"
                  else caches.measured_test_images(self.dataset, mode, bseed or 0))
        return one_image.walk(self.model, vae_core.to_float(images[index : index + 1]), seed)

    def walk_pixels(self, pixels: np.ndarray, seed: int) -> one_image.Walk:
        """A picture [28, 28] (your digit) through the model, step by step; eps seeded."""
        return one_image.walk(self.model, one_image.measured_pixels(pixels, *self.binarization), seed)


def load(entry: ModelEntry) -> tuple[ModelHandle | None, str | None]:
    """(the handle, None), or (None, why the checkpoint cannot be used: one line without a path)."""
    if entry.error:
        return None, entry.error
    try:
        model, config = caches.load_model(entry.folder, entry.stamp)
    except vae_core.CheckpointError as e:
        return None, public_reason(e, entry.folder)
    except Exception as e:  # anything torch raises on a strange file: the details go to the server log only
        log.exception("loading the checkpoint %s failed", entry.folder)
        return None, f"the checkpoint could not be read ({type(e).__name__})"
    return ModelHandle(entry, model, config), None
