"""A run's per-step metrics in bounded memory, however many steps it takes (pure: no Streamlit, no PyTorch).

Every step is kept as it is up to MAX_POINTS; then neighbouring points are merged in pairs (their means), and
from then on each new point is the mean of `stride` steps, stride doubling at each merge. So the history
holds between MAX_POINTS / 2 and MAX_POINTS points (and the latest steps' mean), each the exact mean of an
equal block of consecutive steps: the curve keeps its shape, its noise averaged over at most 2 * steps /
MAX_POINTS steps.
"""

from __future__ import annotations

FIELDS = ("step", "epoch", "loss", "recon", "kl")
MEANS = ("loss", "recon", "kl")  # averaged over a block; step and epoch are the block's last
MAX_POINTS = 8192  # every step of a run up to this many (the presets' longest, 28,000 steps, keeps 1 in 4)


class StepHistory:
    """Per-step metrics, FIELDS each: add() one step, columns() or rows() to read (copies)."""

    def __init__(self, max_points: int = MAX_POINTS):
        if max_points < 2 or max_points % 2:
            raise ValueError("max_points must be an even number of at least 2")
        self.max_points = max_points
        self.stride = 1  # steps per kept point
        self.steps_seen = 0
        self._cols: dict[str, list] = {k: [] for k in FIELDS}
        self._pending: list[tuple] = []  # the steps of the point being filled (fewer than `stride`)

    def __len__(self) -> int:
        return len(self._cols["step"]) + (1 if self._pending else 0)

    def add(self, step: int, epoch: int, loss: float, recon: float, kl: float) -> None:
        self.steps_seen += 1
        if self.stride == 1:
            self._commit(step, epoch, loss, recon, kl)
        else:
            self._pending.append((step, epoch, loss, recon, kl))
            if len(self._pending) == self.stride:
                self._commit(*_mean(self._pending))
                self._pending = []
        if len(self._cols["step"]) >= self.max_points:
            self._merge()

    def _commit(self, *values) -> None:
        for key, value in zip(FIELDS, values):
            self._cols[key].append(value)

    def _merge(self) -> None:
        """Each pair of neighbouring points becomes one: the number of points halves, the stride doubles."""
        cols = self._cols
        merged = {k: cols[k][1::2] for k in ("step", "epoch")}
        for k in MEANS:
            v = cols[k]
            merged[k] = [(a + b) / 2 for a, b in zip(v[0::2], v[1::2])]
        self._cols = merged
        self.stride *= 2

    def columns(self) -> dict[str, list]:
        """{field: [values]}, the point being filled last (the latest steps' mean): a copy."""
        out = {k: list(v) for k, v in self._cols.items()}
        if self._pending:
            for key, value in zip(FIELDS, _mean(self._pending)):
                out[key].append(value)
        return out

    def rows(self) -> list[dict]:
        """The same as one dict per point (vae_core's history["steps"] form)."""
        cols = self.columns()
        return [dict(zip(FIELDS, row)) for row in zip(*(cols[k] for k in FIELDS))]


def _mean(rows: list[tuple]) -> tuple:
    n = len(rows)
    step, epoch = rows[-1][0], rows[-1][1]
    return (step, epoch, *(sum(r[i] for r in rows) / n for i in (2, 3, 4)))
