"""The training loop (history, stop, divergence, determinism) and its command line."""

from __future__ import annotations

import dataclasses
import json
import math
import threading

import pytest
import torch

from vae_core import data as data_mod
from vae_core.callbacks import Callback
from vae_core.checkpoint import load_checkpoint
from vae_core.config import VAEConfig
from vae_core.model import VAE
from vae_core.train import main, train
from vae_core.train_config import TrainConfig

TINY = VAEConfig(hidden=(64,))  # one hidden layer: a training step takes milliseconds


@pytest.fixture(scope="module")
def small_test_set(mnist):
    """MNIST with the test set cut to 500 images, so the end-of-epoch evaluation is quick."""
    return dataclasses.replace(mnist, test_images=mnist.test_images[:500], test_labels=mnist.test_labels[:500])


@pytest.fixture(scope="module")
def two_epochs(mnist):
    torch.manual_seed(0)
    cfg = TrainConfig(limit=500, epochs=2, batch_size=100, device="cpu", seed=0)
    return cfg, train(TINY, cfg, data=mnist)


class Recorder(Callback):
    def __init__(self, stop_after: int | None = None):
        self.stop_after = stop_after
        self.total_steps = None
        self.steps: list = []
        self.epochs: list = []

    def on_train_start(self, total_steps, model):
        self.total_steps = total_steps

    def on_step(self, m):
        self.steps.append(m)

    def on_epoch_end(self, m, model):
        self.epochs.append((m, {k: v.clone() for k, v in model.state_dict().items()}))

    def should_stop(self):
        return self.stop_after is not None and len(self.steps) >= self.stop_after


def _finite_state(model: VAE) -> bool:
    return all(torch.isfinite(v).all() for v in model.state_dict().values())


# --- train() --------------------------------------------------------------------------------------------


def test_history_of_a_short_run(two_epochs):
    cfg, result = two_epochs
    assert result.status == "completed"
    assert result.message == "trained 2 epochs"
    assert result.epochs_completed == 2
    steps, epochs = result.history["steps"], result.history["epochs"]
    assert len(steps) == 10  # 500 images / 100 per batch * 2 epochs
    assert len(epochs) == 2
    assert [s["step"] for s in steps] == list(range(1, 11))
    assert [s["epoch"] for s in steps] == [1] * 5 + [2] * 5
    assert all(s["total_steps"] == 10 for s in steps)
    for s in steps:
        assert math.isfinite(s["loss"]) and s["loss"] > 0
        assert math.isclose(s["loss"], s["recon"] + s["kl"], rel_tol=1e-5)
        assert s["lr"] > 0
    assert [e["epoch"] for e in epochs] == [1, 2] and [e["step"] for e in epochs] == [5, 10]
    for e in epochs:
        assert set(e) >= {"train_loss", "test_loss", "test_recon", "test_kl", "elapsed"}
        assert math.isfinite(e["test_loss"]) and e["test_kl"] >= 0
        assert math.isclose(e["test_loss"], e["test_recon"] + e["test_kl"], rel_tol=1e-9)
    # the epoch's train loss is the mean of its steps
    assert math.isclose(epochs[0]["train_loss"], sum(s["loss"] for s in steps[:5]) / 5, rel_tol=1e-9)
    # learning: the test loss falls from epoch 1 to 2 and is far below an untrained model's (~543 nats)
    assert epochs[1]["test_loss"] < epochs[0]["test_loss"] < 543
    assert result.seconds > 0
    assert not result.model.training
    assert _finite_state(result.model)


def test_one_cycle_schedule_peaks_at_lr(two_epochs):
    cfg, result = two_epochs
    lrs = [s["lr"] for s in result.history["steps"]]
    assert max(lrs) <= cfg.lr * (1 + 1e-6)
    assert lrs[-1] < lrs[len(lrs) // 2]  # annealed at the end
    assert lrs[0] < max(lrs)  # warmed up at the start


def test_result_model_is_the_one_evaluated_last(two_epochs, mnist):
    from vae_core.evaluate import evaluate_elbo

    cfg, result = two_epochs
    again = evaluate_elbo(result.model, mnist.test_images, seed=cfg.seed)
    assert again["test_loss"] == pytest.approx(result.history["epochs"][-1]["test_loss"], rel=1e-6)


def test_callbacks_see_every_step_and_epoch(small_test_set):
    rec = Recorder()
    result = train(TINY, TrainConfig(limit=200, epochs=2, batch_size=64, device="cpu"), [rec], data=small_test_set)
    assert rec.total_steps == 8  # ceil(200 / 64) = 4 per epoch; the last batch holds 8 images
    assert [m.step for m in rec.steps] == list(range(1, 9))
    assert [m.epoch for m, _ in rec.epochs] == [1, 2]
    # the model handed to on_epoch_end at the last epoch is the returned one
    final_state = rec.epochs[-1][1]
    assert all(torch.equal(final_state[k], v) for k, v in result.model.state_dict().items())


def test_should_stop_ends_the_run_within_one_step(small_test_set):
    rec = Recorder(stop_after=3)
    result = train(TINY, TrainConfig(limit=500, epochs=2, batch_size=100, device="cpu"), [rec], data=small_test_set)
    assert result.status == "stopped"
    assert result.message == "stopped by request at step 3 (epoch 1)"
    assert len(result.history["steps"]) == 3
    assert len(rec.steps) == 3
    assert result.history["epochs"] == [] and rec.epochs == []
    assert result.epochs_completed == 0
    assert _finite_state(result.model)


def test_stop_in_the_second_epoch_returns_the_first_epochs_weights(small_test_set):
    rec = Recorder(stop_after=7)
    result = train(TINY, TrainConfig(limit=500, epochs=3, batch_size=100, device="cpu"), [rec], data=small_test_set)
    assert result.status == "stopped" and result.epochs_completed == 1
    assert len(result.history["steps"]) == 7
    epoch1_state = rec.epochs[0][1]
    assert all(torch.equal(epoch1_state[k], v) for k, v in result.model.state_dict().items())


def test_absurd_learning_rate_diverges_cleanly(small_test_set):
    cfg = TrainConfig(limit=500, epochs=2, batch_size=100, lr=1e12, schedule="constant", device="cpu", seed=3)
    result = train(TINY, cfg, data=small_test_set)
    assert result.status == "diverged"
    assert "diverged at step" in result.message
    assert "lower learning rate" in result.message
    assert "1e+12" in result.message
    assert result.epochs_completed == 0
    assert _finite_state(result.model)
    # diverged in the first epoch: the weights go back to the initial ones, which the seed fixes
    torch.manual_seed(3)
    initial = VAE(TINY).state_dict()
    assert all(torch.equal(initial[k], v) for k, v in result.model.state_dict().items())
    # the non-finite step is not recorded
    assert all(math.isfinite(s["loss"]) for s in result.history["steps"])


def test_same_seed_same_weights(small_test_set):
    cfg = TrainConfig(limit=256, epochs=1, batch_size=64, device="cpu", seed=7)
    a = train(TINY, cfg, data=small_test_set)
    torch.manual_seed(12345)  # the global RNG state before the call must not matter
    b = train(TINY, cfg, data=small_test_set)
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert [s["loss"] for s in a.history["steps"]] == [s["loss"] for s in b.history["steps"]]
    assert a.history["epochs"][0]["test_loss"] == b.history["epochs"][0]["test_loss"]

    c = train(TINY, dataclasses.replace(cfg, seed=8), data=small_test_set)
    assert not torch.equal(sa["decoder.net.2.weight"], c.model.state_dict()["decoder.net.2.weight"])


class DrawFromTheGlobalGenerator(Callback):
    """Another user of PyTorch's global generator (a second job, say) drawing from it at every step."""

    def on_step(self, m):
        torch.randn(100)


def test_draws_from_the_global_generator_during_a_run_do_not_change_it(small_test_set):
    cfg = TrainConfig(limit=256, epochs=1, batch_size=64, device="cpu", seed=7)
    alone = train(TINY, cfg, data=small_test_set).model.state_dict()
    disturbed = train(TINY, cfg, [DrawFromTheGlobalGenerator()], data=small_test_set).model.state_dict()
    assert all(torch.equal(alone[k], disturbed[k]) for k in alone)


def test_two_runs_in_threads_at_once_give_their_solo_weights(small_test_set):
    cfgs = [TrainConfig(limit=256, epochs=1, batch_size=32, device="cpu", seed=s) for s in (1, 2)]
    solo = [train(TINY, c, data=small_test_set).model.state_dict() for c in cfgs]
    results: list = [None, None]
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, train(TINY, cfgs[i], data=small_test_set)))
               for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for want, got in zip(solo, results):
        assert all(torch.equal(want[k], got.model.state_dict()[k]) for k in want)


@pytest.mark.parametrize("kw,msg", [(dict(epochs=0), "at least 1"), (dict(batch_size=0), "at least 1"),
                                    (dict(lr=0.0), "positive"), (dict(lr=math.nan), "positive"),
                                    (dict(lr=math.inf), "positive"), (dict(schedule="cosine"), "schedule"),
                                    (dict(limit=0), "limit"), (dict(precision="fp16"), "precision")])
def test_train_config_validation(kw, msg):
    with pytest.raises(ValueError, match=msg):
        TrainConfig(**kw)


def test_checkpoint_meta_records_the_training_set_size(small_test_set):
    from vae_core.callbacks import TrainResult
    from vae_core.run_record import checkpoint_meta

    fake = TrainResult(VAE(TINY), "completed", "", 1, {"steps": [], "epochs": []}, 1.0)
    meta = checkpoint_meta(TINY, TrainConfig(limit=300), fake, small_test_set, "cmd")
    assert meta["data"]["n_train"] == 300
    assert checkpoint_meta(TINY, TrainConfig(), fake, small_test_set, "cmd")["data"]["n_train"] == 60000


def test_checkpoint_meta_n_train_with_a_limit_above_the_data_size(small_test_set):
    from vae_core.callbacks import TrainResult
    from vae_core.run_record import checkpoint_meta

    fake = TrainResult(VAE(TINY), "completed", "", 1, {"steps": [], "epochs": []}, 1.0)
    meta = checkpoint_meta(TINY, TrainConfig(limit=10**6), fake, small_test_set, "cmd")
    assert meta["data"]["n_train"] == 60000


# --- precision -------------------------------------------------------------------------------------


def test_choose_precision_takes_bf16_only_where_its_fastest_trial_is_clearly_faster():
    from vae_core.hardware import BF16_MARGIN, choose_precision

    assert choose_precision([10.0, 9.0, 9.5], [5.0, 6.0, 7.0]) == "bf16"  # twice as fast
    assert choose_precision([10.0, 9.0], [8.5, 12.0]) == "fp32"  # 6 % faster: within the margin, keep float32
    assert choose_precision([10.0], [10.0 * BF16_MARGIN]) == "bf16"  # exactly at the margin
    assert choose_precision([10.0], [10.0 * BF16_MARGIN + 1e-6]) == "fp32"
    assert choose_precision([4.0, 9.0], [5.0, 3.0]) == "bf16"  # fastest against fastest: a burst of load
    assert choose_precision([3.0, 30.0], [4.0, 4.0]) == "fp32"  # in one trial does not decide
    assert choose_precision([5.0], [6.0]) == "fp32"  # emulated bfloat16, slower
    assert choose_precision([1.0], [0.95], margin=1.0) == "bf16"
    with pytest.raises(ValueError):
        choose_precision([], [1.0])


def test_pick_precision_times_the_model_once_per_setting_and_keeps_the_answer(monkeypatch):
    from vae_core import hardware

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    model = VAE(TINY)
    assert hardware.pick_precision("fp32", cpu, model) == "fp32" and hardware.pick_precision("bf16", cpu) == "bf16"
    assert hardware.pick_precision("auto", cuda, model) == "fp32"  # launch-bound there, bfloat16 would not pay
    assert hardware.pick_precision("auto", cpu) == "fp32"  # no model: nothing to time
    monkeypatch.setattr(hardware, "_probed", {})
    calls, answers = [], iter(["bf16", "fp32"])

    def fake_probe(m, batch_size):
        calls.append(batch_size)
        return next(answers), {}

    monkeypatch.setattr(hardware, "probe_precision", fake_probe)
    assert hardware.pick_precision("auto", cpu, model, 100) == "bf16"
    assert hardware.pick_precision("auto", cpu, model, 100) == "bf16"  # kept: the same setting computes alike
    assert hardware.pick_precision("auto", cpu, VAE(TINY), 100) == "bf16"  # (another model of the same config)
    assert hardware.pick_precision("auto", cpu, model, 200) == "fp32"  # another batch is timed afresh
    assert calls == [100, 200]


def test_the_precision_probe_times_both_and_leaves_the_model_and_the_random_streams_alone():
    from vae_core import hardware

    torch.manual_seed(3)
    model = VAE(TINY)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    choice, times = hardware.probe_precision(model, 64)
    assert choice in ("fp32", "bf16")
    assert choice == hardware.choose_precision(times["fp32"], times["bf16"])
    assert 1 <= len(times["fp32"]) == len(times["bf16"]) <= hardware.PROBE_TRIALS
    assert all(t > 0 for t in times["fp32"] + times["bf16"])
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.training and all(p.grad is None for p in model.parameters())
    assert torch.equal(torch.get_rng_state(), rng)


@pytest.mark.parametrize("bf16_share, expected", [(0.5, "bf16"), (0.95, "fp32"), (1.5, "fp32")])
def test_the_probe_chooses_by_the_step_times_it_measures(monkeypatch, bf16_share, expected):
    """The choice follows the timings of the model's own steps, whatever the CPU's flags: with the step times
    injected (bfloat16 at bf16_share of float32's), the probe records them and takes what they say."""
    from vae_core import hardware

    timed = []

    def fake_step_seconds(model, opt, x, gen, bf16, steps):
        timed.append((bf16, steps))
        return 0.010 * (bf16_share if bf16 else 1.0)

    monkeypatch.setattr(hardware, "_step_seconds", fake_step_seconds)
    choice, times = hardware.probe_precision(VAE(TINY), 64)
    assert choice == expected
    assert times == {"fp32": [0.010] * hardware.PROBE_TRIALS, "bf16": [0.010 * bf16_share] * hardware.PROBE_TRIALS}
    assert timed[:2] == [(False, 1), (True, 1)]  # one untimed step each, then alternated trials
    assert timed[2:] == [(False, hardware.PROBE_STEPS), (True, hardware.PROBE_STEPS)] * hardware.PROBE_TRIALS


def test_an_auto_run_is_the_run_in_the_precision_its_probe_chose(small_test_set, monkeypatch):
    from vae_core import hardware

    monkeypatch.setattr(hardware, "_probed", {})  # so this run times its model afresh
    cfg = TrainConfig(limit=256, epochs=1, batch_size=64, device="cpu", seed=7)
    auto = train(TINY, cfg, data=small_test_set)
    assert len(hardware.probed()) == 1
    chosen = train(TINY, dataclasses.replace(cfg, precision=auto.precision), data=small_test_set)
    sa, sb = auto.model.state_dict(), chosen.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)  # the probe left the weights and the random streams alone


def test_step_means_reads_the_batch_means_of_the_three_terms():
    from vae_core.train import step_means

    terms = {"loss": torch.tensor([3.0, 5.0], requires_grad=True), "recon": torch.tensor([2.0, 3.0]),
             "kl": torch.tensor([1.0, 2.0])}
    got = step_means(terms["loss"].mean(), terms)
    assert got == (4.0, 2.5, 1.5) and all(type(v) is float for v in got)


def test_under_bf16_autocast_the_layers_run_in_bf16_and_the_elbo_terms_in_float32(mnist):
    from vae_core.data import to_float

    torch.manual_seed(0)
    model = VAE(TINY)
    x = to_float(mnist.test_images[:8])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert model.encoder(x)[0].dtype == torch.bfloat16
        mu, logvar = model.encode(x)
        assert mu.dtype == logvar.dtype == torch.float32
        assert model.decode_raw(mu).dtype == torch.float32
        terms = model(x, torch.Generator().manual_seed(0))
    assert all(t.dtype == torch.float32 for t in terms.values())
    full = model(x, torch.Generator().manual_seed(0))
    # the same eps, so the only difference is the matrix products' rounding: well under a nat per image here
    assert torch.allclose(terms["loss"], full["loss"], rtol=0.02)
    assert not torch.equal(terms["loss"], full["loss"])


def test_bf16_training_matches_fp32_training(small_test_set):
    cfg = TrainConfig(limit=2000, epochs=2, batch_size=100, device="cpu", seed=0)
    runs = {p: train(TINY, dataclasses.replace(cfg, precision=p), data=small_test_set) for p in ("fp32", "bf16")}
    assert {p: r.precision for p, r in runs.items()} == {"fp32": "fp32", "bf16": "bf16"}
    losses = {p: r.history["epochs"][-1]["test_loss"] for p, r in runs.items()}
    first = runs["bf16"].history["epochs"][0]["test_loss"]
    assert losses["bf16"] < first  # it learns
    assert losses["bf16"] == pytest.approx(losses["fp32"], abs=3.0)  # and lands where float32 lands
    sa, sb = runs["fp32"].model.state_dict(), runs["bf16"].model.state_dict()
    assert all(v.dtype == torch.float32 for v in sb.values())  # the weights themselves stay float32
    assert not all(torch.equal(sa[k], sb[k]) for k in sa)  # bf16 really ran


# --- the command line ------------------------------------------------------------------------------


def test_cli_trains_and_writes_a_checkpoint(tmp_path, capsys):
    out = tmp_path / "m"
    argv = ["--hidden", "64", "--device", "cpu", "--seed", "1", "--limit", "300", "--epochs", "1", "--out", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert f"saved to {out}" in captured.out

    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors", "replay.safetensors"]
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temp folders left
    config = json.loads((out / "config.json").read_text())
    assert config["command"] == "python -m vae_core.train " + " ".join(argv)
    assert config["model"]["hidden"] == [64] and config["model"]["latent_dim"] == 2
    assert set(config["metrics"]) == {"test_loss", "test_recon", "test_kl"}
    assert all(math.isfinite(v) for v in config["metrics"].values())
    assert config["data"]["dataset"] == "mnist"
    assert config["data"]["sha256"] == data_mod.SHA256["mnist"]
    assert config["data"]["n_train"] == 300
    assert config["training"]["epochs_completed"] == 1 and config["training"]["status"] == "completed"
    assert config["training"]["limit"] == 300 and config["training"]["seed"] == 1
    from vae_core.hardware import available_cpus, pick_precision, torch_threads
    assert config["training"]["precision"] == "auto"
    # what this process measured for the run's model, batch and threads (kept: asking again does not time anew)
    with torch_threads(available_cpus()):
        chosen = pick_precision("auto", torch.device("cpu"), VAE(VAEConfig(hidden=(64,))), 128)
    assert config["training"]["matmul_precision"] == chosen
    assert f"matrix products in {config['training']['matmul_precision']}" in captured.out
    assert len(config["history"]["epochs"]) == 1
    assert config["history"]["epochs"][0]["test_loss"] == pytest.approx(config["metrics"]["test_loss"], abs=1e-3)
    steps = config["history"]["steps"]  # rows, or columns keyed by field: 3 steps either way (ceil(300 / 128))
    assert (steps["step"] if isinstance(steps, dict) else [s["step"] for s in steps]) == [1, 2, 3]
    assert "torch" in config["versions"]

    model, loaded = load_checkpoint(out)
    assert model.cfg.hidden == (64,)
    assert loaded["metrics"] == config["metrics"]


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    assert main(["--hidden", "0", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: hidden sizes must be 1..8192")
    assert not (tmp_path / "m").exists()

    assert main(["--epochs", "0", "--out", str(tmp_path / "m")]) == 2
    assert "at least 1" in capsys.readouterr().err


@pytest.mark.parametrize("argv,start", [
    (["--sigma", "inf", "--likelihood", "gaussian"], "--sigma must be a finite number"),
    (["--sigma", "0"], "--sigma must be a finite number"), (["--sigma", "nan"], "--sigma must be a finite number"),
    (["--beta", "inf"], "--beta must be a finite number"), (["--beta", "-1"], "--beta must be a finite number"),
    (["--lr", "inf"], "--lr must be a finite number"), (["--lr", "-0.1"], "--lr must be a finite number"),
    (["--seed", "99999999999999999999999"], "--seed must be at most 9,223,372,036,854,775,807"),
    (["--seed", "-1"], "--seed must be at least 0"), (["--epochs", "100001"], "--epochs must be at most"),
    (["--batch-size", "0"], "--batch-size must be at least 1"), (["--limit", "0"], "--limit must be at least 1"),
    (["--latent-dim", "513"], "--latent-dim must be at most 512"), (["--dropout", "1"], "--dropout must be"),
    (["--dropout", "nan"], "--dropout must be"), (["--hidden", "512,abc"], "--hidden must be 1 to 32 comma"),
    (["--hidden", "9" * 5000], "--hidden must be 1 to 32 comma"), (["--hidden", ""], "--hidden must be 1 to 32"),
    (["--conv-channels", "32"], "--conv-channels must be 2 comma"),
    (["--hidden", "8192,8192,8192,8192"], "the model would have 415,613,716 parameters; the limit is 16,000,000"),
    (["--arch", "conv", "--batch-size", "65536"], "a training step with batch size 65,536"),
])
def test_cli_flags_out_of_range_name_the_flag_and_write_nothing(tmp_path, capsys, argv, start):
    assert main([*argv, "--out", str(tmp_path / "m")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: {start}"), captured.err
    assert len(captured.err.strip().splitlines()) == 1 and captured.out == ""
    assert list(tmp_path.iterdir()) == []


def _tree(root) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}


def test_cli_out_refuses_a_folder_of_saved_models_and_a_file_before_training(tmp_path, capsys):
    models = tmp_path / "models"
    assert main(["--hidden", "16", "--device", "cpu", "--limit", "100", "--epochs", "1", "--out",
                 str(models / "a")]) == 0
    (models / "b").mkdir()
    (models / "b" / "notes.txt").write_text("a student's notes")
    (tmp_path / "file.txt").write_text("keep")
    capsys.readouterr()
    before = _tree(tmp_path)
    for out in (models, models / "b", tmp_path / "file.txt"):
        assert main(["--hidden", "16", "--device", "cpu", "--limit", "100", "--epochs", "1", "--out", str(out)]) == 2
        captured = capsys.readouterr()
        assert captured.err.startswith(f"error: --out {out}: ") and len(captured.err.splitlines()) == 1
        assert "training" not in captured.out  # refused before the data was read or a step was taken
    assert _tree(tmp_path) == before


def test_cli_out_replaces_an_existing_checkpoint(tmp_path, capsys):
    out = tmp_path / "m"
    common = ["--device", "cpu", "--limit", "100", "--epochs", "1", "--out", str(out)]
    assert main(["--hidden", "16", *common]) == 0
    assert main(["--hidden", "24", "--latent-dim", "3", *common]) == 0
    model, _ = load_checkpoint(out)
    assert model.cfg.hidden == (24,) and model.cfg.latent_dim == 3
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_train_refuses_an_over_budget_batch_before_allocating(small_test_set):
    from vae_core.budget import BudgetError

    with pytest.raises(BudgetError, match="batch size 65,536"):
        train(VAEConfig(arch="conv"), TrainConfig(batch_size=65_536, epochs=1, limit=10, device="cpu"),
              data=small_test_set)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown when CUDA is missing")
def test_cli_cuda_without_cuda(tmp_path, capsys):
    assert main(["--device", "cuda", "--out", str(tmp_path / "m")]) == 2
    assert "no CUDA device is available" in capsys.readouterr().err


def test_cli_divergence_exits_1_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "m"
    rc = main(["--hidden", "64", "--device", "cpu", "--limit", "200", "--epochs", "1", "--lr", "1e12",
               "--schedule", "constant", "--out", str(out)])
    assert rc == 1
    err = capsys.readouterr().err
    assert "error: loss diverged at step" in err and "lower learning rate" in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
