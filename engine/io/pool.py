"""An ordered map over worker processes that survives a worker's death.

The pool is a concurrent.futures.ProcessPoolExecutor, not a multiprocessing.Pool, because
Pool.imap reads its whole input ahead (memory grows with the file) and never answers a task
whose worker died (the run hangs), while the executor reports that death as BrokenProcessPool.

Workers are forked (on Linux), or on request started afresh (multiprocessing's "spawn"). A
forked worker starts at once with everything the parent has loaded, and counts every page of
it in its own memory: little for a JSONL batch, whose parent holds what a worker needs anyway,
much where the parent holds pyarrow and a Parquet reader (bench/RESULTS.md, "Parquet workers
without pyarrow": 135 MB a worker forked, 46 MB spawned). A spawned worker imports what it needs
itself, some 0.2 s of CPU at its start, and needs multiprocessing's resource tracker, one more
process of 13 MB.
"""
from __future__ import annotations

import collections
import multiprocessing.context
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import attrs

IN_FLIGHT_PER_JOB = 2
"""Chunks queued per worker: enough that no worker waits for the next, few enough to bound memory."""


def ordered_map(work: Callable, items: Iterable, *, jobs: int, lost: Callable,
                initializer: Callable | None = None, initargs: tuple = (), spawn: bool = False) -> Iterator:
    """`work(item)` for each item in `jobs` worker processes, yielded in input order.

    At most IN_FLIGHT_PER_JOB * jobs items are read ahead, so memory does not grow with the
    input. An item whose work fails (its process dies, or it raises) is retried once, alone, in
    a fresh process; if that fails too, `lost(item, (first_error, second_error))` stands in
    for its result. `work`, `initializer` and the items must pickle. With `spawn`, the workers
    are started afresh instead of in the platform's way (see above).
    """
    context = _Spawning() if spawn else multiprocessing.get_context()

    def pool(workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                   initargs=(os.getpid(), initializer, initargs))

    def alone(item, first: BaseException) -> _Settled:
        with pool(1) as fresh:
            try:
                return _Settled(fresh.submit(work, item).result())
            except Exception as error:
                return _Settled(lost(item, (first, error)))

    def submit(item):
        try:
            return executor.submit(work, item)
        except BrokenProcessPool as error:  # the pool broke since the last look
            return _Settled(error=error)

    items = iter(items)
    window: collections.deque = collections.deque()
    executor = pool(jobs)
    try:
        while True:
            while len(window) < IN_FLIGHT_PER_JOB * jobs and (item := next(items, _END)) is not _END:
                window.append((item, submit(item)))
            if not window:
                return
            item, pending = window.popleft()
            try:
                yield pending.result()
            except BrokenProcessPool as error:
                # Every unfinished item of the broken pool is retried alone; one of them killed it.
                executor.shutdown(wait=True)
                yield alone(item, error).result()
                window = collections.deque(
                    (other, done if _succeeded(done) else alone(other, error)) for other, done in window)
                executor = pool(jobs)
            except Exception as error:
                yield alone(item, error).result()
    finally:
        # Waiting (for the items under way, no more) lets the pool's manager thread end here:
        # left running, it races Python's exit, which then reports an ignored OSError.
        executor.shutdown(wait=True, cancel_futures=True)


_END = object()


@attrs.frozen
class _Settled:
    """An outcome already known, read like a finished future."""

    value: object = None
    error: BaseException | None = None

    def result(self):
        if self.error is not None:
            raise self.error
        return self.value


def _succeeded(pending) -> bool:
    if isinstance(pending, _Settled):
        return pending.error is None
    return pending.done() and not pending.cancelled() and pending.exception() is None


class _Worker(multiprocessing.context.SpawnProcess):
    """A spawned process that starts with Ctrl-C blocked, until `_start_worker` ignores it: a
    Ctrl-C at the terminal reaches the workers too, and one still importing its modules would
    die of it with a traceback. (multiprocessing's resource tracker starts so, for this reason.)"""

    def start(self) -> None:
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # the new process inherits the mask
        try:
            super().start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


class _Spawning(multiprocessing.context.SpawnContext):
    Process = _Worker


def _start_worker(parent: int, initializer: Callable | None, initargs: tuple) -> None:
    """Ready a worker: Ctrl-C is the parent's to handle, SIGTERM ends it at once (the pool stops
    workers so, and a handler a forked worker inherited from the parent would turn it into a
    task's exception), and a worker whose parent was killed exits."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by _Worker.start, when spawned
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)
