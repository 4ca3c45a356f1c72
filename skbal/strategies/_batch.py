"""Batch-aware strategies: stochastic (PowerBALD, PowerEntropy), BatchBALD, Random."""

from __future__ import annotations

import warnings

import numpy as np

from skbal import acquisition
from skbal.acquisition._batchbald import N_JOINT_SAMPLES
from skbal.acquisition._validation import check_count, check_positive_real
from skbal.strategies._base import BaseQueryStrategy
from skbal.strategies._common_doc import parameters, references


class _PowerStrategy(BaseQueryStrategy):
    """Sample the batch without replacement with probability ∝ score^(1/T)."""

    _score_function = None

    def __init__(
        self,
        *,
        query_size=10,
        n_mc_samples=None,
        temperature=1.0,
        dropout_masks="independent",
        random_state=None,
    ):
        self.query_size = query_size
        self.n_mc_samples = n_mc_samples
        self.temperature = temperature
        self.dropout_masks = dropout_masks
        self.random_state = random_state

    def _validate_params(self):
        super()._validate_params()
        check_positive_real(self.temperature, "temperature")

    def _select(self, log_probs_N_K_C, n_instances, rng, n_rows):
        scores_N = self._score_function(log_probs_N_K_C)
        indices = acquisition.stochastic_top_k(
            scores_N, n_instances, temperature=self.temperature, mode="power", random_state=rng
        )
        return indices, scores_N[indices]


_POWER_EXAMPLE = """Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.base import clone
    >>> from skbal import {name}
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:200], y[:200])
    >>> strategy = {name}(query_size=5, temperature=0.5, random_state=0)
    >>> a = strategy(forest, X[200:])
    >>> b = clone(strategy)(forest, X[200:])
    >>> a.shape, bool((a == b).all())  # reproducible for a fixed random_state
    ((5,), True)"""


class PowerBALD(_PowerStrategy):
    _score_function = staticmethod(acquisition.bald)


class PowerEntropy(_PowerStrategy):
    _requires_posterior = False
    _score_function = staticmethod(acquisition.predictive_entropy)


for _cls, _score, _summary in (
    (PowerBALD, "bald", "PowerBALD: sample the batch ∝ BALD^(1/T), a cheap diverse alternative to BatchBALD."),
    (PowerEntropy, "predictive_entropy", "PowerEntropy: sample the batch ∝ predictive entropy^(1/T)."),
):
    _cls.__doc__ = "\n\n    ".join(
        [
            _summary,
            parameters("query_size", "n_mc_samples", "temperature", "dropout_masks", "random_state"),
            "Notes\n    -----\n    "
            f"Scores with :func:`skbal.acquisition.{_score}`, then draws with\n"
            "    :func:`skbal.acquisition.stochastic_top_k` (mode ``\"power\"``). Points\n"
            "    with score 0 come only after every positive one. Kirsch et al. (2023)\n"
            "    find T = 1 a robust default and tune nothing; grid-search it with\n"
            "    :class:`~sklearn.model_selection.GridSearchCV` if you like.",
            references("kirsch2023"),
            _POWER_EXAMPLE.format(name=_cls.__name__),
        ]
    )


class BatchBALD(BaseQueryStrategy):
    def __init__(
        self,
        *,
        query_size=10,
        n_mc_samples=None,
        n_joint_samples=N_JOINT_SAMPLES,
        dropout_masks="consistent",
        random_state=None,
    ):
        self.query_size = query_size
        self.n_mc_samples = n_mc_samples
        self.n_joint_samples = n_joint_samples
        self.dropout_masks = dropout_masks
        self.random_state = random_state

    def _validate_params(self):
        super()._validate_params()
        check_count(self.n_joint_samples, "n_joint_samples")
        if self.dropout_masks != "consistent":
            warnings.warn(
                "BatchBALD with dropout_masks='independent': draw k is not the same model for "
                "every row, so joint entropies mix models. Use 'consistent' masks.",
                UserWarning,
                stacklevel=4,
            )

    def _select(self, log_probs_N_K_C, n_instances, rng, n_rows):
        return acquisition.batchbald(
            log_probs_N_K_C, n_instances, n_joint_samples=self.n_joint_samples, random_state=rng
        )


BatchBALD.__doc__ = "\n\n    ".join(
    [
        "BatchBALD: the batch whose labels jointly tell most about the model.",
        parameters(
            "query_size", "n_mc_samples", "n_joint_samples", "dropout_masks", "random_state", masks="consistent"
        ),
        "Notes\n    -----\n"
        "    Greedy maximisation of I[y_1..y_b; ω] with\n"
        "    :func:`skbal.acquisition.batchbald`. The joint entropies need the\n"
        "    draws to be the same K models for every row: keep consistent masks.\n"
        "    ``select`` returns each point's gain in joint mutual information.",
        references("kirsch2019"),
        """Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbal import BatchBALD
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:200], y[:200])
    >>> indices, gains = BatchBALD(query_size=4, random_state=0).select(forest, X[200:])
    >>> indices.shape, bool((gains[:-1] >= gains[1:]).all())  # gains never increase
    ((4,), True)""",
    ]
)


class Random(BaseQueryStrategy):
    """Uniform random sampling without replacement: the baseline.

    Parameters
    ----------
    query_size : int, default=10
        How many points to choose when the caller gives no ``n_instances``.
    random_state : int, RandomState, Generator or None, default=None
        None draws fresh OS entropy; the global RNG is never used.

    Notes
    -----
    Needs no predictions: the estimator is not called. ``select`` returns
    scores of 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skbal import Random
    >>> Random(query_size=3, random_state=0)(None, np.zeros((10, 2))).shape
    (3,)
    """

    _requires_posterior = None

    def __init__(self, *, query_size=10, random_state=None):
        self.query_size = query_size
        self.random_state = random_state

    def _select(self, log_probs_N_K_C, n_instances, rng, n_rows):
        return rng.choice(n_rows, size=n_instances, replace=False), np.zeros(n_instances)
