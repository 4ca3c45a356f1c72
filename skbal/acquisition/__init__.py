"""Acquisition: pure functions from posterior samples to scores and batches.

Every function takes natural-log class probabilities of shape
(n_samples, n_mc_samples, n_classes) — numpy or torch, float32 or float64 —
and returns numpy arrays. Nothing here knows about estimators.
"""

from skbal.acquisition._batchbald import batchbald, joint_entropy
from skbal.acquisition._scores import (
    bald,
    expected_entropy,
    least_confidence,
    margin,
    mean_std,
    predictive_entropy,
    variation_ratios,
)
from skbal.acquisition._selection import STOCHASTIC_MODES, stochastic_top_k, top_k
from skbal.acquisition._validation import check_log_probs

__all__ = [
    "STOCHASTIC_MODES",
    "bald",
    "batchbald",
    "check_log_probs",
    "expected_entropy",
    "joint_entropy",
    "least_confidence",
    "margin",
    "mean_std",
    "predictive_entropy",
    "stochastic_top_k",
    "top_k",
    "variation_ratios",
]
