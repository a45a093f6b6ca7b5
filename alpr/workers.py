"""Read a batch in worker processes, each holding its own ``Recognizer``.

The reading stages are largely Python (segmentation's bookkeeping, grammar decoding), which
holds the GIL: threads (``Recognizer.read_many``'s prefetching) overlap only the kernels, while
processes run side by side. Measured on rendered 640x480 photos (2026-12-06, 2 cores,
alternating runs of 100 photos, each process reading its share one photo at a time): de 30.7 /
29.6 photos/s in one process, 44.3 / 44.3 in two; es 24.1 / 24.6 and 37.3 / 36.4; the CPU per
photo the same (de 42-44 ms, es 50-53 ms). ``scripts/benchmark.py`` has the row.

Each worker loads its models when it starts: about 5 s with TensorFlow, under a second once the
models' LiteRT conversions are cached (reading then imports no TensorFlow, see ``alpr.lite``),
so a pool pays on batches, not on a few photos. Workers run OpenCV and TensorFlow on one thread each
(``alpr.threads``), ignore Ctrl-C, which the main process handles by cancelling the work not yet
started, and exit when the main process dies.

    >>> with ReaderPool(2, country="es") as pool:
    ...     pool.wait_ready()                      # raises WorkerStartError on a bad model
    ...     for photo, job in pool.map(read_photo, photos):
    ...         plates = job.result()
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

import numpy as np

T = TypeVar("T")
R = TypeVar("R")

#: Most workers ``default_workers`` proposes: each holds its models (about 0.15 GB resident, 0.8 GB
#: when it has to load them through TensorFlow).
MAX_DEFAULT_WORKERS = 8

#: Seconds a started worker waits for the others before it takes tasks anyway.
START_TIMEOUT = 300.0

_recognizer = None  # the worker process's Recognizer
_start_error: str | None = None  # why it could not be built, for every task to report


class WorkerStartError(ValueError):
    """A worker could not build its ``Recognizer`` (e.g. a model file that cannot be used);
    the message is the one line the in-process ``Recognizer`` would raise."""


def default_workers() -> int:
    """One worker per usable CPU, at most ``MAX_DEFAULT_WORKERS``."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_WORKERS))


def read_photo(recognizer, image):
    """``recognizer.read(image)``: a task for ``ReaderPool.map``."""
    return recognizer.read(image)


class ReaderPool:
    """``workers`` processes, each with ``Recognizer(**recognizer_kwargs)``, which run
    ``work(recognizer, item)`` for the items of ``map``. ``work`` must be picklable (a function
    defined at module level, or a ``functools.partial`` of one), as must items and results.
    """

    def __init__(self, workers: int, **recognizer_kwargs):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        model = recognizer_kwargs.get("model")
        if model is not None and not isinstance(model, (str, os.PathLike)):
            raise ValueError("worker processes load the model themselves: give it as a name or a file path")
        self.workers = workers
        context = multiprocessing.get_context("spawn")  # not fork: a forked TensorFlow runtime is unsafe
        # no worker takes a task before all have started, so that ``wait_ready`` means all
        started = context.Barrier(workers)
        self._pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start,
                                         initargs=(recognizer_kwargs, started))
        # the executor starts a process for each task submitted while none is idle: start all now
        self._ready = [self._pool.submit(_ready) for _ in range(workers)]

    def wait_ready(self) -> None:
        """Wait until every worker has built its Recognizer (each takes up to about 5 s); raises
        ``WorkerStartError`` if they could not."""
        for job in self._ready:
            job.result()

    def map(self, work: Callable[..., R], items: Iterable[T]) -> Iterator[tuple[T, Future]]:
        """Each item with the future of ``work(recognizer, item)``, in order (as
        ``alpr.prefetch.prefetched`` gives them). At most two items per worker are in flight,
        so a long stream is never all in memory; an exception raised by ``work`` is raised by
        that item's ``future.result()``."""
        window: deque[tuple[T, Future]] = deque()
        for item in items:
            window.append((item, self._pool.submit(_run, work, item)))
            if len(window) >= 2 * self.workers:
                yield window.popleft()
        while window:
            yield window.popleft()

    def close(self) -> None:
        """Cancel the work not yet started, let running items finish, stop the workers."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ReaderPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _start(recognizer_kwargs: dict, started) -> None:
    """Worker initialiser: build this process's Recognizer (a failure is kept for the tasks to
    report: an initialiser that raises only breaks the pool, and its message is lost), then
    wait at the ``started`` barrier for the other workers."""
    global _recognizer, _start_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the main process to handle
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    from alpr.threads import single_threaded_kernels

    single_threaded_kernels()
    from alpr.pipeline import Recognizer

    try:
        _recognizer = Recognizer(**recognizer_kwargs)
        _recognizer.read(np.full((480, 640, 3), 128, np.uint8))  # traces the detector's graph now
    except (FileNotFoundError, ValueError, OSError) as err:
        _start_error = str(err).splitlines()[0] if str(err) else type(err).__name__
    try:
        started.wait(timeout=START_TIMEOUT)
    except threading.BrokenBarrierError:  # a worker far slower than the others, or dead: go on
        pass


def _exit_with_parent() -> None:
    """Stop this worker when the main process dies without closing the pool (killed): the
    worker would otherwise wait for tasks forever, holding its memory."""
    multiprocessing.connection.wait([multiprocessing.parent_process().sentinel])
    os._exit(1)


def _ready() -> None:
    if _start_error is not None:
        raise WorkerStartError(_start_error)


def _run(work: Callable[..., R], item) -> R:
    _ready()
    return work(_recognizer, item)
