"""Overlap the work on the next item of a stream with the caller's handling of the current one.

A batch of photos keeps both cores of a small machine busy this way: while the main thread
reads one photo's plates (segmentation, CNN, decoding), a background thread loads the next
photo and detects its plates. OpenCV, NumPy and TensorFlow release the GIL in their kernels,
so the two threads overlap there; in pure-Python stretches they take turns, which is why the
gain on a batch is a few per cent to about 15 % (``scripts/benchmark.py``), not 2x.

    >>> for path, job in prefetched(paths, load_and_detect):
    ...     image, detections = job.result()   # raises here what load_and_detect raised
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def prefetched(items: Iterable[T], work: Callable[[T], R]) -> Iterator[tuple[T, Future]]:
    """Each item of ``items`` with the future of ``work(item)``, in order.

    ``work`` runs in one background thread, one item ahead: ``work(next item)`` starts before the
    current pair is handed out, so it runs while the caller handles the current item. At most two
    items are in flight. An exception raised by ``work`` is raised by that item's
    ``future.result()``, so the caller can report it and go on with the next item. Leaving the
    loop early waits for the one item being worked on.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="alpr-prefetch") as pool:
        pending = None
        for item in items:
            job = (item, pool.submit(work, item))
            if pending is not None:
                yield pending
            pending = job
        if pending is not None:
            yield pending
