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

Screening by grouped configurations: for a fixed candidate, the mutual
information I(A) of the channel ω -> y_x is concave in the distribution A
over the draws, so merging configurations into groups (weights added,
posteriors averaged with those weights) can only raise the gain:
Σ_m w_m I(A_m) <= Σ_g w_g I(Σ_{m in g} w_m A_m / w_g). With a few dozen
groups of configurations whose posteriors are alike (same most likely draw,
similar confidence) the bound is within a few percent of the gain and costs
M / G times less to compute, so most candidates are ruled out without being
scored against every configuration.
"""

from __future__ import annotations

import copy

import numpy as np

from skbal.acquisition._scores import _predictive_entropy_kernel, plogp_class_sums
from skbal.acquisition._validation import as_log_probs_array, check_count, map_prob_chunks
from skbal.utils import check_random_state
from skbal.utils._threads import one_blas_thread

#: Default number of sampled label configurations (as batchbald_redux).
N_JOINT_SAMPLES = 10_000

# Largest (candidates x classes x configurations) block scored at once:
# 2**18 float64 = 2 MiB per temporary, so that the passes over a block
# (product, log, multiply, weighted sum) run in cache.
_BLOCK_ELEMENTS = 1 << 18

# Lazy greedy first scores this many candidates with the highest bounds;
# later blocks double in size up to _MAX_LAZY_CANDIDATES.
_HEAD_CANDIDATES = 8
_MAX_LAZY_CANDIDATES = 512

# The other candidates are screened in chunks of this many, then twice as
# many, ..., by decreasing bound, so that the best gain found in one chunk
# rules out more of the next.
_FIRST_CHUNK = 2048

# Gains this close to the best are ties, broken by the lower index.
_TIE_RTOL, _TIE_ATOL = 1e-12, 1e-15

# Candidates are screened by successively finer groupings of the
# configurations (_JointState.grouped), each used when it has at least
# _MIN_GROUPING_GAIN times fewer groups than there are configurations.
_GROUPS_PER_DRAW = (1, 8, 64)
_MIN_GROUPING_GAIN = 4

# A grouped bound is computed in float32, with its round-off bound added,
# when that round-off bound is at most this share of the best gain so far.
_FLOAT32_SHARE = 1 / 8

# A candidate is re-scored when its bound reaches the best fresh gain minus
# this margin. While exact: 1e-9, so that the round-off of a grouped bound
# (computed by other sums than the gain) never rules out a winner or a tie.
# Once sampled, gains are float32 Monte-Carlo estimates whose round-off is
# about 1e-6 nats: a negative margin, so that a bound that exceeds the best
# by less than that does not send its candidate to be scored (gains that
# close cannot be told apart at that precision).
_BOUND_MARGIN = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): -1e-6}


class _JointState:
    """Label configurations of the chosen points and p(ω | configuration)."""

    def __init__(self, n_draws: int, max_configurations: int, rng: np.random.Generator):
        self.posterior_K_M = np.full((n_draws, 1), 1.0 / n_draws)
        self.weights_M = np.ones(1)
        self.sampled = False
        self.max_configurations = max_configurations
        self.rng = rng
        self.dtype = None  # the scoring precision, if not the regime's
        self._scoring = None
        self._grouped = {}

    @property
    def n_configurations(self) -> int:
        return self.posterior_K_M.shape[1]

    @property
    def scoring_dtype(self) -> np.dtype:
        """float64 while exact, float32 when sampled (its Monte-Carlo error
        dwarfs float32 round-off)."""
        if self.dtype is not None:
            return np.dtype(self.dtype)
        return np.dtype(np.float32 if self.sampled else np.float64)

    def draw_posterior_K(self) -> np.ndarray:
        """p(ω_k) averaged over configurations (1/K in the exact regime)."""
        return self._scoring_arrays()[2]

    def _scoring_arrays(self):
        """(A, w, p(ω)), computed once per state; A and w in the scoring precision."""
        if self._scoring is None:
            dtype = self.scoring_dtype
            self._scoring = (
                np.ascontiguousarray(self.posterior_K_M, dtype=dtype),
                self.weights_M.astype(dtype),
                self.posterior_K_M @ self.weights_M,
            )
        return self._scoring

    def conditional_entropies(self, probs_n_C_K: np.ndarray) -> np.ndarray:
        """H[y_x | y_S] for each of the n candidates, shape (n,)."""
        n_candidates, n_classes, n_draws = probs_n_C_K.shape
        posterior_K_M, weights_M, _ = self._scoring_arrays()
        # p(y_x = c | configuration m) for every (candidate, class) row.
        predictive_nC_M = probs_n_C_K.reshape(-1, n_draws).astype(posterior_K_M.dtype, copy=False) @ posterior_K_M
        # p log p with 0 log 0 = 0: tiny * log(tiny) is ~1e-305 (float64), ~1e-36 (float32).
        np.maximum(predictive_nC_M, np.finfo(posterior_K_M.dtype).tiny, out=predictive_nC_M)
        plogp_nC_M = np.log(predictive_nC_M)
        plogp_nC_M *= predictive_nC_M
        # Weight over configurations (one matrix-vector product), then sum
        # the C classes of the small result.
        weighted_nC = (plogp_nC_M @ weights_M).astype(np.float64)
        return -weighted_nC.reshape(n_candidates, n_classes).sum(axis=-1)

    def grouped(self, groups_per_draw: int, dtype=np.float64) -> _JointState | None:
        """The configurations merged into groups of alike posteriors.

        Configurations are grouped by their most likely draw, and each such
        group is cut into ``groups_per_draw`` groups of about equal size by
        that draw's posterior probability. Gains against the grouped state
        bound this state's gains from above (concavity: module docstring).
        The grouped state scores in ``dtype``. None when there would not be
        ``_MIN_GROUPING_GAIN`` times fewer groups than configurations.
        Cached per state.
        """
        key = (groups_per_draw, np.dtype(dtype))
        if key not in self._grouped:
            if np.dtype(dtype) == np.float64:
                grouped = self._make_grouped(groups_per_draw)
            else:
                grouped = copy.copy(self.grouped(groups_per_draw))
                if grouped is not None:
                    grouped.dtype, grouped._scoring = np.dtype(dtype), None
            self._grouped[key] = grouped
        return self._grouped[key]

    def _make_grouped(self, groups_per_draw: int) -> _JointState | None:
        posterior_K_M, weights_M = self.posterior_K_M, self.weights_M
        n_draws, n_configurations = posterior_K_M.shape
        if n_configurations < 2 * _MIN_GROUPING_GAIN:
            return None
        top_M = posterior_K_M.argmax(axis=0)
        if groups_per_draw == 1:
            label_M = top_M
        else:
            # Rank of each configuration among those with the same top draw,
            # by that draw's probability; the ranks cut into equal-count bins.
            confidence_M = posterior_K_M[top_M, np.arange(n_configurations)]
            order_M = np.lexsort((confidence_M, top_M))
            count_K = np.bincount(top_M, minlength=n_draws)
            sorted_top_M = top_M[order_M]
            rank_M = np.arange(n_configurations) - (np.cumsum(count_K) - count_K)[sorted_top_M]
            label_M = np.empty(n_configurations, dtype=np.int64)
            label_M[order_M] = sorted_top_M * groups_per_draw + rank_M * groups_per_draw // count_K[sorted_top_M]
        order_M = np.argsort(label_M, kind="stable")
        sorted_label_M = label_M[order_M]
        first_G = np.flatnonzero(np.r_[True, sorted_label_M[1:] != sorted_label_M[:-1]])
        if first_G.size * _MIN_GROUPING_GAIN > n_configurations:
            return None
        # Each group's weight, and its weighted mean posterior.
        weights_G = np.add.reduceat(weights_M[order_M], first_G)
        mass_K_G = np.add.reduceat((posterior_K_M * weights_M)[:, order_M], first_G, axis=1)
        keep_G = weights_G > 0.0  # configurations of weight 0 (underflow) add nothing
        grouped = _JointState(n_draws, self.max_configurations, self.rng)
        grouped.posterior_K_M = mass_K_G[:, keep_G] / weights_G[keep_G]
        grouped.weights_M = weights_G[keep_G]
        return grouped

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
        self._grouped = {}


def _normalised_rows(probs_M_C: np.ndarray) -> np.ndarray:
    """Rows summing to 1 within numpy's multinomial check (round-off only)."""
    return probs_M_C / probs_M_C.sum(axis=1, keepdims=True)


def _prepare(log_probs):
    """One validated pass: probabilities (N, C, K), per-draw entropies (N, K), BALD (N,).

    The probabilities keep the input's precision (float32 input: half the
    memory), with the draws last so that a block of candidates is a
    contiguous (candidates x classes, draws) matrix; entropies and BALD are
    float64.
    """
    array = as_log_probs_array(log_probs)
    n_samples, n_draws, n_classes = array.shape
    probs_N_C_K = np.empty((n_samples, n_classes, n_draws), dtype=array.dtype)
    entropies_N_K = np.empty((n_samples, n_draws))
    bald_N = np.empty(n_samples)

    def prepare(rows, log_probs_n_K_C, probs_n_K_C):
        probs_N_C_K[rows] = probs_n_K_C.transpose(0, 2, 1)
        # BALD = predictive entropy - expected entropy (as skbal.acquisition.bald)
        bald_n = _predictive_entropy_kernel(log_probs_n_K_C, probs_n_K_C)
        plogp_n_K = plogp_class_sums(log_probs_n_K_C, probs_n_K_C, overwrite=True)  # probs are used up
        np.negative(plogp_n_K, out=entropies_N_K[rows])
        bald_n -= 0.0 - plogp_n_K.mean(axis=-1, dtype=np.float64)
        bald_N[rows] = np.maximum(bald_n, 0.0, out=bald_n)

    # One thread: in the benchmark's fresh processes, two threads filling the
    # large fresh arrays above made BatchBALD 20-40 % slower at N = 50,000.
    map_prob_chunks(array, prepare, threads=False)
    return probs_N_C_K, entropies_N_K, bald_N


def _gains(state: _JointState, probs_N_C_K, entropies_N_K, candidates_n) -> np.ndarray:
    """I[y_x; ω | y_S] for the candidates, in blocks of the memory budget."""
    n_classes = probs_N_C_K.shape[1]
    step = max(1, _BLOCK_ELEMENTS // (state.n_configurations * n_classes))
    gains_n = np.empty(candidates_n.size)
    for start in range(0, candidates_n.size, step):
        part_n = candidates_n[start : start + step]
        gains_n[start : start + step] = state.conditional_entropies(probs_N_C_K[part_n])
    gains_n -= entropies_N_K[candidates_n] @ state.draw_posterior_K()
    return np.maximum(gains_n, 0.0, out=gains_n)


def _float32_error(n_draws: int, n_classes: int, n_groups: int) -> float:
    """A bound on the round-off of a gain scored in float32 against
    ``n_groups`` configurations, twice the first-order worst case.

    With u = 2**-24: each p(y = c | group) is a K-term sum of non-negative
    float32 products (relative error (K + 1) u, the posterior rounded to
    float32 included), which moves -p log p by at most (K + 1) u since
    |p (1 + log p)| <= 1 on [0, 1]; the float32 log and product add 2 u per
    class; the weighted sum of the G groups' non-negative terms adds
    (G + 1) u times their total, at most log C. The per-draw entropies are
    float64.
    """
    unit = float(np.finfo(np.float32).eps) / 2
    return 2 * unit * (n_classes * (n_draws + 3) + (n_groups + 1) * float(np.log(n_classes)))


def _tie_threshold(best: float) -> float:
    """Gains at or above this are ties with ``best`` (round-off, 1e-12 relative).

    Identical pool rows have equal gains in exact arithmetic, but a matrix
    product may round their columns differently; the lower index must win.
    """
    return best - _TIE_RTOL * abs(best) - _TIE_ATOL


def _lazy_greedy_step(state, probs_N_C_K, entropies_N_K, bounds_N, available_N) -> int:
    """Choose the next point, re-scoring only candidates that could still win.

    ``bounds_N`` holds an upper bound on each candidate's gain (its BALD
    score at first, later its last computed gain or grouped bound): gains
    only shrink as the batch grows (submodularity), so bounds stay valid.
    A step (1) scores the few candidates with the highest bounds; (2) takes
    the others that could still beat the best gain so far, by decreasing
    bound, in chunks: a chunk's bounds are tightened against grouped
    configurations (:meth:`_JointState.grouped`, coarse then finer: cheap),
    then the candidates whose bound still reaches the best gain are scored,
    by decreasing bound, in growing blocks, until none does. Fresh gains and
    grouped bounds are written back into ``bounds_N``. Same choice as plain
    greedy (exactly, in the exact regime).
    """
    candidates_n = np.flatnonzero(available_N)
    # A bound of 0 is exact (gains are >= 0): such candidates need no re-scoring.
    positive = bounds_N[candidates_n] > 0.0
    positive_n = candidates_n[positive]
    best = -np.inf if positive.all() else 0.0
    fresh = [candidates_n[~positive]]
    margin = _BOUND_MARGIN[state.scoring_dtype]

    def score(part_n):
        nonlocal best
        if part_n.size == 0:
            return
        bounds_N[part_n] = _gains(state, probs_N_C_K, entropies_N_K, part_n)
        best = max(best, float(bounds_N[part_n].max()))
        fresh.append(part_n)

    # (1) The highest bounds first: a lower bound on the best gain.
    head = _HEAD_CANDIDATES
    if positive_n.size > head:
        is_head = np.zeros(positive_n.size, dtype=bool)
        is_head[np.argpartition(-bounds_N[positive_n], head - 1)[:head]] = True
        score(positive_n[is_head])
        rest_n = positive_n[~is_head]
    else:
        score(positive_n)
        rest_n = positive_n[:0]
    # (2) The others that could still win, by decreasing bound, in growing
    # chunks: each chunk is screened against grouped configurations, then
    # its survivors are scored by decreasing bound while one could win.
    rest_n = rest_n[bounds_N[rest_n] + margin >= _tie_threshold(best)]
    rest_n = rest_n[np.argsort(-bounds_N[rest_n], kind="stable")]
    start, chunk = 0, _FIRST_CHUNK
    while start < rest_n.size:
        part_n = rest_n[start : start + chunk]
        start, chunk = start + chunk, 2 * chunk
        part_n = part_n[bounds_N[part_n] + margin >= _tie_threshold(best)]
        if part_n.size == 0:
            break  # the later chunks' bounds are lower still
        part_n = _screen(state, probs_N_C_K, entropies_N_K, bounds_N, part_n, best, margin)
        part_n = part_n[np.argsort(-bounds_N[part_n], kind="stable")]
        done, size = 0, head
        while done < part_n.size and bounds_N[part_n[done]] + margin >= _tie_threshold(best):
            score(part_n[done : done + size])
            done, size = done + size, min(2 * size, _MAX_LAZY_CANDIDATES)
    fresh_n = np.concatenate(fresh)
    return int(fresh_n[bounds_N[fresh_n] >= _tie_threshold(best)].min())


def _screen(state, probs_N_C_K, entropies_N_K, bounds_N, candidates_n, best, margin) -> np.ndarray:
    """Tighten the candidates' bounds against coarse, then finer, groupings of
    the configurations; return those whose bound still reaches ``best``."""
    n_draws, n_classes = entropies_N_K.shape[1], probs_N_C_K.shape[1]
    for groups_per_draw in _GROUPS_PER_DRAW:
        grouped = state.grouped(groups_per_draw) if candidates_n.size else None
        if grouped is None:
            continue
        # float32 is several times faster. While exact, its round-off bound
        # is added (if small enough to leave the bound useful); once sampled,
        # bounds are float32 like the gains they are compared with.
        error = 0.0 if state.sampled else _float32_error(n_draws, n_classes, grouped.n_configurations)
        if error <= _FLOAT32_SHARE * best:
            bound_n = _gains(state.grouped(groups_per_draw, np.float32), probs_N_C_K, entropies_N_K, candidates_n)
            bound_n += error
        else:
            bound_n = _gains(grouped, probs_N_C_K, entropies_N_K, candidates_n)
        bounds_N[candidates_n] = np.minimum(bounds_N[candidates_n], bound_n)
        candidates_n = candidates_n[bounds_N[candidates_n] + margin >= _tie_threshold(best)]
    return candidates_n


def _argmax_lowest_index(gains_N: np.ndarray) -> int:
    """argmax with ties (up to round-off) going to the lowest index."""
    return int(np.flatnonzero(gains_N >= _tie_threshold(gains_N.max()))[0])


def batchbald(
    log_probs,
    batch_size: int,
    *,
    n_joint_samples: int = N_JOINT_SAMPLES,
    random_state=None,
    callback=None,
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
    callback : callable, default=None
        Called as ``callback(index, gain)`` right after each point is
        chosen, e.g. to drive a progress bar (skbal's :class:`~skbal.BatchBALD`
        does with ``verbose`` on). Its return value is ignored.

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
    at a fraction of the work. Before a candidate is scored against every
    configuration, it is bounded against groups of configurations with alike
    posteriors (merging configurations can only raise a gain), which rules
    out most candidates at a small fraction of the cost. In the sampled
    regime, where gains are estimates, the bounds are approximate, and
    candidates whose bound exceeds the best estimate by less than the float32
    resolution of the estimates (1e-6 nats) are not re-scored.

    The matrix products work on cache-sized blocks; BLAS runs on one thread
    during the call (threads cost more in synchronisation than they save on
    blocks this size, and far more on a busy machine).

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
    >>> _ = batchbald(log_probs, 2, callback=lambda i, gain: print(i, round(gain, 4)))
    0 0.6931
    1 0.0
    """
    array = as_log_probs_array(log_probs)
    n_samples, n_draws, _ = array.shape
    batch_size = check_count(batch_size, "batch_size", high=n_samples, high_name="the number of samples")
    n_joint_samples = check_count(n_joint_samples, "n_joint_samples")
    rng = check_random_state(random_state)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {callback!r}.")

    probs_N_C_K, entropies_N_K, gains_N = _prepare(array)
    state = _JointState(n_draws, n_joint_samples, rng)
    available_N = np.ones(n_samples, dtype=bool)
    indices, gains = [], []
    best = _argmax_lowest_index(gains_N)  # the first gain is the BALD score
    with one_blas_thread():
        for step in range(batch_size):
            if step > 0:
                state.extend(probs_N_C_K[best].T)
                best = _lazy_greedy_step(state, probs_N_C_K, entropies_N_K, gains_N, available_N)
            indices.append(best)
            gains.append(float(gains_N[best]))
            available_N[best] = False
            if callback is not None:
                callback(best, gains[-1])
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
    probs_N_C_K, _, _ = _prepare(array)
    state = _JointState(array.shape[1], n_joint_samples, check_random_state(random_state))
    total = 0.0
    for i in range(array.shape[0]):
        total += float(state.conditional_entropies(probs_N_C_K[i : i + 1])[0])
        if i + 1 < array.shape[0]:
            state.extend(probs_N_C_K[i].T)
    return total
