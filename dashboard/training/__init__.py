"""Training in the background for the Train page (no Streamlit in this package).

    job.py            a training as the page sees it: progress, Stop, heartbeat, outcome
    snapshot.py       JobSnapshot: a consistent copy of a job's state, what the page draws
    step_history.py   per-step metrics in bounded memory: every step, then means of equal blocks
    registry.py       every job of this process by session, and how many may run at once
    save.py           the save rules: models/<name>/, models/_recovered/, names, what is refused
    publish.py        a folder staged beside its target, then renamed into place: one writer per name
    protocol.py       the worker's messages (named dataclasses) and WorkerSpec
    run.py            the training a worker runs: vae_core's loop, reporting through the protocol
    backends.py       the choice of worker: a local process, or a Ray actor when RAY_ADDRESS is set
    local_worker.py   the worker as a child process (forkserver)
    ray_worker.py     the worker as a Ray actor (imports Ray)
    cluster.py        the connection to the Ray cluster, bounded in time (imports Ray when it connects)
    priority.py       the worker's niceness, SCHED_IDLE and cores
    forkserver_start.py  preloaded first by the forkserver: its niceness before PyTorch
    forkserver_fork.py   the forkserver as a fork of a replica at its start, sharing its PyTorch
    env.py            the VAE_TRAIN_* / RAY_ADDRESS environment readers
    speed.py          the presets' times, measured on this server, one method for all
    eta.py            the running job's time left, from its completed epochs
    time_format.py    durations as the page writes them

Nothing is imported here: the forkserver imports forkserver_start (and env) before PyTorch.
"""
