"""Seeded synthetic posterior samples and pools for the benchmarks.

Every library is timed on the same arrays: they are generated once per
(N, K, C) in the parent process, saved as ``.npy`` and loaded by each child.

The log-probabilities imitate an MC-dropout model rather than i.i.d. noise:

- each row n has a latent feature vector ``f_n`` (dimension 8) drawn around
  one of 64 cluster centres (so the pool has near-duplicates, which is what
  separates BatchBALD from top-k BALD);
- each draw k is a random linear "weight perturbation" ``W_k`` (8 x C)
  shared by every row (consistent draws: ``[:, k, :]`` is one model);
- row n has a most-likely class with a margin ``m_n ~ min(Gamma(2.5, 2), 16)`` plus
  N(0, 1) noise in its base logits ``b_n``, a confidence scale
  ``s_n ~ clip(LogNormal(0.2, 0.4), 0.3, 3)`` and an epistemic spread
  ``σ_n = 0.05 + 3 Beta(0.5, 4)`` (most rows small, a long tail);
- logits ``z_nkc = s_n (b_nc + σ_n (f_n W_k)_c)``, and
  ``log_probs = log_softmax(z)`` over the classes, stored as float32 (what
  :func:`skbal.sample_log_proba` returns).

The BALD scores are therefore skewed like a real model's: most rows near 0,
a tail of a few percent of high-disagreement rows (the generator's summary is
printed by ``python benchmarks/_generator.py``).
"""

from __future__ import annotations

import numpy as np

N_FEATURES = 8
N_CLUSTERS = 64


def make_log_probs(n_samples: int, n_draws: int, n_classes: int, seed: int = 0) -> np.ndarray:
    """float32 array (n_samples, n_draws, n_classes) of natural-log probabilities."""
    rng = np.random.default_rng([seed, n_samples, n_draws, n_classes])
    centres = rng.standard_normal((N_CLUSTERS, N_FEATURES))
    features = centres[rng.integers(N_CLUSTERS, size=n_samples)]
    features += 0.3 * rng.standard_normal((n_samples, N_FEATURES))
    weights = rng.standard_normal((n_draws, N_FEATURES, n_classes)) / np.sqrt(N_FEATURES)

    base = rng.standard_normal((n_samples, n_classes))
    margin = np.minimum(rng.gamma(2.5, 2.0, size=n_samples), 16.0)
    base[np.arange(n_samples), rng.integers(n_classes, size=n_samples)] += margin
    scale = np.clip(rng.lognormal(0.2, 0.4, size=n_samples), 0.3, 3.0)
    spread = 0.05 + 3.0 * rng.beta(0.5, 4.0, size=n_samples)

    out = np.empty((n_samples, n_draws, n_classes), dtype=np.float32)
    step = max(1, (1 << 22) // (n_draws * n_classes))
    for start in range(0, n_samples, step):
        rows = slice(start, start + step)
        logits = np.einsum("nd,kdc->nkc", features[rows], weights)
        logits *= spread[rows, None, None]
        logits += base[rows, None, :]
        logits *= scale[rows, None, None]
        logits -= logits.max(axis=-1, keepdims=True)
        logits -= np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        out[rows] = logits
    return out


def make_pool(n_rows: int, n_features: int, seed: int = 0) -> np.ndarray:
    """float32 standard-normal inputs (n_rows, n_features) for the MC-inference benchmark."""
    rng = np.random.default_rng([seed, n_rows, n_features])
    return rng.standard_normal((n_rows, n_features), dtype=np.float32)


def summary(log_probs: np.ndarray) -> dict:
    """Quantiles of BALD and predictive entropy (float64), to document the generator."""
    probs = np.exp(log_probs.astype(np.float64))
    mean = probs.mean(axis=1)
    entropy = -(mean * np.log(np.maximum(mean, 1e-300))).sum(-1)
    expected = -(probs * log_probs).sum(-1).mean(-1)
    bald = np.maximum(entropy - expected, 0.0)
    q = [0.5, 0.9, 0.99, 1.0]
    return {
        "bald_quantiles": dict(zip(map(str, q), np.quantile(bald, q).round(4).tolist())),
        "bald_mean": round(float(bald.mean()), 4),
        "entropy_quantiles": dict(zip(map(str, q), np.quantile(entropy, q).round(4).tolist())),
        "max_prob_median": round(float(np.median(mean.max(-1))), 4),
        "min_log_prob": float(log_probs.min()),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(summary(make_log_probs(10_000, 20, 10)), indent=1))
