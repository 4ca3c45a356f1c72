"""Simulated active learning: tune and compare strategies before labelling.

- :class:`ActiveLearningSimulator`: one pool-based run as a scikit-learn
  classifier, so ``GridSearchCV`` can tune a strategy's ``temperature``;
- :func:`compare_strategies`: strategies × seeds in parallel, tidy learning
  curves; :func:`summarize` and :func:`format_summary` turn them into a
  table (plots are in :mod:`skbal.plotting`);
- :func:`mc_dropout_mlp`: the small MC-dropout net of the demo;
  :func:`get_strategy`: a strategy from its name.
"""

from skbal.simulation._compare import STRATEGY_NAMES, compare_strategies, get_strategy
from skbal.simulation._nets import mc_dropout_mlp
from skbal.simulation._simulator import ActiveLearningSimulator
from skbal.simulation._summary import format_summary, summarize

__all__ = [
    "STRATEGY_NAMES",
    "ActiveLearningSimulator",
    "compare_strategies",
    "format_summary",
    "get_strategy",
    "mc_dropout_mlp",
    "summarize",
]
