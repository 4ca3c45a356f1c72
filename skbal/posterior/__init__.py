"""Posterior samples: (estimator, X) → natural-log class probabilities (N, K, C).

- :class:`MCDropoutClassifier`: a skorch ``NeuralNetClassifier`` that
  predicts with MC dropout (K stochastic forward passes, batched);
- :func:`sample_log_proba`: posterior samples from an MCDropoutClassifier,
  any fitted skorch classifier with dropout modules, a Pipeline ending in
  one, an sklearn ensemble, a modAL learner or Committee;
- :func:`resolve_posterior` and :class:`Posterior`: the same in steps
  (validate the pool, then sample), for strategy authors.
"""

from skbal.posterior._adapters import Posterior, resolve_posterior, sample_log_proba
from skbal.posterior._classifier import MCDropoutClassifier

__all__ = ["MCDropoutClassifier", "Posterior", "resolve_posterior", "sample_log_proba"]
