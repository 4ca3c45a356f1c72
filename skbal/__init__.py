"""skbal: Bayesian active-learning query strategies for scikit-learn.

The layers, in the direction data flows:

- :mod:`skbal.posterior` turns (estimator, X) into posterior samples, an
  array of natural-log class probabilities of shape (N, K, C);
- :mod:`skbal.acquisition` turns samples into scores and selections (pure
  functions on arrays);
- :mod:`skbal.strategies` wraps both as scikit-learn estimators that are also
  modAL query strategies.
"""

__version__ = "0.1.0.dev0"

from skbal import acquisition

__all__ = ["__version__", "acquisition"]
