"""The Train page's settings form: one widget per setting declared in vae_core (settings.py), the presets
(their times measured on this server, training/speed.py), Start, and the same run as a command line."""

from __future__ import annotations

import streamlit as st
import torch

from vae_core import settings
from vae_core.budget import check_budget
from vae_core.config import VAEConfig
from vae_core.evaluate import data_label
from vae_core.image_folder import FOLDER
from vae_core.train_config import TrainConfig

from ..model.registry import DATASET_TITLES
from ..safe_text import plain
from ..training import speed
from ..training.cluster import ClusterUnavailableError
from ..training.registry import JobLimitError, registry
from ..training.save import train_command
from .state import TrainState
from .upload import images_upload

TRAIN_SIZES = (2000, 10000, 60000)

# The form draws one widget per setting declared in vae_core (settings.py); a conditional one right after the
# setting it depends on, so that each sits beside its condition in the form's two columns.
FORM = [sp for sp in settings.run_specs() if sp.label]
for _sp in [sp for sp in FORM if sp.applies]:
    FORM.remove(_sp)
    FORM.insert(next(i for i, c in enumerate(FORM) if c.name == _sp.applies[0]) + 1, _sp)
# Where the form differs from the command line's defaults: a preset fills every field.
BASE = {**{sp.name: settings.format_value(sp, sp.default) if sp.kind == "ints" else sp.default for sp in FORM},
        "epochs": 60, "limit": 60000, "device": "cpu"}
# (The pretrained recipe is scripts/train_pretrained.sh.) Their durations are measured on this server
# (training/speed.py), never written here.
PRESETS = {
    # Every training image for 3 epochs: the test loss of 10,000 images for 30 epochs (149.6 nats against 149.3)
    # in 1,407 steps instead of 2,370 and 3 test evaluations instead of 30 (docs/benchmarks.md, "The Quick demo").
    "Quick demo": dict(BASE, limit=60000, epochs=3),
    "Lecture": dict(BASE, limit=60000, epochs=40),
    "Best (the pretrained recipe)": dict(BASE, limit=60000, epochs=60),
    # The quick demo's data and epochs with 16 latent dimensions: what more dimensions buy, at a like cost.
    "16-D MLP": dict(BASE, latent_dim=16, limit=60000, epochs=3),
    # Burda, Grosse & Salakhutdinov 2016, Table 1's one-stochastic-layer VAE: 784-200-200-50, tanh, dynamically
    # binarized MNIST (they trained 3,280 epochs to 86.76 nats; pretrained/mnist50-binarized is wider and faster)
    "Burda et al. 2016 (binarized, 50-D, tanh)": dict(BASE, hidden="200,200", activation="tanh", latent_dim=50,
                                                      binarize="dynamic", epochs=100, lr=1e-3),
}
CUSTOM = "Custom"


def devices() -> list[str]:
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _options(spec: settings.Spec) -> list:
    """A choice's options in the form: the training sizes offered and this server's devices are the app's."""
    if spec.name == "limit":
        return list(TRAIN_SIZES)
    if spec.name == "device":
        return devices()
    return list(spec.choices)


FORMATS = {
    "arch": lambda a: {"mlp": "MLP (fully connected)", "conv": "Convolutional"}.get(a, a),
    "limit": lambda n: f"{n:,}",
    "dataset": lambda d: DATASET_TITLES.get(d, d) + (" (upload a .zip)" if d == FOLDER else ""),
}


def _apply_preset() -> None:
    state = TrainState()
    preset = PRESETS.get(state.preset)
    if preset is None:
        return
    for name, value in preset.items():
        if name == "limit" and value not in TRAIN_SIZES:
            value = TRAIN_SIZES[-1]
        state.set_widget(name, value)


def init_settings() -> None:
    """The first run of a session: the first preset; later runs: every setting still has a valid value."""
    state = TrainState()
    if not state.has("preset"):
        state.preset = next(iter(PRESETS))
        _apply_preset()
    for name, value in BASE.items():
        if not state.has(name):
            state.set_widget(name, value)
    if state.widget("limit") not in TRAIN_SIZES:
        state.set_widget("limit", TRAIN_SIZES[-1])
    if state.widget("device") not in devices():
        state.set_widget("device", "cpu")


def form_values() -> dict:
    """The form's values by setting name (lists as the text typed); settings not on the form at their default."""
    state = TrainState()
    return {sp.name: state.widget(sp.name, BASE.get(sp.name, sp.default)) for sp in settings.run_specs()}


def settings_from_state() -> tuple[VAEConfig, TrainConfig]:
    """The form's values -> (model config, training config); ValueError naming the field by its label.
    A field that does not apply (greyed out) is not used: its setting takes its default."""
    specs = settings.run_specs()
    checked = settings.check(form_values(), specs, name=lambda sp: sp.label or sp.flag)
    return settings.build(checked, specs, drop_inapplicable=True)


def _on_start() -> None:
    state = TrainState()
    state.drop("notice", "save_msg", "save_confirm")
    try:
        model_cfg, train_cfg = settings_from_state()
        check_budget(model_cfg, train_cfg.batch_size)  # from the numbers alone: refused before any allocation
        if train_cfg.dataset == FOLDER and not train_cfg.data_dir:
            raise ValueError("upload a .zip of your images first (one folder per class)")
    except ValueError as e:  # BudgetError is one too
        state.notice = ("error", f"Cannot start: {plain(e)}")
        return
    try:
        job = registry().start(state.session_id(), model_cfg, train_cfg)
    except JobLimitError as e:
        state.notice = ("warning", str(e))
        return
    except (ValueError, ClusterUnavailableError) as e:
        state.notice = ("error", f"Cannot start: {e}")
        return
    state.job_id = job.job_id


def _widget(col, spec: settings.Spec, values: dict) -> None:
    """One setting's widget, generated from its declaration; greyed out, with the reason, where it does not apply."""
    key, ui = TrainState().key(spec.name), spec.ui
    off = not spec.is_applicable(values)
    common = dict(key=key, persist_state="page", help=spec.help[:1].upper() + spec.help[1:] + ".", disabled=off)
    if spec.kind == "ints":
        col.text_input(spec.label, **common)
    elif spec.choices or spec.name == "limit":
        col.selectbox(spec.label, _options(spec), format_func=FORMATS.get(spec.name, str), **common)
    elif spec.kind == "int":
        col.number_input(spec.label, int(ui.get("lo", spec.lo)), int(ui.get("hi", spec.hi)),
                         step=int(ui.get("step", 1)), **common)
    else:
        col.number_input(spec.label, float(ui.get("lo", spec.lo)), float(ui.get("hi", spec.hi)),
                         step=float(ui.get("step", 0.1)), format="%g", **common)
    if off:
        col.caption(f"Not used: {spec.note}.")


def settings_form(busy: bool) -> None:
    """The settings as plain widgets (not an st.form): each change reruns the page, so the greyed-out fields
    and the command-line text below follow the form at once."""
    state = TrainState()
    st.selectbox("Preset", [*PRESETS, CUSTOM], key=state.key("preset"), persist_state="page", on_change=_apply_preset,
                 help="Fills in the settings below; change any of them afterwards.")
    # The time is a caption, not part of the option's label: a label that changes once the timing is in would
    # no longer match the selected option.
    if state.preset in PRESETS:
        st.caption(speed.preset_label(PRESETS, TRAIN_SIZES)(state.preset))
    values = form_values()
    with st.container(border=True, key=state.key("settings")):
        for i in range(0, len(FORM), 2):
            cols = st.columns(2)
            for col, spec in zip(cols, FORM[i:i + 2]):
                _widget(col, spec, values)
        if values.get("dataset") == FOLDER:
            images_upload(busy)
        st.button("Start training", key=state.key("start"), type="primary", icon=":material/play_arrow:",
                  on_click=_on_start, disabled=busy, width="stretch")
    if busy:
        st.caption("Settings apply to the next run; this one is still training.")
    try:
        model_cfg, train_cfg = settings_from_state()
    except ValueError as e:
        st.caption(f"Same run from the command line: (fix the settings first: {plain(e)})")
    else:
        st.caption("Same run from the command line:")
        st.code(f"{train_command(model_cfg, train_cfg)} --out models/NAME", language="bash", wrap_lines=True)
        seed = None if train_cfg.binarize == "none" else train_cfg.test_binarize_seed
        st.caption(f"Its nats: {data_label(model_cfg.likelihood, train_cfg.binarize, seed, model_cfg.sigma)}.",
                   help="The Bernoulli likelihood is a distribution over 0/1 pixels: a log-likelihood on binarized "
                        "images; on grey levels the same formula is a cross-entropy (Loaiza-Ganem & Cunningham "
                        "2019). For grey levels the continuous Bernoulli and the Gaussian are densities.")
