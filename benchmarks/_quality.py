"""An independent judge of a selected batch: its joint mutual information.

BatchBALD implementations agree exactly only while the joint entropy is
enumerated; once they sample label configurations their choices depend on
their random numbers, so index overlap alone cannot say whether a batch is
worse. This module estimates I[y_1..y_b; ω] of any batch with code shared by
none of the libraries:

    I = H[y_1..y_b] - Σ_i E_ω H[y_i | ω]

The second term is exact. The joint entropy is E_y[-log p(y)] under
p(y) = (1/K) Σ_k Π_i p(y_i | ω_k): y is drawn by ancestral sampling (a
draw k uniformly, then every y_i from p(y_i | ω_k)) and -log p(y) is
evaluated exactly (a log-sum-exp over the K draws), so the estimate is
unbiased and its standard error is reported.
"""

from __future__ import annotations

import numpy as np


def joint_mutual_information(log_probs_N_K_C, indices, n_samples: int = 20_000, seed: int = 12345):
    """(estimate, standard error) of I[y_indices; ω] in nats."""
    lp = np.asarray(log_probs_N_K_C)[np.asarray(indices, dtype=np.int64)].astype(np.float64)
    b, K, C = lp.shape
    p = np.exp(lp)
    with np.errstate(invalid="ignore"):
        plogp = np.where(p > 0, p * lp, 0.0)
    expected_conditional = float(-plogp.sum(-1).mean(-1).sum())

    rng = np.random.default_rng(seed)
    cdf = np.cumsum(p, axis=-1)  # (b, K, C)
    surprisal = np.empty(n_samples)
    step = max(1, min(n_samples, (1 << 22) // max(1, K * b)))
    for start in range(0, n_samples, step):
        S = min(step, n_samples - start)
        draws = rng.integers(K, size=S)
        u = rng.random((b, S, 1))
        labels = np.minimum((u > cdf[:, draws, :]).sum(-1), C - 1)  # (b, S)
        log_joint_K_S = np.zeros((K, S))
        for i in range(b):
            log_joint_K_S += lp[i][:, labels[i]]
        top = log_joint_K_S.max(axis=0)
        log_p = top + np.log(np.exp(log_joint_K_S - top).sum(axis=0)) - np.log(K)
        surprisal[start : start + S] = -log_p
    entropy = surprisal.mean()
    return float(entropy - expected_conditional), float(surprisal.std(ddof=1) / np.sqrt(n_samples))
