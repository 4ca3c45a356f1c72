"""Scores of a large array on several threads (``map_prob_chunks``).

What is tested: with the thread threshold lowered so that small arrays are
split over 3 threads, every score function gives bitwise the results of one
thread (each chunk is computed the same way, wherever it runs), and
BatchBALD's pass stays on one thread; the error raised for bad input names the first bad row even when a
later thread fails first or too; ``available_threads`` honours
``OMP_NUM_THREADS`` (as joblib sets it in its workers) and ignores junk.
"""

import os

import numpy as np
import pytest

import reference as R
from skbal import acquisition
from skbal.acquisition import _validation
from skbal.utils import _threads


@pytest.fixture
def threads(monkeypatch):
    """Split any array of at least 2 chunks over up to 3 threads, recording the thread count."""
    used = []
    original = _threads.ThreadPoolExecutor

    def executor(n_threads, **kwargs):
        used.append(n_threads)
        return original(n_threads, **kwargs)

    monkeypatch.setattr(_validation, "_ELEMENTS_PER_THREAD", 1)
    monkeypatch.setattr(_validation, "available_threads", lambda: 3)
    monkeypatch.setattr(_threads, "ThreadPoolExecutor", executor)
    return used


def _log_probs(n, k=8, c=5, dtype=np.float32):
    return R.random_log_probs(np.random.default_rng(n), n, k, c, dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "score", [acquisition.bald, acquisition.predictive_entropy, acquisition.expected_entropy, acquisition.margin]
)
def test_threads_give_bitwise_the_single_thread_scores(threads, score, dtype):
    log_probs = _log_probs(40_000, dtype=dtype)  # 4 chunks
    with pytest.MonkeyPatch.context() as single:
        single.setattr(_validation, "available_threads", lambda: 1)
        expected = score(log_probs)
    assert threads == []
    np.testing.assert_array_equal(score(log_probs), expected)
    assert threads == [3]


def test_batchbald_prepares_on_one_thread(threads):
    """BatchBALD's pass over the samples stays on the calling thread (two
    threads filling its large fresh arrays were slower in the benchmark)."""
    log_probs = _log_probs(90_000, k=6, c=3)  # 4 chunks
    with pytest.MonkeyPatch.context() as single:
        single.setattr(_validation, "available_threads", lambda: 1)
        expected = acquisition.batchbald(log_probs, 4, random_state=0)
    indices, gains = acquisition.batchbald(log_probs, 4, random_state=0)
    assert threads == []
    np.testing.assert_array_equal(indices, expected[0])
    np.testing.assert_array_equal(gains, expected[1])


def test_the_error_names_the_first_bad_row(threads):
    log_probs = _log_probs(40_000)
    log_probs[39_000, 2, :] = 0.0  # logits-like, in the last thread's rows
    log_probs[25_001, 0, 1] = np.nan  # in the middle thread's rows
    with pytest.raises(ValueError, match="NaN \\(first in row 25001\\)"):
        acquisition.predictive_entropy(log_probs)
    log_probs[3, 1, :] = 0.0  # now also in the first thread's rows
    with pytest.raises(ValueError, match="log_probs\\[3, 1, :\\]"):
        acquisition.bald(log_probs)
    assert threads == [3, 3]


@pytest.mark.parametrize("value, expected", [("1", 1), ("2", 2), ("", None), ("lots", None), ("0", None)])
def test_available_threads_honours_omp_num_threads(monkeypatch, value, expected):
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    n_cpus = len(os.sched_getaffinity(0))
    assert _threads.available_threads() == (min(n_cpus, expected) if expected else n_cpus)
