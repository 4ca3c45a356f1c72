"""Turning scores into a batch: deterministic top-k and stochastic top-k."""

from __future__ import annotations

import numpy as np

from skbal.acquisition._validation import check_count, check_positive_real, check_scores
from skbal.utils import check_random_state

STOCHASTIC_MODES = ("power", "softmax", "softrank")


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


def _stochastic_keys(scores_N, temperature, mode, gumbel_N):
    """Perturbed keys whose top-k is a sample without replacement."""
    if mode == "power":
        with np.errstate(divide="ignore"):
            return np.log(np.maximum(scores_N, 0.0)) / temperature + gumbel_N
    if mode == "softmax":
        return scores_N / temperature + gumbel_N
    ranks_N = np.empty(scores_N.size, dtype=np.float64)
    ranks_N[_top_k(scores_N, scores_N.size)] = np.arange(1, scores_N.size + 1)
    return -np.log(ranks_N) / temperature + gumbel_N


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
    rng = check_random_state(random_state)
    gumbel_N = rng.gumbel(size=scores_N.size)
    keys_N = _stochastic_keys(scores_N, temperature, mode, gumbel_N)
    if mode != "power":
        return _top_k(keys_N, k)
    positive = np.flatnonzero(scores_N > 0.0)
    picked = positive[_top_k(keys_N[positive], min(k, positive.size))]
    if k <= positive.size:
        return picked
    rest = np.flatnonzero(scores_N <= 0.0)  # uniformly random order, after the positives
    return np.concatenate([picked, rest[_top_k(gumbel_N[rest], k - positive.size)]])
