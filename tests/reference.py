"""A clarity-first NumPy reference for :mod:`skbal.acquisition`.

Written from the definitions in DESIGN.md, independently of skbal (nothing
here imports skbal). Everything is float64, loops are used where they make
the formula obvious, and ``0 * log 0 = 0`` (a log-probability of ``-inf`` is
a legal zero probability).

``log_probs`` has shape (N, K, C): N pool rows, K posterior draws (draw k is
shared by all rows), C classes, natural-log probabilities.

The BatchBALD part is brute force: the joint distribution of the labels of a
set of rows is enumerated over all C**n label configurations, so keep n small.
"""

import itertools

import numpy as np


def probs(log_probs):
    """Probabilities of shape (N, K, C) in float64."""
    return np.exp(np.asarray(log_probs, dtype=np.float64))


def entropy(p):
    """Entropy in nats of one probability vector, with 0 * log 0 = 0."""
    total = 0.0
    for p_c in p:
        if p_c > 0:
            total -= p_c * np.log(p_c)
    return total


def mean_probs(log_probs):
    """Posterior predictive p̄(y | x) = mean over the K draws, shape (N, C)."""
    return probs(log_probs).mean(axis=1)


# ---------------------------------------------------------------------------
# Scores, each of shape (N,)
# ---------------------------------------------------------------------------


def predictive_entropy(log_probs):
    """H[y | x] = -sum_c p̄_c log p̄_c."""
    return np.array([entropy(p_bar) for p_bar in mean_probs(log_probs)])


def expected_entropy(log_probs):
    """(1/K) sum_k H[y | x, ω_k]."""
    p = probs(log_probs)
    n, k, _ = p.shape
    return np.array([sum(entropy(p[i, j]) for j in range(k)) / k for i in range(n)])


def bald(log_probs):
    """I[y; ω | x] = predictive - expected entropy, clamped at 0."""
    return np.maximum(predictive_entropy(log_probs) - expected_entropy(log_probs), 0.0)


def margin(log_probs):
    """-(p̄_(1) - p̄_(2)): minus the gap between the two largest mean probabilities."""
    out = []
    for p_bar in mean_probs(log_probs):
        largest, second = sorted(p_bar, reverse=True)[:2]
        out.append(-(largest - second))
    return np.array(out)


def least_confidence(log_probs):
    """1 - max_c p̄_c."""
    return np.array([1.0 - max(p_bar) for p_bar in mean_probs(log_probs)])


def variation_ratios(log_probs):
    """1 - (count of the modal per-draw argmax) / K; argmax ties -> lowest class."""
    lp = np.asarray(log_probs, dtype=np.float64)
    n, k, c = lp.shape
    out = []
    for i in range(n):
        votes = [0] * c
        for j in range(k):
            votes[int(np.argmax(lp[i, j]))] += 1  # np.argmax: first maximum
        out.append(1.0 - max(votes) / k)
    return np.array(out)


def mean_std(log_probs):
    """Mean over classes of the population (ddof=0) std over draws of p_kc."""
    p = probs(log_probs)
    n, k, c = p.shape
    out = []
    for i in range(n):
        stds = []
        for cls in range(c):
            column = p[i, :, cls]
            mean = column.sum() / k
            stds.append(np.sqrt(((column - mean) ** 2).sum() / k))
        out.append(sum(stds) / c)
    return np.array(out)


SCORES = {
    "predictive_entropy": predictive_entropy,
    "expected_entropy": expected_entropy,
    "bald": bald,
    "margin": margin,
    "least_confidence": least_confidence,
    "variation_ratios": variation_ratios,
    "mean_std": mean_std,
}


# ---------------------------------------------------------------------------
# Selection
# ---------------------------------------------------------------------------


def top_k(scores, k):
    """Indices of the k highest scores, descending, ties -> lower index."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return np.array(order[:k], dtype=np.int64)


# ---------------------------------------------------------------------------
# Joint entropy and BatchBALD by brute-force enumeration
# ---------------------------------------------------------------------------


def joint_distribution_bruteforce(log_probs):
    """p(y_1..y_n) for every label configuration, shape (C**n,).

    p(y_1..y_n) = (1/K) sum_k prod_i p(y_i | ω_k), enumerated with
    itertools.product over all C**n configurations.
    """
    p = probs(log_probs)
    n, k, c = p.shape
    rows = np.arange(n)
    joint = []
    for config in itertools.product(range(c), repeat=n):
        p_config_given_draw = p[rows, :, list(config)].prod(axis=0)  # (K,)
        joint.append(p_config_given_draw.mean())
    return np.array(joint)


def joint_entropy_bruteforce(log_probs):
    """H[y_1, ..., y_n] of all rows of ``log_probs`` (0 for n = 0)."""
    if len(log_probs) == 0:
        return 0.0
    return entropy(joint_distribution_bruteforce(log_probs))


def joint_log_prob_variance(log_probs):
    """Var[log p(y_1..y_n)] for y ~ p, by enumeration.

    The plain Monte-Carlo estimate of the joint entropy, -(1/M) sum_m
    log p(y_m) with y_m ~ p, has standard error sqrt(this / M).
    """
    joint = joint_distribution_bruteforce(log_probs)
    joint = joint[joint > 0]
    log_joint = np.log(joint)
    mean = (joint * log_joint).sum()
    return float((joint * (log_joint - mean) ** 2).sum())


def joint_mutual_information(log_probs):
    """I[y_1..y_n; ω] = H[y_1..y_n] - sum_i expected_entropy_i."""
    return joint_entropy_bruteforce(log_probs) - expected_entropy(log_probs).sum()


def batchbald_gains(log_probs, chosen):
    """Gain of every row given the rows ``chosen`` so far, shape (N,).

    gain(x) = I[y_chosen, y_x; ω] - I[y_chosen; ω]
            = H[y_chosen, y_x] - H[y_chosen] - expected_entropy_x.
    Rows already chosen get -inf.
    """
    lp = np.asarray(log_probs, dtype=np.float64)
    expected = expected_entropy(lp)
    h_chosen = joint_entropy_bruteforce(lp[list(chosen)])
    gains = np.full(len(lp), -np.inf)
    for x in range(len(lp)):
        if x not in chosen:
            h_joint = joint_entropy_bruteforce(lp[list(chosen) + [x]])
            gains[x] = h_joint - h_chosen - expected[x]
    return gains


def batchbald_greedy(log_probs, batch_size):
    """Greedy BatchBALD by brute force.

    Returns ``(indices, gains, all_gains)``: the chosen rows, each step's
    gain, and the gains of every row at every step (shape (batch_size, N),
    -inf for rows chosen earlier). Ties go to the lower index (np.argmax).
    """
    chosen, gains, all_gains = [], [], []
    for _ in range(batch_size):
        step_gains = batchbald_gains(log_probs, chosen)
        best = int(np.argmax(step_gains))
        chosen.append(best)
        gains.append(step_gains[best])
        all_gains.append(step_gains)
    return np.array(chosen, dtype=np.int64), np.array(gains), np.array(all_gains)


# ---------------------------------------------------------------------------
# Test data
# ---------------------------------------------------------------------------


def random_log_probs(rng, n, k, c, *, concentration=1.0, spread=5.0, dtype=np.float64):
    """Random posterior samples of shape (n, k, c) as log-probabilities.

    Each row has a mean m_i ~ Dirichlet(concentration), and each draw
    p_ik ~ Dirichlet(spread * m_i + 1e-3): a small ``concentration`` gives
    peaked rows, a small ``spread`` draws that disagree (high BALD).
    """
    means = rng.dirichlet(np.full(c, concentration), size=n)
    p = np.stack([rng.dirichlet(spread * m + 1e-3, size=k) for m in means])
    with np.errstate(divide="ignore"):
        return np.log(p).astype(dtype)


def one_hot_log_probs(labels, c):
    """Log-probabilities (0 / -inf) of deterministic draws; labels has shape (N, K)."""
    labels = np.asarray(labels)
    lp = np.full(labels.shape + (c,), -np.inf)
    np.put_along_axis(lp, labels[..., None], 0.0, axis=-1)
    return lp


def batchbald_greedy_dense(log_probs, batch_size):
    """Plain greedy BatchBALD scoring every row at every step, vectorised.

    The same definitions as :func:`batchbald_greedy`, for pools of a few
    hundred rows: p(y_S = m | ω_k) is kept for all C**|S| configurations m
    of the chosen rows, and for every candidate x
    H[y_S, y_x] = -sum_{m, c} q log q with q = (1/K) sum_k p(m | ω_k) p(c | x, ω_k).
    Returns ``(indices, gains, all_gains)`` like :func:`batchbald_greedy`.
    """
    p = probs(log_probs)
    n, k, _ = p.shape
    expected = expected_entropy(log_probs)

    def entropy_of(q, axes):
        return -np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0).sum(axis=axes)

    given_draw = np.ones((1, k))  # p(y_S = m | ω_k), shape (C**|S|, K)
    chosen, gains, all_gains = [], [], []
    for _ in range(batch_size):
        joint = np.einsum("mk,nkc->nmc", given_draw, p) / k
        h_chosen = entropy_of(given_draw.mean(axis=1), 0)
        step_gains = entropy_of(joint, (1, 2)) - h_chosen - expected
        step_gains[chosen] = -np.inf
        best = int(np.argmax(step_gains))
        chosen.append(best)
        gains.append(step_gains[best])
        all_gains.append(step_gains)
        given_draw = (given_draw[:, None, :] * p[best].T[None, :, :]).reshape(-1, k)
    return np.array(chosen, dtype=np.int64), np.array(gains), np.array(all_gains)


def clustered_log_probs(rng, n, k, c, *, n_clusters=6, spread=0.1):
    """Posterior samples with near-duplicate rows, like an MC-dropout model's.

    Each row has a latent feature vector near one of ``n_clusters`` centres;
    draw k is a linear map W_k shared by every row (consistent draws), so
    rows of a cluster make redundant predictions and the joint mutual
    information of a batch saturates at log K after a few points.
    """
    centres = rng.normal(size=(n_clusters, 3))
    features = centres[rng.integers(n_clusters, size=n)] + spread * rng.normal(size=(n, 3))
    weights = 1.5 * rng.normal(size=(k, 3, c))
    logits = 2.0 * rng.normal(size=(n, 1, c)) + np.einsum("nd,kdc->nkc", features, weights)
    logits -= logits.max(axis=-1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
