"""skbal: Bayesian active-learning query strategies for scikit-learn.

The layers, in the direction data flows:

- :mod:`skbal.posterior` turns (estimator, X) into posterior samples, an
  array of natural-log class probabilities of shape (N, K, C);
- :mod:`skbal.acquisition` turns samples into scores and selections (pure
  functions on arrays);
- :mod:`skbal.strategies` wraps both as scikit-learn estimators that are also
  modAL query strategies.

Ready-made strategies with default parameters are module attributes, for
``ActiveLearner(estimator=net, query_strategy=skbal.batchbald)``.
"""

__version__ = "0.1.0.dev0"

from skbal import acquisition
from skbal.posterior import MCDropoutClassifier, sample_log_proba
from skbal.strategies import (
    BALD,
    BatchBALD,
    Entropy,
    LeastConfidence,
    Margin,
    MeanSTD,
    PowerBALD,
    PowerEntropy,
    Random,
    VariationRatios,
)

#: Default instances, usable directly as modAL query strategies.
bald = BALD()
power_bald = PowerBALD()
power_entropy = PowerEntropy()
batchbald = BatchBALD()
entropy = Entropy()
margin = Margin()
least_confidence = LeastConfidence()
variation_ratios = VariationRatios()
mean_std = MeanSTD()
random_sampling = Random()

__all__ = [
    "BALD",
    "BatchBALD",
    "Entropy",
    "LeastConfidence",
    "MCDropoutClassifier",
    "Margin",
    "MeanSTD",
    "PowerBALD",
    "PowerEntropy",
    "Random",
    "VariationRatios",
    "__version__",
    "acquisition",
    "bald",
    "batchbald",
    "entropy",
    "least_confidence",
    "margin",
    "mean_std",
    "power_bald",
    "power_entropy",
    "random_sampling",
    "sample_log_proba",
    "variation_ratios",
]
