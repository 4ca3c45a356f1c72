"""Failures seen in the reference implementations, which skbal must not repeat.

- batchbald_redux 2.0.5 (float32 default): NaN scores for batches of ~40+,
  and every score NaN once a single log-probability is -inf.
- baal 2.1.0 PowerBALD: a BALD score of -2e-16 (round-off) turns the
  sampling weights NaN and silently falls back to uniform picks.
"""

import numpy as np
import pytest

from skbal.acquisition import bald, batchbald, stochastic_top_k


def _samples(n, k, c, seed, dtype):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 1, c)) * rng.uniform(0.5, 4.0, size=(n, 1, 1)) + rng.normal(size=(n, k, c))
    return (logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchbald_batch_of_50_has_finite_gains(dtype):
    indices, gains = batchbald(_samples(300, 20, 10, 0, dtype), 50, n_joint_samples=2_000, random_state=0)
    assert np.isfinite(gains).all() and (gains >= 0).all()
    assert np.unique(indices).size == 50


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_zero_probability_does_not_poison_the_scores(dtype):
    log_probs = _samples(200, 20, 10, 1, dtype)
    log_probs[7, 3, :] = np.log(np.full(10, 1 / 9, dtype=dtype))
    log_probs[7, 3, 4] = -np.inf  # one class impossible under one draw
    indices, gains = batchbald(log_probs, 12, n_joint_samples=2_000, random_state=0)
    assert np.isfinite(gains).all()
    scores = bald(log_probs)
    assert np.isfinite(scores).all()
    # The row with the zero still gets its ordinary score (not NaN, not 0).
    assert scores[7] == pytest.approx(bald(np.delete(log_probs, [i for i in range(200) if i != 7], axis=0))[0])


def test_power_selection_with_round_off_negative_scores_is_not_uniform():
    scores = np.concatenate([[-2e-16], np.linspace(0.01, 1.0, 99)])
    picks = np.array([stochastic_top_k(scores, 1, random_state=seed)[0] for seed in range(2_000)])
    assert (picks != 0).all()  # score <= 0 comes only after every positive one
    # Power sampling with T=1: the top tenth of scores holds ~19 % of the mass;
    # uniform picks would give ~10 %.
    assert np.mean(picks >= 90) > 0.15
