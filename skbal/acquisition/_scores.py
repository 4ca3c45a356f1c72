"""Acquisition scores: (N, K, C) log-probabilities in, float64 (N,) out.

Each function makes one validated pass over the samples in row chunks (see
:func:`~skbal.acquisition._validation.map_prob_chunks`, on several threads
for large arrays): elementwise work in
the input's precision, sums over draws and the scores in float64. Higher
scores mean more informative.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from skbal.acquisition._validation import as_log_probs_array, class_sums, map_prob_chunks

_TINY64 = float(np.finfo(np.float64).tiny)

_REFERENCES = """
    As defined by Houlsby et al. [1]_ and used with MC dropout by Gal et
    al. [2]_.

    References
    ----------
    .. [1] N. Houlsby, F. Huszár, Z. Ghahramani, M. Lengyel. "Bayesian Active
       Learning for Classification and Preference Learning." arXiv:1112.5745,
       2011.
    .. [2] Y. Gal, R. Islam, Z. Ghahramani. "Deep Bayesian Active Learning
       with Image Data." ICML 2017.

"""


def _apply_rowwise(log_probs, kernel: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Run ``kernel(log_probs_n_K_C, probs_n_K_C) -> (n,)`` over validated chunks
    (on several threads for a large array)."""
    array = as_log_probs_array(log_probs)
    scores_N = np.empty(array.shape[0], dtype=np.float64)

    def score(rows, log_probs_n_K_C, probs_n_K_C):
        scores_N[rows] = kernel(log_probs_n_K_C, probs_n_K_C)

    map_prob_chunks(array, score)
    return scores_N


def plogp_class_sums(log_probs_n_K_C: np.ndarray, probs_n_K_C: np.ndarray, *, overwrite: bool = False) -> np.ndarray:
    """Σ_c p log p per (row, draw), shape (n, K), with 0 log 0 = 0.

    A log-probability of -inf makes p * log p = 0 * -inf NaN (validated
    input has no other NaN); only the (rare) affected (row, draw) pairs are
    recomputed, so the common case costs no extra pass. ``overwrite=True``
    writes the products into ``probs_n_K_C`` (no temporary array).
    """
    with np.errstate(invalid="ignore"):
        plogp_n_K_C = np.multiply(probs_n_K_C, log_probs_n_K_C, out=probs_n_K_C if overwrite else None)
    sums_n_K = class_sums(plogp_n_K_C)
    broken = np.isnan(sums_n_K)
    if broken.any():
        terms = plogp_n_K_C[broken]
        terms[np.isnan(terms)] = 0.0
        sums_n_K[broken] = terms.sum(axis=-1)
    return sums_n_K


def draw_means(probs_n_K_C: np.ndarray) -> np.ndarray:
    """p̄ = mean over the K draws, shape (n, C), float64.

    A batched matrix-vector product: numpy's reduction over the middle axis
    is several times slower. It accumulates in the input's precision, which
    for float32 samples is within their own round-off.
    """
    n_draws = probs_n_K_C.shape[1]
    ones_K = np.full(n_draws, 1.0 / n_draws, dtype=probs_n_K_C.dtype)
    return np.matmul(probs_n_K_C.transpose(0, 2, 1), ones_K).astype(np.float64, copy=False)


def _row_entropies(probs_n_C: np.ndarray) -> np.ndarray:
    """-Σ_c p log p per row of a float64 (n, C) array, with 0 log 0 = 0
    (a few times faster than scipy's ``entr`` and a sum over the short axis)."""
    plogp_n_C = np.log(np.maximum(probs_n_C, _TINY64))
    plogp_n_C *= probs_n_C
    return 0.0 - plogp_n_C @ np.ones(probs_n_C.shape[1])  # 0.0 - x: no -0.0


def _predictive_entropy_kernel(log_probs_n_K_C, probs_n_K_C):
    return _row_entropies(draw_means(probs_n_K_C))


def _expected_entropy_kernel(log_probs_n_K_C, probs_n_K_C):
    """Overwrites ``probs_n_K_C`` (a scratch chunk of map_prob_chunks)."""
    return 0.0 - plogp_class_sums(log_probs_n_K_C, probs_n_K_C, overwrite=True).mean(axis=-1, dtype=np.float64)


def _bald_kernel(log_probs_n_K_C, probs_n_K_C):
    mutual_information = _predictive_entropy_kernel(log_probs_n_K_C, probs_n_K_C)
    mutual_information -= _expected_entropy_kernel(log_probs_n_K_C, probs_n_K_C)  # last: overwrites probs
    # >= 0 in exact arithmetic; round-off leaves tiny negatives.
    return np.maximum(mutual_information, 0.0, out=mutual_information)


def predictive_entropy(log_probs) -> np.ndarray:
    """Entropy of the posterior predictive (max-entropy acquisition).

    Parameters
    ----------
    log_probs : array-like of shape (n_samples, n_mc_samples, n_classes)
        Natural-log class probabilities, one draw per ``[:, k, :]``
        (numpy or torch, float32 or float64).

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        H[y | x] in nats, in [0, log n_classes].

    Notes
    -----
    H[y | x] = -Σ_c p̄_c log p̄_c with p̄_c = (1/K) Σ_k p(y = c | x, ω_k),
    and 0 log 0 = 0.
    {references}
    Examples
    --------
    >>> import numpy as np
    >>> from skbal.acquisition import predictive_entropy
    >>> h = np.log(0.5)
    >>> log_probs = np.array([[[h, h], [h, h]],                   # both draws unsure
    ...                       [[0.0, -np.inf], [0.0, -np.inf]]])  # both sure: class 0
    >>> predictive_entropy(log_probs).round(4)
    array([0.6931, 0.    ])
    """
    return _apply_rowwise(log_probs, _predictive_entropy_kernel)


def expected_entropy(log_probs) -> np.ndarray:
    """Mean entropy of the per-draw predictions (aleatoric uncertainty).

    Parameters
    ----------
    log_probs : array-like of shape (n_samples, n_mc_samples, n_classes)
        Natural-log class probabilities, one draw per ``[:, k, :]``.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        E_ω H[y | x, ω] in nats.

    Notes
    -----
    E_ω H[y | x, ω] ≈ (1/K) Σ_k -Σ_c p_kc log p_kc.
    {references}
    Examples
    --------
    >>> import numpy as np
    >>> from skbal.acquisition import expected_entropy
    >>> h = np.log(0.5)
    >>> log_probs = np.array([[[h, h], [h, h]],                   # both draws unsure
    ...                       [[0.0, -np.inf], [-np.inf, 0.0]]])  # each sure, disagree
    >>> expected_entropy(log_probs).round(4)
    array([0.6931, 0.    ])
    """
    return _apply_rowwise(log_probs, _expected_entropy_kernel)


def bald(log_probs) -> np.ndarray:
    """BALD: mutual information between the label and the model parameters.

    Parameters
    ----------
    log_probs : array-like of shape (n_samples, n_mc_samples, n_classes)
        Natural-log class probabilities, one draw per ``[:, k, :]``.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        I[y; ω | x] in nats, in [0, min(log n_classes, log n_mc_samples)].

    Warns
    -----
    UserWarning
        With a single draw (K = 1), where BALD is 0 for every point.

    Notes
    -----
    I[y; ω | x] = H[y | x] - E_ω H[y | x, ω]: high when the draws are each
    confident but disagree. Round-off negatives are clamped to 0.
    {references}
    Examples
    --------
    >>> import numpy as np
    >>> from skbal.acquisition import bald
    >>> h = np.log(0.5)
    >>> log_probs = np.array([[[h, h], [h, h]],                   # agree: noise only
    ...                       [[0.0, -np.inf], [-np.inf, 0.0]]])  # each sure, disagree
    >>> bald(log_probs).round(4)
    array([0.    , 0.6931])
    """
    array = as_log_probs_array(log_probs)
    if array.shape[1] == 1:
        warnings.warn(
            "bald got a single posterior draw (n_mc_samples=1): the mutual "
            "information is 0 for every point. Use n_mc_samples > 1.",
            UserWarning,
            stacklevel=2,
        )
    return _apply_rowwise(array, _bald_kernel)


def _margin_kernel(log_probs_n_K_C, probs_n_K_C):
    mean_probs_n_C = draw_means(probs_n_K_C)
    top_two_n_2 = np.partition(mean_probs_n_C, -2, axis=-1)[:, -2:]
    return top_two_n_2[:, 0] - top_two_n_2[:, 1]


def margin(log_probs) -> np.ndarray:
    """Negative margin between the two most probable classes.

    Parameters
    ----------
    log_probs : array-like of shape (n_samples, n_mc_samples, n_classes)
        Natural-log class probabilities, one draw per ``[:, k, :]``
        (K = 1 for a deterministic classifier).

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        -(p̄_(1) - p̄_(2)) in [-1, 0]: 0 is a tie between the top two
        classes (most uncertain), -1 a certain prediction.

    Notes
    -----
    p̄ is the mean of the K draws' probabilities; p̄_(1) ≥ p̄_(2) are its two
    largest entries. The sign makes higher mean more informative, like every
    skbal score; use the softmax or softrank modes (not power) to sample
    with it.

    Examples
    --------
    >>> import numpy as np
    >>> from skbal.acquisition import margin
    >>> margin(np.log([[[0.5, 0.5]], [[0.9, 0.1]]])).round(4)
    array([ 0. , -0.8])
    """
    return _apply_rowwise(log_probs, _margin_kernel)


def _least_confidence_kernel(log_probs_n_K_C, probs_n_K_C):
    return 1.0 - draw_means(probs_n_K_C).max(axis=-1)


def least_confidence(log_probs) -> np.ndarray:
    """One minus the probability of the most probable class.

    Parameters
    ----------
    log_probs : array-like of shape (n_samples, n_mc_samples, n_classes)
        Natural-log class probabilities, one draw per ``[:, k, :]``.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        1 - max_c p̄_c, in [0, 1 - 1/n_classes].

    Examples
    --------
    >>> import numpy as np
    >>> from skbal.acquisition import least_confidence
    >>> least_confidence(np.log([[[0.5, 0.5]], [[0.9, 0.1]]])).round(4)
    array([0.5, 0.1])
    """
    return _apply_rowwise(log_probs, _least_confidence_kernel)


def _variation_ratios_kernel(log_probs_n_K_C, probs_n_K_C):
    n_rows, n_draws, n_classes = log_probs_n_K_C.shape
    votes_n_K = log_probs_n_K_C.argmax(axis=-1)  # ties: lowest class index
    votes_n_K += (np.arange(n_rows) * n_classes)[:, None]
    counts_n_C = np.bincount(votes_n_K.ravel(), minlength=n_rows * n_classes).reshape(n_rows, n_classes)
    return 1.0 - counts_n_C.max(axis=-1) / n_draws


def variation_ratios(log_probs) -> np.ndarray:
    """Fraction of draws that do not vote for the modal class.

    Parameters
    ----------
    log_probs : array-like of shape (n_samples, n_mc_samples, n_classes)
        Natural-log class probabilities, one draw per ``[:, k, :]``.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        1 - max_c #{k : argmax p_k = c} / K, in [0, 1 - 1/K].

    Notes
    -----
    Each draw votes for its most probable class (ties go to the lowest class
    index). Freeman (1965); used by Gal et al. (2017).

    Examples
    --------
    >>> import numpy as np
    >>> from skbal.acquisition import variation_ratios
    >>> log_probs = np.log([[[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]]])
    >>> variation_ratios(log_probs)
    array([0.5])
    """
    return _apply_rowwise(log_probs, _variation_ratios_kernel)


def _mean_std_kernel(log_probs_n_K_C, probs_n_K_C):
    return probs_n_K_C.std(axis=1, dtype=np.float64).mean(axis=-1)


def mean_std(log_probs) -> np.ndarray:
    """Mean over classes of the standard deviation of the draws' probabilities.

    Parameters
    ----------
    log_probs : array-like of shape (n_samples, n_mc_samples, n_classes)
        Natural-log class probabilities, one draw per ``[:, k, :]``.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        (1/C) Σ_c sqrt(E_k[p_kc²] - E_k[p_kc]²) (population std, ddof=0).

    Notes
    -----
    Kampffmeyer et al. (2016); used by Gal et al. (2017).

    Examples
    --------
    >>> import numpy as np
    >>> from skbal.acquisition import mean_std
    >>> h = np.log(0.5)
    >>> mean_std(np.array([[[0.0, -np.inf], [-np.inf, 0.0]], [[h, h], [h, h]]]))
    array([0.5, 0. ])
    """
    return _apply_rowwise(log_probs, _mean_std_kernel)


for _function in (predictive_entropy, expected_entropy, bald):
    _function.__doc__ = _function.__doc__.replace("    {references}\n", _REFERENCES)
del _function
