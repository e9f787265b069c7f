"""vae_core: a small, readable variational autoencoder library (no Streamlit inside).

    settings.py      a run setting declared once on its dataclass field; the flags, checks and command text
    config.py        VAEConfig: what a model is
    train_config.py  TrainConfig: how it is trained
    architectures/   each architecture's encoder and decoder, and the table that names them
    budget.py        how large a model may be (parameters, activations), counted on a meta-device copy
    model.py         the VAE: encode, reparameterize, decode, loss_terms (and helpers for the app)
    losses.py        the terms of the ELBO, each with its formula
    data.py          MNIST / Fashion-MNIST from the official IDX files, checked by SHA-256
    train.py         the training loop with callbacks, and its command line
    optim.py         Adam and the one-cycle schedule on PyTorch's fused Adam kernel (no torch._dynamo import)
    step_history.py  a run's per-step metrics in bounded memory (every step, then means of equal blocks)
    checkpoint.py    self-describing checkpoint folders (config.json + model.safetensors); schema.py checks them
    evaluate.py      test loss and the IWAE bound, and their command line
    analysis.py      beyond two dimensions: principal plane, per-dimension KL, active units, traversals
    attributes.py    ink and slant of images; directions from one group of codes to another
    neighbour_map.py a 2-D map without an inverse, decoded through its nearest points
    umap_plane.py    UMAP of the codes (imports umap-learn: only the UMAP map imports it)
"""

from .analysis import Plane, active_units, kl_per_dimension, latent_summary, principal_plane
from .budget import MAX_PARAMETERS, BudgetError, activation_floats, check_budget, parameter_count
from .checkpoint import CheckpointError, is_checkpoint_folder, load_checkpoint, read_config, save_checkpoint
from .config import VAEConfig
from .data import Dataset, DatasetError, load_dataset, to_float
from .model import VAE, interpolate_latents, latent_grid_points
from .train_config import TrainConfig  # with config: registers the run's settings (settings.run_classes)

__all__ = [
    "VAE", "VAEConfig", "TrainConfig", "Dataset", "DatasetError", "load_dataset", "to_float", "CheckpointError",
    "load_checkpoint", "read_config", "save_checkpoint", "interpolate_latents", "latent_grid_points",
    "is_checkpoint_folder", "MAX_PARAMETERS", "BudgetError", "activation_floats", "check_budget", "parameter_count",
    "Plane", "active_units", "kl_per_dimension", "latent_summary", "principal_plane",
]
