"""Validation shared by every acquisition entry point.

The (N, K, C) log-probability array is checked in the same pass that the
scores need anyway (``exp`` then a sum over classes), so validation costs no
extra pass over the hot data: :func:`map_prob_chunks` hands each chunk's
log-probabilities and probabilities, in the input's precision, to the
scoring code after checking them.
"""

from __future__ import annotations

import contextlib
import numbers
import threading
from collections.abc import Callable, Iterator

import numpy as np

from skbal.utils import to_numpy
from skbal.utils._threads import available_threads, one_blas_thread, run_in_threads

#: Default tolerance on |sum_c p_c - 1| for one (row, draw).
NORMALISATION_ATOL = 1e-3

# Rows per chunk are chosen so that one chunk is 512 Ki elements (2 MiB of
# float32, 4 MiB of float64): cache-sized, and long enough in numpy's
# GIL-free calls for threads to overlap.
_CHUNK_ELEMENTS = 1 << 19

# Arrays of at least this many elements per thread are scored on several
# threads (numpy's exp and products release the GIL). Below, a thread
# waiting to take the GIL back after each numpy call loses more than the
# second core gains (measured on 2 cores: at 2M to 10M elements the threads
# often ran one after the other; at 50M, 1.8 times faster).
_ELEMENTS_PER_THREAD = 1 << 22


def as_log_probs_array(log_probs, *, name: str = "log_probs") -> np.ndarray:
    """Shape and dtype checks only (no pass over the data)."""
    array = to_numpy(log_probs, name=name)
    if array.dtype.kind != "f":
        raise TypeError(
            f"{name} must be a floating-point array of natural-log probabilities, "
            f"got dtype {array.dtype}."
        )
    if array.dtype.itemsize < 4:  # float16: compute in float32 at least
        array = array.astype(np.float32)
    if array.ndim != 3:
        raise ValueError(
            f"{name} must have shape (n_samples, n_mc_samples, n_classes) (ndim 3), "
            f"got ndim {array.ndim} with shape {array.shape}."
        )
    n_samples, n_draws, n_classes = array.shape
    if n_samples < 1 or n_draws < 1:
        raise ValueError(
            f"{name} must have at least one row and one posterior draw, got shape {array.shape}."
        )
    if n_classes < 2:
        raise ValueError(f"{name} must have at least 2 classes (last axis), got shape {array.shape}.")
    return array


def rows_per_chunk(n_draws: int, n_classes: int, elements: int = _CHUNK_ELEMENTS) -> int:
    return max(1, elements // (n_draws * n_classes))


def _diagnose(log_probs_n_K_C, sums_n_K, first_row, atol, name) -> ValueError:
    if np.isnan(log_probs_n_K_C).any():
        row = first_row + int(np.flatnonzero(np.isnan(log_probs_n_K_C).any(axis=(1, 2)))[0])
        return ValueError(f"{name} contains NaN (first in row {row}); expected finite log-probabilities or -inf.")
    if np.isposinf(log_probs_n_K_C).any():
        row = first_row + int(np.flatnonzero(np.isposinf(log_probs_n_K_C).any(axis=(1, 2)))[0])
        return ValueError(f"{name} contains +inf (first in row {row}); log-probabilities are <= 0.")
    bad = ~(np.abs(sums_n_K - 1.0) <= atol)
    row, draw = (int(i) for i in np.argwhere(bad)[0])
    return ValueError(
        f"{name} rows must be normalised natural-log probabilities: exp({name}[{first_row + row}, "
        f"{draw}, :]).sum() is {sums_n_K[row, draw]:.6g}, expected 1 within {atol:g}. Pass "
        "log_softmax(logits) or log(probabilities), not logits or probabilities."
    )


def class_sums(x_n_K_C: np.ndarray) -> np.ndarray:
    """Σ_c x[i, k, c] as a matrix-vector product (numpy's reduction over a
    short last axis is several times slower), shape (n, K)."""
    n_rows, n_draws, n_classes = x_n_K_C.shape
    ones_C = np.ones(n_classes, dtype=x_n_K_C.dtype)
    return (x_n_K_C.reshape(-1, n_classes) @ ones_C).reshape(n_rows, n_draws)


def _validated_chunk(array: np.ndarray, rows: slice, atol: float, name: str, buffer: np.ndarray):
    """``(rows, log_probs_n_K_C, probs_n_K_C)`` of one chunk, or the error of
    its first bad row. The probabilities are written into ``buffer``."""
    n_classes = array.shape[2]
    log_probs_n_K_C = array[rows]
    probs_n_K_C = np.exp(log_probs_n_K_C, out=buffer[: log_probs_n_K_C.shape[0]])
    # |sum_c p - 1| per (row, draw), in place; NaN and inf fail the test.
    deviation_nK = probs_n_K_C.reshape(-1, n_classes) @ np.ones(n_classes, dtype=array.dtype)
    deviation_nK -= 1.0
    np.abs(deviation_nK, out=deviation_nK)
    if not deviation_nK.max() <= atol:
        raise _diagnose(log_probs_n_K_C, class_sums(probs_n_K_C), rows.start, atol, name)
    return rows, log_probs_n_K_C, probs_n_K_C


_scratch = threading.local()


@contextlib.contextmanager
def _scratch_buffer(shape: tuple[int, ...], dtype) -> Iterator[np.ndarray]:
    """An array for one chunk's probabilities, kept by the thread between calls.

    At most one chunk (4 MiB) per thread. A fresh array per call costs page
    faults once the allocator has handed freed memory back to the OS: on
    this project's machine as long as scoring a small pool. A nested call
    (the buffer in use) gets a fresh array.
    """
    size = int(np.prod(shape))
    cached = getattr(_scratch, "buffer", None)
    if getattr(_scratch, "busy", False):
        yield np.empty(shape, dtype)
        return
    if cached is None or cached.dtype != dtype or cached.size < size:
        cached = _scratch.buffer = np.empty(size, dtype)
    _scratch.busy = True
    try:
        yield cached[:size].reshape(shape)
    finally:
        _scratch.busy = False


def _chunk_rows(array: np.ndarray) -> list[slice]:
    n_samples, n_draws, n_classes = array.shape
    step = rows_per_chunk(n_draws, n_classes)
    return [slice(start, min(start + step, n_samples)) for start in range(0, n_samples, step)]


def map_prob_chunks(
    log_probs, func: Callable[[slice, np.ndarray, np.ndarray], None], *, name: str = "log_probs",
    atol: float = NORMALISATION_ATOL, threads: bool = True,
) -> None:
    """Call ``func(rows, log_probs_n_K_C, probs_n_K_C)`` on every validated chunk.

    Chunks are ``_CHUNK_ELEMENTS`` elements of rows. Both arrays keep the
    input's precision (float32 or float64); callers accumulate in float64
    where it matters. The caller's array is never written to.
    ``probs_n_K_C`` is scratch: ``func`` may overwrite it, the next chunk
    does, so ``func`` copies what it keeps.

    With ``threads``, an array of at least ``_ELEMENTS_PER_THREAD`` elements
    per thread is cut into one run of consecutive chunks per thread (up to
    :func:`~skbal.utils._threads.available_threads`), so ``func`` must
    write only to its own ``rows``. BLAS stays on one thread meanwhile. Each
    run stops at its first bad chunk and the runs are checked in row order:
    the error raised is that of the first bad row, as on one thread.
    """
    array = as_log_probs_array(log_probs, name=name)
    chunks = _chunk_rows(array)  # the same chunks on any number of threads: the same results
    n_threads = min(available_threads(), len(chunks), array.size // _ELEMENTS_PER_THREAD) if threads else 1

    def run(part: list[slice]) -> None:
        with _scratch_buffer((chunks[0].stop - chunks[0].start,) + array.shape[1:], array.dtype) as buffer:
            for rows in part:
                func(*_validated_chunk(array, rows, atol, name, buffer))

    with one_blas_thread():  # the chunks' products are too small to gain from BLAS threads
        if n_threads <= 1:
            run(chunks)
        else:
            bounds = np.linspace(0, len(chunks), n_threads + 1).round().astype(int)
            run_in_threads(run, [chunks[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])])


def check_log_probs(log_probs, *, atol: float = NORMALISATION_ATOL) -> np.ndarray:
    """Validate posterior samples and return them as a numpy array.

    Every acquisition function applies these checks. The array is returned
    without a copy (float32 and float64 are kept; torch tensors are moved to
    the CPU; float16 is upcast to float32) and is never modified.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_samples, n_mc_samples, n_classes)
        Natural-log class probabilities: ``log_probs[i, k, c]`` is
        log p(y_i = c | x_i, ω_k). Draw ``k`` must be the same posterior
        sample ω_k for every row. ``-inf`` (probability 0) is allowed.
    atol : float, default=1e-3
        Tolerance on ``|sum_c exp(log_probs[i, k, c]) - 1|``. Loose enough
        for float32 round-off, tight enough to catch logits or plain
        probabilities passed by mistake.

    Returns
    -------
    log_probs : numpy.ndarray of shape (n_samples, n_mc_samples, n_classes)

    Raises
    ------
    TypeError
        If the array is not floating point.
    ValueError
        If ndim is not 3, an axis is empty, there are fewer than 2 classes,
        an entry is NaN or +inf, or a (row, draw) is not normalised.

    Examples
    --------
    >>> import numpy as np
    >>> from skbal.acquisition import check_log_probs
    >>> check_log_probs(np.log([[[0.5, 0.5]]])).shape
    (1, 1, 2)
    >>> check_log_probs(np.array([[[2.0, -1.0]]]))  # logits, not log-probabilities
    Traceback (most recent call last):
    ...
    ValueError: log_probs rows must be normalised natural-log probabilities: ...
    """
    atol = check_positive_real(atol, "atol")
    array = as_log_probs_array(log_probs)
    map_prob_chunks(array, lambda rows, log_probs_n_K_C, probs_n_K_C: None, atol=atol)
    return array


def check_positive_real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}.")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    return float(value)


def check_count(value, name: str, *, low: int = 1, high: int | None = None, high_name: str = "") -> int:
    """An integer in [low, high]; bools and floats are rejected."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}.")
    value = int(value)
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}.")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high_name or high}, got {value} > {high}.")
    return value


def check_scores(scores, *, name: str = "scores") -> np.ndarray:
    """A 1-d float64 array with no NaN and no +inf (-inf is allowed)."""
    array = to_numpy(scores, name=name)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a numeric array, got dtype {array.dtype}.")
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-d of shape (n_samples,), got shape {array.shape}.")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty.")
    array = array.astype(np.float64, copy=False)
    if np.isnan(array).any() or np.isposinf(array).any():
        raise ValueError(f"{name} must not contain NaN or +inf.")
    return array
