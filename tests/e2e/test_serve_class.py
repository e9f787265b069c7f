"""scripts/serve_class.sh: two app replicas behind HAProxy, as a course would run them.

One class is started for the module (two replicas, a shared models folder of its own) and every test looks at it
from outside, as browsers would: through the proxy's port. The faults it covers are made for real: a replica
killed mid-lecture (its pages reconnect to the live one, the proxy keeps serving, the replica is restarted), the
proxy's port already taken, and Ctrl-C / SIGTERM stopping every process the script started.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.class_store import open_store
from dashboard.serving import free_port

from .class_pages import a_class_across_two_replicas
from .conftest import CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "serve_class.sh"
READY = re.compile(r"serving the class at (\S+)")
REPLICA = re.compile(r"replica (r\d+) on 127\.0\.0\.1:(\d+)")


class Class:
    """The script running in the background, its output read line by line as it comes."""

    def __init__(self, port: int, replicas: int, env: dict, bind: str = "127.0.0.1") -> None:
        self.port = port
        self.proc = subprocess.Popen(
            ["bash", str(SCRIPT), "--replicas", str(replicas), "--port", str(port), "--bind", bind],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        self.lines: list[str] = []
        self.replica_ports: dict[str, int] = {}
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            m = REPLICA.search(line)
            if m:
                self.replica_ports[m.group(1)] = int(m.group(2))

    def wait_for(self, pattern: re.Pattern, timeout: float) -> re.Match:
        """The first output line matching `pattern`; fails when the script ends first or the time runs out
        (generous: two replicas import PyTorch at once, on a possibly busy machine)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                m = pattern.search(line)
                if m:
                    return m
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.2)
        pytest.fail(f"serve_class.sh never printed {pattern.pattern!r}; output:\n" + "\n".join(self.lines))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)


def get(url: str, cookie: str | None = None) -> tuple[int, str, list[str]]:
    """(status, the replica that answered, the cookies it set) of one GET through the proxy."""
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.headers.get("X-Replica", ""), r.headers.get_all("Set-Cookie") or []


def listening(port: int, addr: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET) as s:
        s.settimeout(1)
        return s.connect_ex((addr, port)) == 0


def script_env(models: Path) -> dict:
    return {**os.environ, "VAE_PYTHON": sys.executable, "LATENT_EXPLORER_MODELS_DIR": str(models)}


@pytest.fixture(scope="module")
def course(tmp_path_factory, chromium):
    if shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists():
        if os.environ.get("LATENT_EXPLORER_REQUIRE_BROWSER") == "1":  # CI installs it: missing is a failure
            pytest.fail("haproxy is not installed (.ci/run installs it)")
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    models = tmp_path_factory.mktemp("shared-models")
    run_dir = tmp_path_factory.mktemp("serve-class-run")
    c = Class(free_port(), 2, {**script_env(models), "SERVE_CLASS_RUN_DIR": str(run_dir)})
    c.wait_for(READY, 300)
    c.models, c.run_dir = models, run_dir
    yield c
    c.stop()


def test_sticky_sessions_spread_new_browsers_and_keep_each_on_its_replica(course):
    url = f"http://127.0.0.1:{course.port}"
    assert set(course.replica_ports) == {"r1", "r2"}
    status, _, _ = get(f"{url}/_stcore/health")
    assert status == 200
    # New browsers (no cookie) are spread over both replicas, and each is told where it belongs.
    first = [get(url) for _ in range(4)]
    assert {replica for _, replica, _ in first} == {"r1", "r2"}
    for _, replica, cookies in first:
        assert any(c.startswith(f"LE_REPLICA={replica};") for c in cookies)
    # A browser with its cookie always reaches the same replica: its websocket, uploads and media files.
    for replica in ("r1", "r2"):
        assert {get(url, f"LE_REPLICA={replica}")[1] for _ in range(5)} == {replica}


def test_pages_through_the_proxy_and_every_replica_lists_the_shared_models(course, chromium):
    from playwright.sync_api import sync_playwright

    url = f"http://127.0.0.1:{course.port}"
    # What the Train tab's Save writes (a checkpoint folder in the models folder), put there while both run.
    shutil.copytree(ROOT / "pretrained" / "mnist-mlp", course.models / "saved-in-r1")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for replica in ("r1", "r2"):
                ctx = browser.new_context(viewport={"width": 1280, "height": 720})
                ctx.add_cookies([{"name": "LE_REPLICA", "value": replica, "url": url}])
                page = ctx.new_page()
                page.goto(url)
                # The plane's decoder is ready: the page's websocket went through the proxy both ways.
                page.wait_for_function("window.__latentPlane && window.__latentPlane.ready", timeout=180_000)
                page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
                option = page.locator("[role=option]", has_text="models/saved-in-r1")
                option.wait_for(timeout=30_000)
                ctx.close()
        finally:
            browser.close()


def test_a_lecturer_and_a_student_on_different_replicas_share_the_class_in_the_sqlite_file(course, chromium):
    from playwright.sync_api import sync_playwright

    store = open_store({"CLASS_STORE": f"sqlite:///{course.models / '_class' / 'class.sqlite3'}"})
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            a_class_across_two_replicas(browser, f"http://127.0.0.1:{course.port}", store)
        finally:
            browser.close()


def test_a_killed_replica_reconnects_its_pages_to_a_live_one_and_is_restarted(course, chromium):
    from playwright.sync_api import sync_playwright

    url = f"http://127.0.0.1:{course.port}"
    port = course.replica_ports["r1"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1280, "height": 720})
            ctx.add_cookies([{"name": "LE_REPLICA", "value": "r1", "url": url}])
            page = ctx.new_page()
            page.goto(url)
            page.wait_for_function("window.__latentPlane && window.__latentPlane.ready", timeout=180_000)
            pids = subprocess.run(["pgrep", "-f", f"run dashboard/app.py .*server.port {port}"],
                                  capture_output=True, text=True).stdout.split()
            assert pids, "no process found for replica r1"
            # The page pinned to r1 reconnects its websocket through the proxy to the live replica, where its
            # session is new (the state of a session lives in its process: docs/deploy.md says so).
            with page.expect_websocket(timeout=120_000):
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
                # The other students' replica goes on, and a browser pinned to r1 is served by r2 meanwhile.
                assert get(url, "LE_REPLICA=r2")[:2] == (200, "r2")
                assert get(url, "LE_REPLICA=r1")[:2] == (200, "r2")
            # A reload shows the working app there, and a click on a dot picks it: the server answers.
            page.reload()
            page.wait_for_function("window.__latentPlane && window.__latentPlane.ready", timeout=180_000)
            renders = page.evaluate("window.__latentPlane.renders")
            at = page.evaluate("window.__latentPlane.locate(0, 0)")
            page.mouse.click(at["x"], at["y"])
            page.wait_for_function(f"window.__latentPlane.renders > {renders}", timeout=120_000)
            ctx.close()
        finally:
            browser.close()
    # The script starts r1 again and the proxy takes it back.
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not listening(port):
        time.sleep(0.5)
    assert listening(port), "replica r1 was not restarted"
    log = (course.run_dir / "replica-r1.log").read_text()
    assert "replica r1 (port" in log  # the supervisor said why
    # It rendered the landing page before listening, at its start and again at its restart (dashboard/replica.py)
    assert log.count("replica: landing page rendered in") == 2, log[-2000:]


def test_the_port_in_use_is_one_clear_message(tmp_path, chromium):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        c = Class(port, 1, script_env(tmp_path))
        rc = c.proc.wait(120)
        c._reader.join(10)
    assert rc != 0
    out = "\n".join(c.lines)
    assert f"cannot listen on 127.0.0.1:{port}" in out and "--port" in out
    assert "Traceback" not in out
    assert "replica r1 on" not in out  # nothing was started


def test_both_replicas_share_the_class_store_in_the_models_folder(course):
    # Opened once before the replicas started, in the models folder they all read: one file, one class.
    line = next(x for x in course.lines if x.startswith("class store:"))
    store = course.models / "_class" / "class.sqlite3"
    assert f"the SQLite file {store}, shared by the replicas" in line and store.is_file()


def test_a_class_store_that_cannot_be_opened_stops_it_before_any_replica(tmp_path):
    env = {**script_env(tmp_path / "models"), "CLASS_STORE": "mysql://db/class"}
    r = subprocess.run(["bash", str(SCRIPT), "--port", str(free_port())], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode != 0 and "replica r1 on" not in r.stdout
    assert r.stderr.strip().splitlines() == [
        "class store: CLASS_STORE must be sqlite:///path or redis://host:port/db; it is not one of these.",
        'serve_class: the class store cannot be opened (docs/deploy.md, "A class session")']


@pytest.mark.parametrize("args, says", [
    (["--replicas", "0"], "--replicas must be a whole number from 1 to 32"),
    (["--port", "http"], "--port must be a whole number from 1 to 65535"),
    (["--frobnicate"], "unknown option '--frobnicate'"),
    (["--replicas"], "--replicas needs a value"),
    (["--replicas", "1", "--port"], "--port needs a value"),
])
def test_bad_flags_are_one_line(args, says, tmp_path):
    r = subprocess.run(["bash", str(SCRIPT), *args], cwd=ROOT, env=script_env(tmp_path), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0
    assert says in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_sigterm_stops_every_process_it_started(tmp_path, chromium):
    c = Class(free_port(), 1, script_env(tmp_path))
    c.wait_for(READY, 300)
    port = c.replica_ports["r1"]
    assert listening(port) and listening(c.port)
    rc = c.stop(signal.SIGTERM)
    assert rc == 143  # 128 + SIGTERM: stopped by the signal, not by a failure of its own
    assert not listening(c.port), "haproxy still listens"
    assert not listening(port), "the replica still listens"
    left = subprocess.run(["pgrep", "-f", f"run dashboard/app.py .*server.port {port}"],
                          capture_output=True, text=True).stdout.split()
    assert not left, f"processes left behind: {left}"


def _pids(pattern: str) -> list[str]:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()


def test_sigkill_of_the_script_leaves_nothing_running_and_an_ipv6_address_is_printed_in_brackets(tmp_path, chromium):
    """SIGKILL runs no trap: the supervisors, the replica and HAProxy must still end (the parent-death signal)."""
    run_dir = tmp_path / "run"
    c = Class(free_port(), 1, {**script_env(tmp_path / "models"), "SERVE_CLASS_RUN_DIR": str(run_dir)}, bind="::1")
    try:
        assert c.wait_for(READY, 300).group(1) == f"http://[::1]:{c.port}/"
        replica = c.replica_ports["r1"]
        supervisor = f"restarting in 2 s.* {replica} 1 "
        assert listening(c.port, "::1") and listening(replica) and _pids(supervisor) and _pids(str(run_dir))
        os.kill(c.proc.pid, signal.SIGKILL)  # the script alone, not its process group
        c.proc.wait(30)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (listening(c.port, "::1") or listening(replica) or _pids(supervisor)
                                               or _pids(str(run_dir))):
            time.sleep(0.2)
        assert not listening(c.port, "::1"), "haproxy still listens"
        assert not listening(replica), "the replica still listens"
        assert not _pids(supervisor), "the replica's supervisor is still running"
        assert not _pids(str(run_dir)), "haproxy is still running"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(c.proc.pid, signal.SIGKILL)
