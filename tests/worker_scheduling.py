"""Which tests a pytest-xdist worker takes together, when scripts/test.sh runs the whole suite in two workers.

pytest.ini's `--dist loadfile`, refined (tests/conftest.py's pytest_xdist_make_scheduler hands this scheduler to
xdist): a module's tests run on one worker, in their order, so that its module-scoped servers, browsers, trainings
and Ray head start once, not once per worker; the layout matrix's cells are split by model (the first word of a
cell's id: its pages are one per model and size), so that both workers share the suite's largest module. The
browser modules are handed out first, largest first, and the many short modules fill the end, so that neither
worker is left alone with a long module at the end.

(xdist's own `--dist loadgroup` with `xdist_group` marks would say this in the tests, but with pytest 9.2 it groups
nothing: it marks a group by rewriting the test's node id, which pytest 9.2 no longer reads; pytest-xdist issue
1386.)
"""

from __future__ import annotations

from collections import OrderedDict

from xdist.scheduler import LoadScopeScheduling

# Modules whose tests are split by the first word of their parameters' id ("mnist16-1280x720-presenter-grid").
SPLIT_BY_FIRST_WORD = ("tests/e2e/test_layout_matrix.py",)
BROWSER_TESTS = "tests/e2e/"


def worker_scope(nodeid: str) -> str:
    """The group a test runs in: its module, or for a module of SPLIT_BY_FIRST_WORD, its module and that word."""
    path = nodeid.split("::", 1)[0]
    if path.endswith(SPLIT_BY_FIRST_WORD) and "[" in nodeid:
        return f"{path}::{nodeid.split('[', 1)[1].split('-', 1)[0]}"
    return path


class ModuleScheduling(LoadScopeScheduling):
    """xdist's scope scheduling with worker_scope's groups, the browser modules first."""

    def __init__(self, config, log=None) -> None:
        super().__init__(config, log)
        self._ordered = False

    def _split_scope(self, nodeid: str) -> str:
        return worker_scope(nodeid)

    def _assign_work_unit(self, node) -> None:
        if not self._ordered:  # the first group handed out: the queue is complete
            # browser modules first, then the rest; each part by its number of tests, largest first
            order = sorted(self.workqueue.items(), key=lambda kv: (not kv[0].startswith(BROWSER_TESTS), -len(kv[1])))
            self.workqueue = OrderedDict(order)
            self._ordered = True
        super()._assign_work_unit(node)
