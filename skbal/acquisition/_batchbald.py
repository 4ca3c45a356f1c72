"""BatchBALD: greedy batch acquisition by joint mutual information.

The greedy state is the set of label configurations y_S of the chosen points
(all of them while few, else Monte-Carlo samples) with, for each
configuration m, its weight w_m (its probability under the joint predictive,
or 1/M when sampled) and the posterior over the K draws given it,
A[k, m] = p(ω_k | y_S = m). Adding a point multiplies the configurations by
its C labels and re-normalises A, so the state is extended, never rebuilt.

The gain of a candidate x is the conditional mutual information

    I[y_x; ω | y_S] = Σ_m w_m ( H[Σ_k A[k, m] p_xk] - Σ_k A[k, m] H[p_xk] ),

which equals I[y_S, y_x; ω] - I[y_S; ω] (the BatchBALD objective's
increment) in the exact regime, is non-negative term by term (Jensen), and
is an unbiased estimate of it in the sampled regime.
"""

from __future__ import annotations

import numpy as np

from skbal.acquisition._scores import _bald_kernel, plogp_class_sums
from skbal.acquisition._validation import as_log_probs_array, check_count, iter_prob_chunks
from skbal.utils import check_random_state

#: Default number of sampled label configurations (as batchbald_redux).
N_JOINT_SAMPLES = 10_000

# Largest (configurations x candidates x classes) block scored at once:
# 2**22 float64 = 32 MiB per temporary.
_BLOCK_ELEMENTS = 1 << 22

# Lazy greedy re-scores at most this many candidates before checking bounds.
_MAX_BLOCK_CANDIDATES = 512

# Gains this close to the best are ties, broken by the lower index.
_TIE_RTOL, _TIE_ATOL = 1e-12, 1e-15


class _JointState:
    """Label configurations of the chosen points and p(ω | configuration)."""

    def __init__(self, n_draws: int, max_configurations: int, rng: np.random.Generator):
        self.posterior_K_M = np.full((n_draws, 1), 1.0 / n_draws)
        self.weights_M = np.ones(1)
        self.sampled = False
        self.max_configurations = max_configurations
        self.rng = rng
        self._scoring = None

    def draw_posterior_K(self) -> np.ndarray:
        """p(ω_k) averaged over configurations (1/K in the exact regime)."""
        return self._scoring_arrays()[2]

    def _scoring_arrays(self):
        """(A^T, w, p(ω)), computed once per state: A^T and w in the scoring
        precision, float64 while exact, float32 when sampled (its Monte-Carlo
        error dwarfs float32 round-off)."""
        if self._scoring is None:
            dtype = np.float32 if self.sampled else np.float64
            self._scoring = (
                np.ascontiguousarray(self.posterior_K_M.T, dtype=dtype),
                self.weights_M.astype(dtype),
                self.posterior_K_M @ self.weights_M,
            )
        return self._scoring

    def conditional_entropies(self, probs_K_n_C: np.ndarray) -> np.ndarray:
        """H[y_x | y_S] for each of the n candidates, shape (n,)."""
        n_draws, n_candidates, n_classes = probs_K_n_C.shape
        posterior_M_K, weights_M, _ = self._scoring_arrays()
        predictive_M_nC = posterior_M_K @ probs_K_n_C.reshape(n_draws, -1).astype(posterior_M_K.dtype, copy=False)
        # p log p with 0 log 0 = 0: tiny * log(tiny) is ~1e-305 (float64), ~1e-36 (float32).
        np.maximum(predictive_M_nC, np.finfo(posterior_M_K.dtype).tiny, out=predictive_M_nC)
        plogp_M_nC = np.log(predictive_M_nC)
        plogp_M_nC *= predictive_M_nC
        # Weight over configurations first (one matrix-vector product), then
        # sum the C classes of the small result.
        weighted_nC = (weights_M @ plogp_M_nC).astype(np.float64)
        return -weighted_nC.reshape(n_candidates, n_classes).sum(axis=-1)

    def extend(self, probs_K_C: np.ndarray) -> None:
        """Add one chosen point: each configuration times its C labels."""
        predictive_M_C = self.posterior_K_M.T @ probs_K_C  # p(y_new = c | config m)
        if self.sampled:
            # Ancestral sampling, with multiplicity: the samples that share
            # configuration m draw their new labels from its conditional
            # predictive together. Weights are sample counts / M.
            n_samples_M = np.rint(self.weights_M * self.max_configurations).astype(np.int64)
            counts_M_C = self.rng.multinomial(n_samples_M, _normalised_rows(predictive_M_C))
            config_M, label_M = np.nonzero(counts_M_C)
            weights_M = counts_M_C[config_M, label_M] / self.max_configurations
        else:
            joint_M_C = self.weights_M[:, None] * predictive_M_C
            config_M, label_M = np.nonzero(joint_M_C > 0.0)
            if config_M.size <= self.max_configurations:
                weights_M = joint_M_C[config_M, label_M]
            else:  # enumerating now costs more than sampling: switch for good
                flat = joint_M_C.ravel()
                counts = self.rng.multinomial(self.max_configurations, flat / flat.sum())
                config_M, label_M = np.divmod(np.flatnonzero(counts), joint_M_C.shape[1])
                weights_M = counts[counts > 0] / self.max_configurations
                self.sampled = True
        self.posterior_K_M = (
            self.posterior_K_M[:, config_M] * probs_K_C[:, label_M] / predictive_M_C[config_M, label_M]
        )
        self.weights_M = weights_M
        self._scoring = None


def _normalised_rows(probs_M_C: np.ndarray) -> np.ndarray:
    """Rows summing to 1 within numpy's multinomial check (round-off only)."""
    return probs_M_C / probs_M_C.sum(axis=1, keepdims=True)


def _prepare(log_probs):
    """One validated pass: probabilities (K, N, C), per-draw entropies (K, N), BALD (N,).

    The probabilities keep the input's precision (float32 input: half the
    memory); everything is computed in float64.
    """
    array = as_log_probs_array(log_probs)
    n_samples, n_draws, n_classes = array.shape
    probs_K_N_C = np.empty((n_draws, n_samples, n_classes), dtype=array.dtype)
    entropies_K_N = np.empty((n_draws, n_samples))
    bald_N = np.empty(n_samples)
    for rows, log_probs_n_K_C, probs_n_K_C in iter_prob_chunks(array):
        probs_K_N_C[:, rows] = probs_n_K_C.transpose(1, 0, 2)
        entropies_K_N[:, rows] = -plogp_class_sums(log_probs_n_K_C, probs_n_K_C).T
        bald_N[rows] = _bald_kernel(log_probs_n_K_C, probs_n_K_C)
    return probs_K_N_C, entropies_K_N, bald_N


def _gains(state: _JointState, probs_K_N_C, entropies_K_N, candidates_n) -> np.ndarray:
    """I[y_x; ω | y_S] for a block of candidates."""
    gains_n = state.conditional_entropies(probs_K_N_C[:, candidates_n])
    gains_n -= state.draw_posterior_K() @ entropies_K_N[:, candidates_n]
    return np.maximum(gains_n, 0.0, out=gains_n)


def _tie_threshold(best: float) -> float:
    """Gains at or above this are ties with ``best`` (round-off, 1e-12 relative).

    Identical pool rows have equal gains in exact arithmetic, but a matrix
    product may round their columns differently; the lower index must win.
    """
    return best - _TIE_RTOL * abs(best) - _TIE_ATOL


def _lazy_greedy_step(state, probs_K_N_C, entropies_K_N, bounds_N, available_N) -> int:
    """Choose the next point, re-scoring only candidates that could still win.

    ``bounds_N`` holds each candidate's last computed gain (its BALD score at
    first): an upper bound on its gain now, since gains only shrink as the
    batch grows (submodularity). Candidates are re-scored in blocks by
    decreasing bound until no stale bound reaches the best fresh gain; the
    fresh gains are written back into ``bounds_N``. Same choice as plain
    greedy (exactly, in the exact regime).
    """
    candidates_n = np.flatnonzero(available_N)
    # A bound of 0 is exact (gains are >= 0): such candidates need no re-scoring.
    zero_n = candidates_n[bounds_N[candidates_n] <= 0.0]
    positive_n = candidates_n[bounds_N[candidates_n] > 0.0]
    order_n = positive_n[np.argsort(-bounds_N[positive_n], kind="stable")]
    n_configurations = state.posterior_K_M.shape[1]
    block = min(_MAX_BLOCK_CANDIDATES, max(1, _BLOCK_ELEMENTS // (n_configurations * probs_K_N_C.shape[2])))
    best, fresh = (0.0 if zero_n.size else -np.inf), [zero_n]
    for start in range(0, order_n.size, block):
        part_n = order_n[start : start + block]
        if bounds_N[part_n[0]] < _tie_threshold(best):
            break  # no remaining candidate can beat (or tie) the best fresh gain
        bounds_N[part_n] = _gains(state, probs_K_N_C, entropies_K_N, part_n)
        best = max(best, bounds_N[part_n].max())
        fresh.append(part_n)
    fresh_n = np.concatenate(fresh)
    return int(fresh_n[bounds_N[fresh_n] >= _tie_threshold(best)].min())


def _argmax_lowest_index(gains_N: np.ndarray) -> int:
    """argmax with ties (up to round-off) going to the lowest index."""
    return int(np.flatnonzero(gains_N >= _tie_threshold(gains_N.max()))[0])


def batchbald(
    log_probs,
    batch_size: int,
    *,
    n_joint_samples: int = N_JOINT_SAMPLES,
    random_state=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy BatchBALD: a batch with maximal joint mutual information.

    Parameters
    ----------
    log_probs : array-like of shape (n_samples, n_mc_samples, n_classes)
        Natural-log class probabilities. Draw ``[:, k, :]`` must be the same
        posterior sample for every row (consistent MC dropout), or the joint
        entropies are meaningless.
    batch_size : int
        Number of points to acquire, 1 <= batch_size <= n_samples.
    n_joint_samples : int, default=10_000
        M. The label configurations of the chosen points are enumerated
        exactly while there are at most M of them with non-zero probability;
        beyond that, M configurations are sampled from the joint predictive
        and extended by ancestral sampling.
    random_state : int, RandomState, Generator or None, default=None
        Used only in the sampled regime. Never the global numpy RNG.

    Returns
    -------
    indices : ndarray of shape (batch_size,), int64
        The chosen points, in the order chosen.
    gains : ndarray of shape (batch_size,), float64
        Each point's increment of the joint mutual information,
        I[y_1..y_i; ω] - I[y_1..y_{i-1}; ω], in nats. The first is the
        point's BALD score; their sum is the batch's joint mutual
        information (estimated, in the sampled regime).

    Notes
    -----
    Step i adds argmax_x I[y_1, ..., y_{i-1}, y_x; ω] (ties, up to a
    relative round-off of 1e-12: lowest index, so exact duplicates are taken
    in index order).
    The objective is submodular, so greedy is a (1 - 1/e)-approximation, a
    point's gain never exceeds its BALD score, and gains do not increase.
    The gain is computed as the conditional mutual information
    Σ_m w_m (H[Σ_k A_km p_xk] - Σ_k A_km H[p_xk]), where m runs over label
    configurations of the chosen points, w_m is the probability of m (1/M
    when sampled) and A_km = p(ω_k | m).

    Lazy (accelerated) greedy: a candidate's last computed gain bounds its
    gain now, so each step re-scores candidates by decreasing bound only
    until no bound can beat the best fresh gain — the choices of plain greedy
    at a fraction of the work. In the sampled regime, where gains are
    estimates, the bounds are approximate.

    References
    ----------
    .. [1] A. Kirsch, J. van Amersfoort, Y. Gal. "BatchBALD: Efficient and
       Diverse Batch Acquisition for Deep Bayesian Active Learning."
       NeurIPS 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skbal.acquisition import batchbald
    >>> one_hot = np.array([[0.0, -np.inf], [-np.inf, 0.0]])  # draw 0 says class 0, draw 1 class 1
    >>> log_probs = np.stack([
    ...     one_hot,            # point 0: the two draws disagree
    ...     one_hot,            # point 1: a duplicate of point 0
    ...     one_hot[[0, 0]],    # point 2: both draws agree
    ... ])
    >>> indices, gains = batchbald(log_probs, 2)
    >>> indices
    array([0, 1])
    >>> gains.round(4)  # the duplicate adds nothing once point 0 is known
    array([0.6931, 0.    ])
    """
    array = as_log_probs_array(log_probs)
    n_samples, n_draws, _ = array.shape
    batch_size = check_count(batch_size, "batch_size", high=n_samples, high_name="the number of samples")
    n_joint_samples = check_count(n_joint_samples, "n_joint_samples")
    rng = check_random_state(random_state)

    probs_K_N_C, entropies_K_N, gains_N = _prepare(array)
    state = _JointState(n_draws, n_joint_samples, rng)
    available_N = np.ones(n_samples, dtype=bool)
    indices, gains = [], []
    best = _argmax_lowest_index(gains_N)  # the first gain is the BALD score
    for step in range(batch_size):
        if step > 0:
            state.extend(probs_K_N_C[:, best])
            best = _lazy_greedy_step(state, probs_K_N_C, entropies_K_N, gains_N, available_N)
        indices.append(best)
        gains.append(gains_N[best])
        available_N[best] = False
    return np.asarray(indices, dtype=np.int64), np.asarray(gains, dtype=np.float64)


def joint_entropy(log_probs, *, n_joint_samples: int = N_JOINT_SAMPLES, random_state=None) -> float:
    """Joint entropy of the labels of all rows under the posterior predictive.

    Parameters
    ----------
    log_probs : array-like of shape (n_samples, n_mc_samples, n_classes)
        Natural-log class probabilities with consistent draws.
    n_joint_samples : int, default=10_000
        Exact enumeration while at most this many label configurations have
        non-zero probability, a Monte-Carlo estimate beyond.
    random_state : int, RandomState, Generator or None, default=None
        Used only in the sampled regime.

    Returns
    -------
    float
        H[y_1, ..., y_N] in nats, where
        p(y_1..y_N) = (1/K) Σ_k Π_i p(y_i | x_i, ω_k).

    Notes
    -----
    Computed by the chain rule, H = Σ_i H[y_i | y_1..y_{i-1}], with the same
    joint state as :func:`batchbald`. The joint mutual information of a batch
    is this minus the sum of its rows' expected entropies.

    Examples
    --------
    >>> import numpy as np
    >>> from skbal.acquisition import joint_entropy
    >>> one_hot = np.array([[0.0, -np.inf], [-np.inf, 0.0]])  # draw 0 says class 0, draw 1 class 1
    >>> round(joint_entropy(np.stack([one_hot, one_hot])), 4)  # duplicates: one bit of surprise
    0.6931
    """
    array = as_log_probs_array(log_probs)
    n_joint_samples = check_count(n_joint_samples, "n_joint_samples")
    probs_K_N_C, _, _ = _prepare(array)
    state = _JointState(array.shape[1], n_joint_samples, check_random_state(random_state))
    total = 0.0
    for i in range(array.shape[0]):
        total += float(state.conditional_entropies(probs_K_N_C[:, i : i + 1])[0])
        if i + 1 < array.shape[0]:
            state.extend(probs_K_N_C[:, i])
    return total
