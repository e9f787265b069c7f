"""Imported first by multiprocessing's forkserver, the process that forks every local training worker
(training_worker.worker_context preloads it), and by nothing else: the forkserver takes the workers' niceness
(VAE_TRAIN_NICE) before it imports PyTorch. Its own start (~3 s of a core, at a server's first training) and
each worker's first second or two (until _child_main lowers the worker's priority) then no longer run at the
web server's priority, beside the students' requests. A worker still sets its own niceness (and, at 19,
SCHED_IDLE) in training_worker.lower_priority."""

import os

from dashboard.worker_nice import train_nice_default

try:
    os.setpriority(os.PRIO_PROCESS, 0, train_nice_default())
except OSError:
    pass
