"""Strategies that take the top-k of a score: the uncertainty classics and BALD."""

from __future__ import annotations

from dataclasses import dataclass

from skbal import acquisition
from skbal.acquisition._validation import check_scores
from skbal.strategies._base import BaseQueryStrategy
from skbal.strategies._blocks import Candidates
from skbal.strategies._common_doc import parameters, references

_EXAMPLE = """Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbal import {name}
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:200], y[:200])
    >>> strategy = {name}(query_size=5, random_state=0)
    >>> strategy(forest, X[200:]).shape  # a modAL query strategy
    (5,)
    >>> indices, scores = strategy.select(forest, X[200:])
    >>> bool((scores[:-1] >= scores[1:]).all())  # best first
    True"""


class _TopKStrategy(BaseQueryStrategy):
    """Choose the ``n_instances`` points with the highest score."""

    _score_function = None  # staticmethod(log_probs_N_K_C -> scores_N)

    def __init__(
        self, *, query_size=10, n_mc_samples=None, dropout_masks="independent", random_state=None, verbose=0
    ):
        self.query_size = query_size
        self.n_mc_samples = n_mc_samples
        self.dropout_masks = dropout_masks
        self.random_state = random_state
        self.verbose = verbose

    def _selector(self, n_instances, rng):
        return TopKSelector(type(self)._score_function, n_instances)


@dataclass(frozen=True)
class TopKSelector:
    """Top-k of a score, block by block: each block keeps its own top k.

    The global top k (ties to the lower index, as :func:`skbal.acquisition.top_k`)
    is the top k of the blocks' top k, so the result does not depend on the
    blocks.
    """

    score_function: object
    n_instances: int

    @property
    def capacity(self) -> int:
        return self.n_instances

    def score_block(self, log_probs_n_K_C, start: int) -> Candidates:
        scores_n = check_scores(self.score_function(log_probs_n_K_C))
        return Candidates.from_block(start, scores_n, scores_n, capacity=self.n_instances)

    def finish(self, candidates: Candidates, rng):
        return candidates.take_best(self.n_instances)


def _document(cls, summary: str, notes: str, refs: tuple[str, ...]):
    cls.__doc__ = "\n\n    ".join(
        [
            summary,
            parameters("query_size", "n_mc_samples", "dropout_masks", "random_state", "verbose"),
            "Notes\n    -----\n    " + notes,
            references(*refs),
            _EXAMPLE.format(name=cls.__name__),
        ]
    )
    return cls


class Entropy(_TopKStrategy):
    _requires_posterior = False
    _score_function = staticmethod(acquisition.predictive_entropy)


class Margin(_TopKStrategy):
    _requires_posterior = False
    _score_function = staticmethod(acquisition.margin)


class LeastConfidence(_TopKStrategy):
    _requires_posterior = False
    _score_function = staticmethod(acquisition.least_confidence)


class VariationRatios(_TopKStrategy):
    _score_function = staticmethod(acquisition.variation_ratios)


class MeanSTD(_TopKStrategy):
    _score_function = staticmethod(acquisition.mean_std)


class BALD(_TopKStrategy):
    _score_function = staticmethod(acquisition.bald)


_document(
    Entropy,
    "Max-entropy sampling: the points whose predictive distribution is most uncertain.",
    "Scores with :func:`skbal.acquisition.predictive_entropy` of the Bayesian\n"
    "    model average; works with any classifier's ``predict_proba`` too (K = 1).",
    ("gal",),
)
_document(
    Margin,
    "Margin sampling: the smallest gap between the two most probable classes.",
    "Scores with :func:`skbal.acquisition.margin` (the negative gap); works with\n"
    "    any classifier's ``predict_proba`` too (K = 1).",
    ("gal",),
)
_document(
    LeastConfidence,
    "Least-confidence sampling: the lowest top-class probability.",
    "Scores with :func:`skbal.acquisition.least_confidence`; works with any\n"
    "    classifier's ``predict_proba`` too (K = 1).",
    ("gal",),
)
_document(
    VariationRatios,
    "Variation ratios: the points on whose label the posterior draws disagree most.",
    "Scores with :func:`skbal.acquisition.variation_ratios`; needs K > 1 draws.",
    ("gal",),
)
_document(
    MeanSTD,
    "Mean standard deviation of the class probabilities across posterior draws.",
    "Scores with :func:`skbal.acquisition.mean_std`; needs K > 1 draws.",
    ("gal",),
)
_document(
    BALD,
    "BALD: the points whose labels would tell most about the model parameters.",
    "Top-k of :func:`skbal.acquisition.bald`, I[y; ω | x]. Top-k ignores that\n"
    "    the chosen points may be redundant (near-duplicates all score high); see\n"
    "    :class:`PowerBALD` and :class:`BatchBALD` for diverse batches.",
    ("houlsby", "gal"),
)
