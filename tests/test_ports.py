"""serve_class.sh's ports (scripts/ports.py over dashboard/serving.py): the replicas' ports are never the class's own,
which is free when they are picked and bound by HAProxy only after the replicas answer."""

from __future__ import annotations

import subprocess
import sys

from dashboard import serving
from tests.factories import ROOT


def test_the_replicas_ports_differ_and_avoid_the_class_s_port(monkeypatch):
    handed = iter([41000, 8080, 41002, 41003])  # the kernel hands out the class's port, free until HAProxy binds it

    class Socket:
        def bind(self, address):
            self.port = next(handed)

        def getsockname(self):
            return ("127.0.0.1", self.port)

        def close(self):
            pass

    monkeypatch.setattr(serving.socket, "socket", Socket)
    assert serving.free_ports(2, frozenset({8080})) == [41000, 41002]
    monkeypatch.undo()
    ports = serving.free_ports(50)
    assert len(set(ports)) == 50


def test_the_script_picks_ports_other_than_the_class_s():
    out = subprocess.run([sys.executable, "scripts/ports.py", "--pick", "3", "8080"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    assert len(out) == 3 and "8080" not in out and len(set(out)) == 3
