"""How long the running job has left, from its completed epochs (no Streamlit, no PyTorch).

An epoch is its training steps, then one evaluation of the test set. The first steps of a run are slow (memory
to allocate, caches to warm, another session loading its page), so a pace taken from them, or the mean since the
start, overstates the time left by several times; a pace over the last few seconds swings with every test
evaluation. Instead:

    seconds per step   each completed epoch's steps, between its first and last step (the first epoch's
                       second half only: past its slow start); the mean of the last SMOOTH epochs, then
                       weighted with the current epoch's own pace by the share of its steps done
    seconds per eval   the last completed epoch's: from its last step to its end
    time left          steps left x seconds per step + evaluations left x seconds per eval

Before an epoch has completed: the pace of the steps past the first tenth of the epoch, with no evaluation.
slowdown: the current epoch's pace against the fastest completed epoch's (other sessions sharing the CPU).
"""

from __future__ import annotations

SMOOTH = 3  # completed epochs whose paces are averaged
MIN_STEPS = 5  # steps of the current epoch before its own pace counts


class EpochClock:
    """The times of a run's steps and epoch ends, as the worker reports them (seconds since training began)."""

    def __init__(self, total_steps: int = 0, epochs: int = 1):
        self.total_steps, self.epochs = int(total_steps), max(1, int(epochs))
        self._paces: list[float] = []  # seconds per step of each completed epoch
        self._eval_s: float | None = None
        self._epoch_start = 0  # the step the current epoch began after
        self._marks: dict[str, tuple[int, float]] = {}  # "pace", "record": where the current epoch's paces start
        self._last = (0, 0.0)  # the last step seen: (step, elapsed)
        self.epochs_completed = 0

    @property
    def steps_per_epoch(self) -> int:
        return max(1, self.total_steps // self.epochs)

    def start(self, total_steps: int) -> None:
        self.total_steps = int(total_steps)

    def step(self, step: int, elapsed: float) -> None:
        first = self.epochs_completed == 0
        into = step - self._epoch_start
        # the first epoch's slow start is left out: its pace counts from a tenth in (its record from the middle)
        for name, skip in (("pace", self.steps_per_epoch // 10 if first else 0),
                           ("record", self.steps_per_epoch // 2 if first else 0)):
            if name not in self._marks and into >= max(1, skip):
                self._marks[name] = (step, elapsed)
        self._last = (step, elapsed)

    def epoch_end(self, step: int, elapsed: float) -> None:
        pace = self._pace_since(self._marks.get("record"))
        if pace is not None:
            self._paces.append(pace)
        self._eval_s = max(0.0, elapsed - self._last[1]) if self._last[0] == step else None
        self.epochs_completed += 1
        self._epoch_start, self._marks, self._last = step, {}, (step, elapsed)

    def _pace_since(self, mark: tuple[int, float] | None) -> float | None:
        if mark is None or self._last[0] <= mark[0]:
            return None
        return (self._last[1] - mark[1]) / (self._last[0] - mark[0])

    def _current(self) -> tuple[float | None, float]:
        """(the current epoch's pace, the share of its steps done)."""
        mark = self._marks.get("pace")
        if mark is None or self._last[0] - mark[0] < MIN_STEPS:
            return None, 0.0
        return self._pace_since(mark), min(1.0, (self._last[0] - self._epoch_start) / self.steps_per_epoch)

    def seconds_per_step(self) -> float | None:
        current, share = self._current()
        if not self._paces:
            if current is None and self._last[0] > 0:  # a handful of steps in: the mean so far, for now
                return self._last[1] / self._last[0]
            return current
        done = sum(self._paces[-SMOOTH:]) / len(self._paces[-SMOOTH:])
        return done if current is None else (1 - share) * done + share * current
    def eta(self) -> float | None:
        """Seconds left, or None while there is no pace yet."""
        step_s = self.seconds_per_step()
        if step_s is None or not self.total_steps:
            return None
        evals_left = self.epochs - self.epochs_completed
        return max(0.0, (self.total_steps - self._last[0]) * step_s + evals_left * (self._eval_s or 0.0))

    def slowdown(self) -> float:
        """How many times slower the current epoch runs than the fastest completed one (1 when unknown)."""
        current, _ = self._current()
        if current is None or not self._paces:
            return 1.0
        return max(1.0, current / min(self._paces))
