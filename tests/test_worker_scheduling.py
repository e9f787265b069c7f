"""How the whole suite is shared between two pytest-xdist workers (tests/worker_scheduling.py): a module's tests
together, the layout matrix's cells by model, the browser modules handed out first."""

from __future__ import annotations

from types import SimpleNamespace

from worker_scheduling import ModuleScheduling, worker_scope

MATRIX = "tests/e2e/test_layout_matrix.py"


def test_a_module_is_one_group_and_the_layout_matrix_one_per_model():
    assert worker_scope("tests/test_settings.py::test_bound[1-2]") == "tests/test_settings.py"
    assert worker_scope("tests/test_model.py::TestConv::test_shape") == "tests/test_model.py"
    assert worker_scope("tests/e2e/test_explore_browser.py::test_undo") == "tests/e2e/test_explore_browser.py"
    cells = [f"{MATRIX}::test_layout_cell[{m}-{s}-presenter-grid]"
             for m in ("mnist", "mnist16") for s in ("phone", "1280x720")]
    assert [worker_scope(c) for c in cells] == [f"{MATRIX}::mnist"] * 2 + [f"{MATRIX}::mnist16"] * 2


class Worker:
    """What the scheduler uses of xdist's WorkerController."""

    def __init__(self, name, handed):
        self.gateway, self.handed, self.shutting_down = SimpleNamespace(id=name), handed, False

    def send_runtest_some(self, indices):
        self.handed.append((self.gateway.id, indices))

    def shutdown(self):
        self.shutting_down = True


def test_each_worker_gets_whole_groups_browser_modules_first():
    ids = ["tests/test_a.py::t1", "tests/test_a.py::t2", "tests/test_a.py::t3", "tests/test_b.py::t1",
           "tests/e2e/test_c.py::t1", "tests/e2e/test_c.py::t2",
           f"{MATRIX}::test_layout_cell[mnist-phone-normal-map]",
           f"{MATRIX}::test_layout_cell[mnist16-phone-normal-map]"]
    config = SimpleNamespace(option=SimpleNamespace(loadscopereorder=True),
                             getvalue=lambda name: {"tx": ["popen", "popen"]}.get(name))
    sched, handed = ModuleScheduling(config), []
    workers = [Worker("gw0", handed), Worker("gw1", handed)]
    for w in workers:
        sched.add_node(w)
        sched.add_node_collection(w, ids)
    sched.schedule()
    # each group whole and in its order; the browser groups first, then the rest, each part largest first
    assert [(w, [ids[i] for i in idx]) for w, idx in handed] == [
        ("gw0", ["tests/e2e/test_c.py::t1", "tests/e2e/test_c.py::t2"]),
        ("gw1", [f"{MATRIX}::test_layout_cell[mnist-phone-normal-map]"]),
        ("gw0", [f"{MATRIX}::test_layout_cell[mnist16-phone-normal-map]"]),
        ("gw1", ["tests/test_a.py::t1", "tests/test_a.py::t2", "tests/test_a.py::t3"])]
    assert list(sched.workqueue) == ["tests/test_b.py"]  # handed out as a worker is down to its last two tests
