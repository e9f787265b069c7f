"""The names the Train page, the benches and their tests import from here, until they import dashboard.model.

New code imports from the dashboard.model package (its __init__ lists its modules) and passes a ModelHandle.
"""

from __future__ import annotations

from vae_core.train import available_cpus

from .model.caches import load_model, test_encodings
from .model.compute import Encodings, compute_encodings, compute_grid, decode, encode_images
from .model.handle import ModelHandle as ActiveModel
from .model.registry import DATASET_TITLES, ModelEntry, list_models, public_reason
from .model.registry import list_models as scan
from .model.registry import list_models as scan_checkpoints
from .model.sidebar import model_summary
from .model.tuning import REQUEST_THREADS, use_request_threads

__all__ = [
    "ActiveModel", "DATASET_TITLES", "Encodings", "ModelEntry", "REQUEST_THREADS", "available_cpus",
    "compute_encodings", "compute_grid", "decode", "encode_images", "list_models", "load_model", "model_summary",
    "public_reason", "scan", "scan_checkpoints", "test_encodings", "use_request_threads",
]
