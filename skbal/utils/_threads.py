"""Threads for the numpy hot loops: how many, BLAS held to one, a fair start.

numpy's ufuncs and BLAS calls release the GIL, so consecutive runs of row
chunks can be scored on several threads. Three things make that pay on a
small machine:

- :func:`available_threads` honours ``OMP_NUM_THREADS``, which joblib sets
  in its workers, so nested work does not oversubscribe the cores;
- :func:`one_blas_thread` keeps OpenBLAS single-threaded meanwhile (a BLAS
  call big enough to start BLAS's own threads serialises callers that run
  at once, and oversubscribes);
- :func:`run_in_threads` starts the threads behind a barrier: a thread that
  starts while another is already busy can wait milliseconds for the GIL.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

__all__ = ["available_threads", "one_blas_thread", "run_in_threads"]


def available_threads() -> int:
    """CPUs this process may run on, at most ``OMP_NUM_THREADS`` when set."""
    try:
        n_threads = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n_threads = os.cpu_count() or 1
    limit = os.environ.get("OMP_NUM_THREADS", "").strip()
    if limit.isdigit() and int(limit) > 0:
        n_threads = min(n_threads, int(limit))
    return max(1, n_threads)


_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter = None
_controller = None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS on one thread while inside (threadpoolctl).

    The limit is process-wide, so calls running at the same time in several
    threads share one: set by the first to enter, lifted by the last to
    leave. (A limit per call, interleaved, would restore another call's
    limit and leave BLAS on one thread for good.) The libraries are looked
    up once per process: entering costs microseconds.
    """
    global _blas_users, _blas_limiter, _controller
    with _blas_lock:
        if _blas_users == 0:
            if _controller is None:
                from threadpoolctl import ThreadpoolController

                _controller = ThreadpoolController()
            _blas_limiter = _controller.limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


def run_in_threads(func: Callable[[object], None], parts: Sequence) -> None:
    """``func(part)`` for every part, each on its own thread, started together.

    Exceptions are re-raised in the order of ``parts`` (the first part's
    first), once every thread has finished.
    """
    started = threading.Barrier(len(parts))

    def run(part) -> None:
        started.wait()
        func(part)

    with ThreadPoolExecutor(len(parts), thread_name_prefix="skbal") as executor:
        futures = [executor.submit(run, part) for part in parts]
    for future in futures:
        future.result()
