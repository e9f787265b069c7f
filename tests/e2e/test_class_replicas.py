"""A class across two replicas with the class store in Redis (CLASS_STORE=redis://, tests/redis_server.py), as a
course on several machines runs it: the lecturer on r1, a student on r2 (tests/e2e/class_pages.py). The same with
the default SQLite file is in test_serve_class.py, on its class."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dashboard.class_store import open_store
from tests.redis_server import REQUIRE_ENV, redis_server, redis_server_binary

from .class_pages import a_class_across_two_replicas
from .test_serve_class import READY, Class, free_port, script_env


@pytest.fixture(scope="module")
def redis_course(tmp_path_factory, chromium):
    if shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists():
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    if redis_server_binary() is None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail("redis-server is not installed (.ci/run installs it)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with redis_server(tmp_path_factory.mktemp("redis")) as spec:
        env = {**script_env(tmp_path_factory.mktemp("models")), "CLASS_STORE": spec,
               "SERVE_CLASS_RUN_DIR": str(tmp_path_factory.mktemp("run"))}
        c = Class(free_port(), 2, env)
        try:
            c.wait_for(READY, 300)
            yield c, open_store({"CLASS_STORE": spec})
        finally:
            c.stop()


def test_a_lecturer_and_a_student_on_different_replicas_share_a_class_in_redis(redis_course, browser):
    course, store = redis_course
    line = next(x for x in course.lines if x.startswith("class store:"))
    assert "the Redis that CLASS_STORE names" in line, line
    a_class_across_two_replicas(browser, f"http://127.0.0.1:{course.port}", store)
