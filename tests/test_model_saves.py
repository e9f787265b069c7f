"""Saving models from the app when things go wrong: two processes saving one name at once (replicas sharing the
models folder), a full disk or a folder in the way, another session's model, and deleting one's own."""

from __future__ import annotations

import multiprocessing as mp

import pytest
import torch

from vae_core import VAE, VAEConfig
from vae_core.checkpoint import read_config

from dashboard.training.save import ModelExistsError, save_user_model

ROUNDS = 20


def _save_rounds(tag: str, root: str, barrier, results) -> None:
    """One replica: save models r0, r1, ... each at the same moment as the other process."""
    torch.manual_seed(hash(tag) % 1000)
    model = VAE(VAEConfig(hidden=(8,)))
    for i in range(ROUNDS):
        barrier.wait(60)
        try:
            save_user_model(model, f"r{i}", models_root=root, meta={"writer": tag})
            results.put((i, tag, "Saved"))
        except ModelExistsError:
            results.put((i, tag, "exists"))
        except Exception as e:  # noqa: BLE001  (the parent says what went wrong)
            results.put((i, tag, f"{type(e).__name__}: {e}"))


def test_two_processes_saving_one_name_at_once_exactly_one_wins(tmp_path):
    """Every round, two processes save the same new name at the same moment: exactly one is told "Saved", the
    other that the name exists, and the folder holds the winner's model (nobody's save silently replaced)."""
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_save_rounds, args=(tag, str(tmp_path), barrier, results)) for tag in "AB"]
    for p in procs:
        p.start()
    outcomes: dict[int, dict[str, str]] = {}
    for _ in range(2 * ROUNDS):
        i, tag, what = results.get(timeout=300)
        outcomes.setdefault(i, {})[tag] = what
    for p in procs:
        p.join(60)
    both = [i for i, o in outcomes.items() if list(o.values()).count("Saved") != 1]
    assert not both, f"rounds without exactly one winner: {[(i, outcomes[i]) for i in both]}"
    for i, o in outcomes.items():
        assert sorted(o.values()) == ["Saved", "exists"], o
        (winner,) = [t for t, what in o.items() if what == "Saved"]
        assert read_config(tmp_path / f"r{i}")["writer"] == winner
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left
