"""Short explanations for a first-time student: two sentences and the formula behind each view.

The sidebar toggle "Show explanations" (session_keys.SHOW_EXPLANATIONS) hides them all.
"""

from __future__ import annotations

import streamlit as st

from .session_keys import SHOW_EXPLANATIONS

# view -> (two sentences of markdown, LaTeX formula)
TEXTS: dict[str, tuple[str, str]] = {
    "map": (
        "Each dot is one test image, placed at the mean μ(x) that the encoder predicts for it and coloured by its "
        "class (the legend names them; the encoder never saw the labels). Images of the same class land close "
        "together, because the decoder has to tell them apart from these few numbers alone; with more than two "
        "latent dimensions the map shows only two of them, so classes apart in the others can overlap here.",
        # Two lines, so that it fits a half-width column at 1280 px with the sidebar open.
        r"\begin{gathered}q_\phi(z \mid x) = \mathcal{N}\big(z;\ \mu,\ \operatorname{diag} \sigma^2\big) \\ "
        r"(\mu, \sigma) = \text{encoder}_\phi(x)\end{gathered}",
    ),
    "decoder": (
        "The sliders choose a point z in the latent space and the decoder draws the image that belongs to it: its "
        "mean E[x|z], always (the sub-tabs' \"Sample x ~ p(x|z)\" draws pixels instead; this picture does not). "
        "Small steps in z give small changes in the picture: the decoder is a smooth function of z.",
        r"\hat{x} = \mathbb{E}[x \mid z] = \operatorname{sigmoid}\big(f_\theta(z)\big)",
    ),
    "pick": (
        "The encoder gives each image a Gaussian cloud, not a single point: its centre μ and spread σ "
        "(the ellipse is one σ). The reconstruction is what the decoder draws at the centre.",
        # Two lines: the formula sits in a narrow column beside the images.
        r"\begin{gathered}z = \mu + \sigma \odot \varepsilon \\ \varepsilon \sim \mathcal{N}(0, I) \\ "
        r"\hat{x} = f_\theta(\mu)\end{gathered}",
    ),
    "manifold": (
        "Decoding a regular grid of latent points shows what the decoder draws everywhere on the map's view, "
        "including places where no training image landed. Row by row, the digits morph into each other; "
        "any further latent dimensions are held at 0.",
        # Three lines here and below: one is wider than the sub-tab's column beside the map in presenter mode.
        r"\begin{gathered}x_{ij} = f_\theta(z_1 = a_j,\ z_2 = b_i) \\ a_j \in [x_0, x_1],\ b_i \in [y_0, y_1] \\ "
        r"[x_0, x_1] \times [y_0, y_1] = \text{the map's view}\end{gathered}",
    ),
    "manifold_plane": (
        "Decoding a regular grid of points of the map's plane shows what the decoder draws everywhere in its view, "
        "including places where no training image landed. Every other direction of z stays where the ★ is, so "
        "moving a slider off the plane gives another grid.",
        r"\begin{gathered}x_{ij} = f_\theta(c + a_j e_1 + b_i e_2) \\ a_j \in [x_0, x_1],\ b_i \in [y_0, y_1] \\ "
        r"[x_0, x_1] \times [y_0, y_1] = \text{the map's view}\end{gathered}",
    ),
    "morph": (
        "Walking from one code to another and decoding every step turns one image into the other through "
        "plausible images, not a cross-fade of pixels. Slerp walks an arc around 0 instead of the straight line, "
        "which cuts inside nearer 0: it keeps |z| when both ends are about as far from 0, but swings far out "
        "between nearly opposite ends.",
        # Two lines: one line is about 600 px wide and would be clipped beside the map in presenter mode.
        r"\begin{gathered}z(t) = (1-t)\, z_0 + t\, z_1 \\ "
        r"z(t) = \tfrac{\sin((1-t)\omega)}{\sin \omega} z_0 + \tfrac{\sin(t\omega)}{\sin\omega} z_1\end{gathered}",
    ),
    "prior": (
        "A VAE is a generative model: draw z from the standard normal prior and decode it to get a new image. "
        "The KL term of the loss pulls the codes towards this prior, so these samples look like the data. With "
        "the switch off each picture is the decoder's mean E[x|z]; \"Sample x ~ p(x|z)\" draws the pixels themselves.",
        r"z \sim \mathcal{N}(0, I), \qquad \hat{x} = \mathbb{E}[x \mid z] = f_\theta(z)",
    ),
    "recon": (
        "Each test image (top) is encoded to μ and decoded again (bottom). "
        "Blur is the price of squeezing 784 pixels through a few latent numbers.",
        r"\begin{aligned}-\mathrm{ELBO} &= \mathbb{E}_{q(z|x)}\big[-\log p_\theta(x \mid z)\big] \\ "
        r"&\quad + \mathrm{KL}\big(q_\phi(z \mid x)\,\|\,p(z)\big)\end{aligned}",
    ),
    "steps": (
        "The loss of one image with one draw ε: encode, draw, decode, score (the model's test loss is its average "
        "over the test images, one ε each). Only the reconstruction term depends on ε; the KL is in closed form, "
        "from μ and σ alone.",
        r"\begin{gathered}z = \mu + \sigma \odot \varepsilon \\ -\mathrm{ELBO}(x) \approx -\log p_\theta(x \mid z) "
        r"+ \mathrm{KL}\big(q_\phi(z \mid x)\,\|\,p(z)\big)\end{gathered}",
    ),
    "own": (
        "Your picture is prepared the way MNIST's digits were: white ink on black, cropped, scaled to 20 pixels and "
        "centred by its centre of mass in 28 × 28. The encoder then gives it a Gaussian q(z|x), drawn on the map as "
        "◆ and a dashed 1σ ellipse. Where it lands shows which test images the encoder finds it like; even a "
        "scribble lands among the dots, with an ordinary ellipse: the encoder has only seen its training images "
        "and cannot say \"this is none of them\".",
        r"\begin{gathered}x_{\text{yours}} \mapsto q_\phi(z \mid x_{\text{yours}}) = "
        r"\mathcal{N}(\mu, \operatorname{diag}\sigma^2) \\ \hat{x} = f_\theta(\mu)\end{gathered}",
    ),
    "denoise": (
        "Noise pushes the input away from the images the model has seen. Light noise moves the code a little and "
        "the decoder still draws nearly the clean picture; stronger noise can carry the code into another class's "
        "region; a model trained on noisy inputs (a denoising VAE) keeps it near far more often. The map shows how "
        "far it moved.",
        r"\begin{gathered}\tilde{x} = \operatorname{clip}\big(x + \mathcal{N}(0, s^2)\big)"
        r"\ \text{or} \\ \text{salt-and-pepper} \\ \hat{x} = f_\theta\big(\mu_\phi(\tilde{x})\big)\end{gathered}",
    ),
    "plane": (
        "A latent space with more than two dimensions cannot be drawn whole, so the map shows a plane through it: "
        "by default the plane in which the test codes μ spread most (their first two principal components), or any "
        "two coordinates. Moving on the map moves z along that plane only; the z sliders beside the digit set every "
        "dimension.",
        r"\begin{gathered}z = c + u\, e_1 + v\, e_2 \\ (u, v) = \big((\mu - m) \cdot e_1,\ (\mu - m) \cdot e_2\big)"
        r"\end{gathered}",
    ),
    "traversals": (
        "Each row changes one latent dimension from −3 to +3 (the prior's ±3σ) and keeps all the others fixed, so "
        "it shows what that one number does to the picture. A dimension with KL ≈ 0 gives a row of identical "
        "images: the decoder ignores it.",
        r"\begin{gathered}z^{(r, c)} = z^\star \ \text{with}\ z_{j_r} = -3 + \tfrac{6c}{n-1} \\ "
        r"\hat{x} = f_\theta\big(z^{(r, c)}\big)\end{gathered}",
    ),
    "directions": (
        "A direction with a meaning is the difference between the mean codes of two groups of images: two "
        "classes, or the images with more and with less of a property measured on their pixels. Adding it to a "
        "code adds, on average, what tells the groups apart; it is a line, so it may leave the region where codes "
        "lie.",
        r"\begin{gathered}v = \bar\mu_B - \bar\mu_A \\ z(t) = z^\star + t\, v\end{gathered}",
    ),
    "dimensions": (
        "A dimension's KL is the information about the image that the code puts in it; the KL term of the loss "
        "charges for every nat. A dimension that is not worth its price can be switched off: its μ_j stays near 0 "
        "and its σ_j near 1 whatever the image (KL ≈ 0, an inactive unit), which is called posterior collapse. "
        "How many a model switches off depends on the model; the sentence under the chart gives this one's count.",
        r"\begin{gathered}\mathrm{KL}_j = \mathbb{E}_x\big[\tfrac12(\mu_j^2 + \sigma_j^2 - \log\sigma_j^2 - 1)\big] \\ "
        r"\text{active: } \operatorname{Cov}_x\big(\mathbb{E}_{q(z|x)}[z_j]\big) > 0.01\end{gathered}",
    ),
}


# Views whose text names what the data set shows (posterior sampling, the de-noising pair). "{thing}" is
# filled with what the model's data set shows (THINGS); each sentence is checked on the shipped models by
# tests/test_explore_posterior_morph.py.
THINGS = {"mnist": "digit", "fashion-mnist": "garment"}
TEXTS.update({
    "posterior": (
        "Each dot is one draw z = μ + σ ⊙ ε from the encoder's cloud q(z|x), the step training takes before it "
        "decodes: ε carries the randomness, so the loss can still be differentiated in μ and σ. Where σ is small "
        "(0.03 to 0.04 on the plain 2-D models) the decodes usually look identical to the reconstruction; a wider "
        "cloud (β = 4, the denoising VAE, more latent dimensions) gives visible variations, mostly of the same "
        "{thing}.",
        r"\begin{gathered}z = \mu + \sigma \odot \varepsilon \\ "
        r"\varepsilon \sim \mathcal{N}(0, I)\end{gathered}",
    ),
    "denoise_pair": (
        "The same noisy image goes into both models. The denoising VAE was trained to encode corrupted images "
        "and reconstruct the clean ones, so past light noise its code stays near the clean image's code far "
        "more often; the plain model never saw noise (the shares above are measured at the noise chosen).",
        # the KL is the same as in any VAE (mnist-dvae was trained with β = 1: its test KL is 4.67 nats)
        # the loss on two lines: on one it was wider than the panel beside the map (474 px in 432)
        r"\begin{gathered}\text{DVAE loss: } -\log p_\theta(x \mid z) \\ {} + \mathrm{KL}\big(q_\phi(z \mid \tilde{x})"
        r"\,\|\,p(z)\big) \\ z \sim q_\phi(z \mid \tilde{x}) \\ "
        r"|\Delta\mu| = \lVert \mu_\phi(\tilde{x}) - \mu_\phi(x) \rVert\end{gathered}",
    ),
})


def explain_for(view: str, dataset: str | None = None) -> None:
    """explain() for a text that names what the data set shows ("digit", "garment")."""
    if not shown():
        return
    text, formula = TEXTS[view]
    st.caption(text.replace("{thing}", THINGS.get(dataset or "", "image")))
    st.latex(formula)


def shown() -> bool:
    return bool(st.session_state.get(SHOW_EXPLANATIONS, True))


def explain(view: str, likelihood: str = "bernoulli") -> None:
    """Render the explanation of one view, unless the sidebar toggle hides them."""
    if not shown():
        return
    text, formula = TEXTS[view]
    if view == "decoder" and likelihood == "gaussian":
        formula = r"\hat{x} = \mathbb{E}[x \mid z] = f_\theta(z)\ \text{(clipped to [0, 1])}"
    st.caption(text)
    st.latex(formula)


def sidebar_toggle() -> None:
    # The value lives in session state (set by a shared link before this runs), so no default is passed.
    st.session_state.setdefault(SHOW_EXPLANATIONS, True)
    st.session_state[SHOW_EXPLANATIONS] = bool(st.session_state[SHOW_EXPLANATIONS])  # kept while another page is open
    st.sidebar.toggle("Show explanations", key=SHOW_EXPLANATIONS, help="Two sentences and a formula with each view.")
