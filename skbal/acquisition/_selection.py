"""Turning scores into a batch: deterministic top-k and stochastic top-k."""

from __future__ import annotations

import numpy as np

from skbal.acquisition._validation import check_count, check_positive_real, check_scores
from skbal.utils import check_random_state, spawn_seed
from skbal.utils._random import derive_seed

STOCHASTIC_MODES = ("power", "softmax", "softrank")

#: Rows per block of Gumbel noise. Row i's noise is drawn from the stream of
#: block i // GUMBEL_BLOCK_ROWS, seeded by (seed, block): it depends on the
#: row's global position only, so a pool scored in chunks (on Dask, or in
#: blocks in memory) gets the same noise as the whole array. Changing this
#: constant changes every stochastic draw.
GUMBEL_BLOCK_ROWS = 1024


def _top_k(scores_N: np.ndarray, k: int) -> np.ndarray:
    """Top-k in O(N): indices by descending score, ties to the lower index."""
    n = scores_N.size
    if k < n:
        kth_largest = np.partition(scores_N, n - k)[n - k]
        above = np.flatnonzero(scores_N > kth_largest)
        ties = np.flatnonzero(scores_N == kth_largest)[: k - above.size]
        candidates = np.sort(np.concatenate([above, ties]))
    else:
        candidates = np.arange(n)
    order = np.argsort(-scores_N[candidates], kind="stable")
    return candidates[order].astype(np.int64, copy=False)


def top_k(scores, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Acquisition scores, higher = more informative. ``-inf`` is allowed
        (never preferred); NaN and +inf are not.
    k : int
        How many indices to return, 1 <= k <= n_samples.

    Returns
    -------
    indices : ndarray of shape (k,), int64
        In descending order of score; equal scores are ordered by lower
        index first.

    Examples
    --------
    >>> from skbal.acquisition import top_k
    >>> top_k([0.1, 0.7, 0.3, 0.7], 3)
    array([1, 3, 2])
    """
    scores_N = check_scores(scores)
    k = check_count(k, "k", high=scores_N.size, high_name="the number of scores")
    return _top_k(scores_N, k)


def gumbel_noise(seed: int, start: int, stop: int) -> np.ndarray:
    """Standard Gumbel noise of the global rows ``start..stop-1``, float64.

    Counter-based: block b = i // GUMBEL_BLOCK_ROWS has its own generator
    seeded by ``(seed, b)``, and row i takes value ``i % GUMBEL_BLOCK_ROWS``
    of its block's draws. Any split of the rows into ranges gives the same
    values, and all values are i.i.d. Gumbel(0, 1).
    """
    noise = np.empty(stop - start, dtype=np.float64)
    if stop <= start:
        return noise
    for block in range(start // GUMBEL_BLOCK_ROWS, (stop - 1) // GUMBEL_BLOCK_ROWS + 1):
        first = block * GUMBEL_BLOCK_ROWS
        lo, hi = max(start, first), min(stop, first + GUMBEL_BLOCK_ROWS)
        draws = np.random.default_rng(derive_seed(seed, block)).gumbel(size=GUMBEL_BLOCK_ROWS)
        noise[lo - start : hi - start] = draws[lo - first : hi - first]
    return noise


def tiered_top_k(keys_N: np.ndarray, k: int, first_N: np.ndarray | None = None) -> np.ndarray:
    """Positions of the k best rows: rows with ``first_N`` True before the
    others, then by descending key, ties to the lower position."""
    if first_N is None:
        return _top_k(keys_N, k)
    high = np.flatnonzero(first_N)
    picked = high[_top_k(keys_N[high], min(k, high.size))]
    if k <= high.size:
        return picked
    low = np.flatnonzero(~first_N)
    return np.concatenate([picked, low[_top_k(keys_N[low], k - high.size)]])


def stochastic_keys(scores_N, temperature: float, mode: str, seed: int, start: int = 0):
    """Gumbel-perturbed keys of the rows ``start..start+N-1`` of a pool.

    Returns ``(keys_N, first_N)``: the pool's sample without replacement is
    :func:`tiered_top_k` of the keys over all rows (``first_N`` is None except
    in power mode, where rows with a positive score come first). Power and
    softmax keys depend on the row's own score and global position only, so
    chunks of a pool can be keyed apart; softrank needs the ranks over the
    whole pool, i.e. ``start=0`` and every score.
    """
    gumbel_N = gumbel_noise(seed, start, start + scores_N.size)
    if mode == "power":
        first_N = scores_N > 0.0
        with np.errstate(divide="ignore", over="ignore"):
            log_scores_N = np.log(np.where(first_N, scores_N, 1.0)) / temperature
        return np.where(first_N, log_scores_N + gumbel_N, gumbel_N), first_N
    if mode == "softmax":
        with np.errstate(over="ignore"):
            return scores_N / temperature + gumbel_N, None
    if start != 0:
        raise ValueError("softrank keys need the ranks over the whole pool: pass every score (start=0).")
    ranks_N = np.empty(scores_N.size, dtype=np.float64)
    ranks_N[_top_k(scores_N, scores_N.size)] = np.arange(1, scores_N.size + 1)
    return -np.log(ranks_N) / temperature + gumbel_N, None


def stochastic_top_k(
    scores,
    k: int,
    *,
    temperature: float = 1.0,
    mode: str = "power",
    random_state=None,
) -> np.ndarray:
    """Sample ``k`` distinct indices with probability increasing in the score.

    The stochastic batch acquisition of Kirsch et al. (2023): instead of the
    top-k, draw k points without replacement, which spreads a batch over
    near-duplicates that top-k would pick together. Implemented with the
    Gumbel-top-k trick: add i.i.d. Gumbel noise to the keys below and take
    the top k.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Acquisition scores, higher = more informative.
    k : int
        How many indices to draw, 1 <= k <= n_samples.
    temperature : float, default=1.0
        T > 0. As T → 0 the draw tends to :func:`top_k`; large T tends to
        uniform.
    mode : {"power", "softmax", "softrank"}, default="power"
        - ``"power"``: ∝ max(score, 0)^(1/T), keys log(score)/T. Points with
          score <= 0 are drawn only after every positive one, in uniformly
          random order among themselves. PowerBALD / PowerEntropy.
        - ``"softmax"``: ∝ exp(score/T); any sign of score is fine.
        - ``"softrank"``: ∝ rank^(-1/T), rank 1 = highest score (ties: lower
          index ranks first); depends only on the order of the scores.
    random_state : int, RandomState, Generator or None, default=None
        Source of the Gumbel noise. None draws fresh OS entropy; the global
        numpy RNG is never used.

    Returns
    -------
    indices : ndarray of shape (k,), int64
        In the order drawn.

    Notes
    -----
    Gumbel-top-k (Kool et al. 2019): the top k of log w_i + G_i, G_i ~
    Gumbel(0, 1) i.i.d., is a sample without replacement from the
    categorical ∝ w.

    The noise is counter-based: one seed is drawn from ``random_state``, and
    row i's G_i comes from the stream of its block of
    ``GUMBEL_BLOCK_ROWS`` (1024) rows, seeded by (seed, i // 1024). G_i thus
    depends only on the seed and on i, so a pool scored in chunks — in
    memory or on a Dask cluster (:mod:`skbal.distributed`) — draws exactly
    the same sample as the whole array. The G_i are still i.i.d.

    References
    ----------
    .. [1] A. Kirsch, S. Farquhar, P. Atighehchian, A. Jesson,
       F. Branchaud-Charron, Y. Gal. "Stochastic Batch Acquisition: A Simple
       Baseline for Deep Active Learning." TMLR 2023.
    .. [2] W. Kool, H. van Hoof, M. Welling. "Stochastic Beams and Where to
       Find Them." ICML 2019.

    Examples
    --------
    >>> from skbal.acquisition import stochastic_top_k
    >>> picks = stochastic_top_k([0.0, 0.9, 0.5, 0.2], 2, random_state=0)
    >>> picks.shape, 0 in picks  # a zero score waits for every positive one
    ((2,), False)
    >>> stochastic_top_k([0.1, 0.9, 0.5], 3, temperature=1e-9, random_state=0)
    array([1, 2, 0])
    """
    scores_N = check_scores(scores)
    k = check_count(k, "k", high=scores_N.size, high_name="the number of scores")
    temperature = check_positive_real(temperature, "temperature")
    if mode not in STOCHASTIC_MODES:
        raise ValueError(f"mode must be one of {STOCHASTIC_MODES}, got {mode!r}.")
    seed = spawn_seed(check_random_state(random_state))
    keys_N, first_N = stochastic_keys(scores_N, temperature, mode, seed)
    return tiered_top_k(keys_N, k, first_N)
