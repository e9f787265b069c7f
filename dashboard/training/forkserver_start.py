"""Imported first by multiprocessing's forkserver, the process that forks every local training worker
(local_worker.worker_context preloads it), and by nothing else: the forkserver takes the workers' niceness
(VAE_TRAIN_NICE) before it imports PyTorch. Its own start (~3 s of a core, at a server's first training) and
each worker's first second or two (until _child_main lowers the worker's priority) then no longer run at the
web server's priority, beside the students' requests. A worker still sets its own niceness (and, at 19,
SCHED_IDLE) in priority.lower_priority.

The forkserver also starts a session of its own, which on Linux is an autogroup of its own
(/proc/sys/kernel/sched_autogroup_enabled, on by default): with autogroups the scheduler first shares the CPU
fairly between sessions, and a nice value counts only against the processes of the same session. Left in the
server's session, a worker at nice 19 yields to its own server but takes an equal share from every other
session, e.g. the other replicas of scripts/serve_class.sh (each supervisor is a session); in a session of its
own whose autogroup is niced too, it yields to all of them. A process-group kill of the server no longer
reaches the workers, so each worker watches its server and ends with it (local_worker.end_with_parent); the
forkserver ends once neither its server nor any of its workers is left."""

import os

from dashboard.training.env import train_nice_default

nice = train_nice_default()
try:
    os.setpriority(os.PRIO_PROCESS, 0, nice)
except OSError:
    pass
try:
    os.setsid()
    with open("/proc/self/autogroup", "w") as f:  # the session's weight; a raise needs no privilege
        f.write(str(nice))
except OSError:  # not Linux, or no autogroups: the nice value alone orders the worker behind the server
    pass
