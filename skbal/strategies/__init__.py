"""Query strategies: scikit-learn estimators that are modAL query strategies.

Each strategy draws posterior samples from the estimator once per query
(:mod:`skbal.posterior`) and chooses points with :mod:`skbal.acquisition`.
"""

from skbal.strategies._base import BaseQueryStrategy
from skbal.strategies._batch import BatchBALD, PowerBALD, PowerEntropy, Random
from skbal.strategies._topk import BALD, Entropy, LeastConfidence, Margin, MeanSTD, VariationRatios

__all__ = [
    "BALD",
    "BaseQueryStrategy",
    "BatchBALD",
    "Entropy",
    "LeastConfidence",
    "Margin",
    "MeanSTD",
    "PowerBALD",
    "PowerEntropy",
    "Random",
    "VariationRatios",
]
