"""LatentRecorder: the training replay's frames (replay.py), taken before training and after each epoch."""

from __future__ import annotations

import os

import numpy as np
import torch

from .analysis import Plane, align_plane, principal_plane, to_plane
from .callbacks import Callback, EpochMetrics
from .data import to_float
from .model import VAE
from .replay import Frame, write_replay


class LatentRecorder(Callback):
    """Records the replay (replay.py): before training and after each epoch, the posterior means of the first
    `n_points` test images and `n_samples` prior draws decoded, the same z's every epoch. One batched encode
    and one decode, in eval mode; the dashboard's training job takes the same snapshots.

    For d > 2 the map is the PCA plane of that epoch's codes (analysis.principal_plane), its axes turned to
    lie closest to the previous epoch's (analysis.align_plane): the picture would otherwise flip or spin from
    one epoch to the next, since an eigenvector's sign and the order of near-equal ones are arbitrary."""

    def __init__(self, test_images: torch.Tensor, test_labels: torch.Tensor, latent_dim: int,
                 n_points: int = 2000, n_samples: int = 8, sample_seed: int = 1234):
        self.images = test_images[:n_points]
        self.labels = test_labels[:n_points].numpy().astype("int64")
        self.z = torch.randn(n_samples, latent_dim, generator=torch.Generator().manual_seed(sample_seed))
        self.frames: list[Frame] = []
        self.plane: Plane | None = None  # the last frame's plane (d > 2), which the next one is aligned to

    def project(self, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Codes [N, d] -> (points [N, 2], share of variance per axis or None, basis [2, d] or None)."""
        d = mu.shape[1]
        if d == 1:
            return np.concatenate([mu, np.zeros_like(mu)], 1), None, None
        if d == 2 or not np.isfinite(mu).all():  # (a diverged model's NaN codes: no plane to fit)
            return mu[:, :2], None, None
        # (u, v)_n = (mu_n - m) . e_k on the plane of the top two principal axes, aligned to the last one
        plane = align_plane(principal_plane(mu), self.plane)
        self.plane = plane
        share = np.nan_to_num(plane.variance_ratio, nan=0.0)  # NaN: codes that do not vary at all
        return to_plane(mu, plane), share.astype(np.float32), plane.basis.astype(np.float32)

    @torch.no_grad()
    def record(self, model: VAE, epoch: int) -> None:
        was_training = model.training
        model.eval()
        try:
            mu = model.encode(to_float(self.images).to(model.device))[0].float().cpu().numpy()
            imgs = model.decode(self.z.to(model.device)).float().cpu()[:, 0]
            samples = (imgs.clamp(0, 1) * 255).round().to(torch.uint8)
        finally:
            model.train(was_training)
        points, share, basis = self.project(mu.astype(np.float64))
        self.frames.append(Frame(epoch, points.astype(np.float32), samples.numpy(), share, basis))

    def on_train_start(self, total_steps: int, model: VAE) -> None:
        self.record(model, 0)

    def on_epoch_end(self, m: EpochMetrics, model: VAE) -> None:
        self.record(model, m.epoch)

    def write(self, folder: str | os.PathLike) -> None:
        if self.frames:
            write_replay(folder, self.frames, self.labels)
