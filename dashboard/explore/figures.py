"""The small Plotly charts of the Explore tab (no Streamlit): q(z|x) per dimension, KL per dimension."""

from __future__ import annotations

from vae_core.analysis import ACTIVE_THRESHOLD

ACTIVE_COLOR, INACTIVE_COLOR = "#1F77B4", "#BBBBBB"


def kl_figure(summary, height: int = 320):
    import plotly.graph_objects as go

    order = [int(j) for j in summary.order]
    active = summary.activity > ACTIVE_THRESHOLD
    colors = [ACTIVE_COLOR if active[j] else INACTIVE_COLOR for j in order]
    fig = go.Figure(go.Bar(
        x=[f"z{j + 1}" for j in order], y=[float(summary.kl[j]) for j in order], marker_color=colors,
        hovertemplate="%{x}: KL %{y:.3f} nats<extra></extra>",
    ))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="latent dimension (by KL)",
                      yaxis_title="mean KL (nats)", bargap=0.15, showlegend=False)
    fig.update_xaxes(type="category", tickangle=-90 if len(order) > 16 else 0)
    return fig


def posterior_chart(mu, sigma, order=None, height: int = 200):
    """q(z|x) per dimension for d > 4 (too many numbers for a line of text): μ_j as a dot, ±σ_j as a bar,
    dimensions in `order` (the KL order: most informative first)."""
    import plotly.graph_objects as go

    order = list(range(len(mu))) if order is None else [int(j) for j in order]
    names = [f"z{j + 1}" for j in order]
    fig = go.Figure(go.Scatter(
        x=names, y=[float(mu[j]) for j in order], mode="markers", marker=dict(size=6, color="#D62728"),
        error_y=dict(type="data", array=[float(sigma[j]) for j in order], thickness=1.5, width=0, color="#555"),
        hovertemplate="%{x}: μ %{y:.2f} ± σ %{error_y.array:.3f}<extra></extra>",
    ))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=6, b=6), yaxis_title="μ ± σ", showlegend=False)
    fig.update_xaxes(type="category", tickangle=-90 if len(order) > 16 else 0, tickfont=dict(size=10))
    return fig
