"""A run's per-step metrics in bounded memory, however many steps it takes (pure Python: no PyTorch).

Every step is kept as it is up to `max_points`; then neighbouring points are merged in pairs, and from then on
each new point sums `stride` steps, stride doubling at each merge. So the history holds between max_points / 2
and max_points points (and the latest steps' mean), each one the exact mean of an equal block of consecutive
steps in the averaged fields (the loss terms) and the block's last value in the others (step, epoch): the
curve keeps its shape, its noise averaged over at most 2 * steps / max_points steps. The training loop keeps
its history so (train.py); so can anything that records a run's steps.
"""

from __future__ import annotations

FIELDS = ("step", "epoch", "loss", "recon", "kl")
MEANS = ("loss", "recon", "kl")  # averaged over a block; the other fields are the block's last
MAX_POINTS = 8192  # every step of a run up to this many (the presets' longest, 28,000 steps, keeps 1 in 4)


class StepHistory:
    """Per-step metrics, one value per field: add() one step, columns() or rows() to read (copies)."""

    def __init__(self, max_points: int = MAX_POINTS, fields: tuple[str, ...] = FIELDS,
                 means: tuple[str, ...] = MEANS):
        if max_points < 2 or max_points % 2:
            raise ValueError("max_points must be an even number of at least 2")
        self.max_points, self.fields = max_points, tuple(fields)
        self._averaged = tuple(f in means for f in self.fields)
        self.stride = 1  # steps per kept point
        self.steps_seen = 0
        self._cols: dict[str, list] = {k: [] for k in self.fields}
        # the point being filled: sums of the averaged fields, the latest of the others, how many steps so far
        self._sums: list | None = None
        self._count = 0

    def __len__(self) -> int:
        return len(self._cols[self.fields[0]]) + (1 if self._count else 0)

    def add(self, *values) -> None:
        """One step's values, in the order of `fields`."""
        if len(values) != len(self.fields):
            raise TypeError(f"add() takes {len(self.fields)} values ({', '.join(self.fields)})")
        self.steps_seen += 1
        if self.stride == 1:
            self._commit(values)
        else:
            if self._count == 0:
                self._sums = list(values)
            else:
                sums = self._sums
                for i, (value, averaged) in enumerate(zip(values, self._averaged)):
                    sums[i] = sums[i] + value if averaged else value
            self._count += 1
            if self._count == self.stride:
                self._commit(self._pending())
                self._sums, self._count = None, 0
        if len(self._cols[self.fields[0]]) >= self.max_points:
            self._merge()

    def _pending(self) -> tuple:
        n = self._count
        return tuple(s / n if averaged else s for s, averaged in zip(self._sums, self._averaged))

    def _commit(self, values) -> None:
        for key, value in zip(self.fields, values):
            self._cols[key].append(value)

    def _merge(self) -> None:
        """Each pair of neighbouring points becomes one: the number of points halves, the stride doubles."""
        merged = {}
        for key, averaged in zip(self.fields, self._averaged):
            v = self._cols[key]
            merged[key] = [(a + b) / 2 for a, b in zip(v[0::2], v[1::2])] if averaged else v[1::2]
        self._cols = merged
        self.stride *= 2

    def columns(self) -> dict[str, list]:
        """{field: [values]}, the point being filled last (the latest steps' mean): a copy."""
        out = {k: list(v) for k, v in self._cols.items()}
        if self._count:
            for key, value in zip(self.fields, self._pending()):
                out[key].append(value)
        return out

    def rows(self) -> list[dict]:
        """The same as one dict per point (the training history's "steps" form)."""
        cols = self.columns()
        return [dict(zip(self.fields, row)) for row in zip(*(cols[k] for k in self.fields))]
