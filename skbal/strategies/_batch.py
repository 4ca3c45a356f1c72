"""Batch-aware strategies: stochastic (PowerBALD, PowerEntropy), BatchBALD, Random."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from skbal import acquisition
from skbal.acquisition._batchbald import N_JOINT_SAMPLES
from skbal.acquisition._selection import stochastic_keys
from skbal.acquisition._validation import check_count, check_positive_real, check_scores
from skbal.strategies._base import BaseQueryStrategy
from skbal.strategies._blocks import Candidates
from skbal.strategies._common_doc import parameters, references
from skbal.utils import spawn_seed
from skbal.utils._progress import progress_phase


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
        verbose=0,
    ):
        self.query_size = query_size
        self.n_mc_samples = n_mc_samples
        self.temperature = temperature
        self.dropout_masks = dropout_masks
        self.random_state = random_state
        self.verbose = verbose

    def _validate_params(self):
        super()._validate_params()
        check_positive_real(self.temperature, "temperature")

    def _selector(self, n_instances, rng):
        # The seed stochastic_top_k(scores, ..., random_state=rng) would draw.
        return StochasticSelector(
            type(self)._score_function, n_instances, float(self.temperature), "power", spawn_seed(rng)
        )


@dataclass(frozen=True)
class StochasticSelector:
    """Gumbel-top-k of a score, block by block.

    Each row's Gumbel noise depends only on ``seed`` and the row's global
    position (:func:`skbal.acquisition._selection.gumbel_noise`), so each
    block keys its own rows and keeps its best ``n_instances`` keys; the
    merged result is exactly :func:`skbal.acquisition.stochastic_top_k` on
    all the scores. Modes whose key needs only the row's own score: power
    and softmax.
    """

    score_function: object
    n_instances: int
    temperature: float
    mode: str
    seed: int

    @property
    def capacity(self) -> int:
        return self.n_instances

    def score_block(self, log_probs_n_K_C, start: int) -> Candidates:
        scores_n = check_scores(self.score_function(log_probs_n_K_C))
        keys_n, first_n = stochastic_keys(scores_n, self.temperature, self.mode, self.seed, start)
        return Candidates.from_block(start, keys_n, scores_n, capacity=self.n_instances, first=first_n)

    def finish(self, candidates: Candidates, rng):
        return candidates.take_best(self.n_instances)


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
            parameters("query_size", "n_mc_samples", "temperature", "dropout_masks", "random_state", "verbose"),
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
        max_candidates=None,
        dropout_masks="consistent",
        random_state=None,
        verbose=0,
    ):
        self.query_size = query_size
        self.n_mc_samples = n_mc_samples
        self.n_joint_samples = n_joint_samples
        self.max_candidates = max_candidates
        self.dropout_masks = dropout_masks
        self.random_state = random_state
        self.verbose = verbose

    def _validate_params(self):
        super()._validate_params()
        check_count(self.n_joint_samples, "n_joint_samples")
        if self.max_candidates is not None:
            check_count(self.max_candidates, "max_candidates")
        if self.dropout_masks != "consistent":
            warnings.warn(
                "BatchBALD with dropout_masks='independent': draw k is not the same model for "
                "every row, so joint entropies mix models. Use 'consistent' masks.",
                UserWarning,
                stacklevel=4,
            )

    def _selector(self, n_instances, rng):
        if self.max_candidates is None:
            return None  # every row is a candidate: _select on the whole array
        if self.max_candidates < n_instances:
            raise ValueError(
                f"max_candidates must be >= n_instances (BatchBALD chooses among the candidates), got "
                f"max_candidates={self.max_candidates} and n_instances={n_instances}."
            )
        return BatchBALDSelector(n_instances, int(self.max_candidates), int(self.n_joint_samples))

    def _select(self, log_probs_N_K_C, n_instances, rng, n_rows):
        return _greedy(log_probs_N_K_C, n_instances, self.n_joint_samples, rng)

    def _no_block_selection_message(self):
        return (
            "BatchBALD on a Dask pool needs max_candidates: its greedy needs the candidates' "
            "posterior samples in one place, so the cluster first keeps the max_candidates points "
            "with the highest BALD score (an upper bound of every BatchBALD gain) and only their "
            "samples come back to the client. Set e.g. BatchBALD(max_candidates=2000); "
            "max_candidates=None (every row) would gather the whole (n_samples, n_mc_samples, "
            "n_classes) array."
        )


@dataclass(frozen=True)
class BatchBALDSelector:
    """BatchBALD among the ``max_candidates`` rows with the highest BALD score.

    Blocks keep their top ``max_candidates`` rows by BALD (ties to the lower
    index) with their posterior samples; the greedy runs on the merged
    candidates, in ascending row order, on the client.
    """

    n_instances: int
    max_candidates: int
    n_joint_samples: int

    @property
    def capacity(self) -> int:
        return self.max_candidates

    def score_block(self, log_probs_n_K_C, start: int) -> Candidates:
        bald_n = acquisition.bald(log_probs_n_K_C)
        return Candidates.from_block(
            start, bald_n, bald_n, capacity=self.max_candidates, payload=np.asarray(log_probs_n_K_C)
        )

    def finish(self, candidates: Candidates, rng):
        chosen, gains = _greedy(candidates.payload, self.n_instances, self.n_joint_samples, rng)
        return candidates.index[chosen], gains


def _greedy(log_probs_n_K_C, n_instances: int, n_joint_samples: int, rng):
    """:func:`skbal.acquisition.batchbald`, its steps reported to the query's progress bar."""
    with progress_phase(n_instances, "greedy steps", "point") as update:
        return acquisition.batchbald(
            log_probs_n_K_C,
            n_instances,
            n_joint_samples=n_joint_samples,
            random_state=rng,
            callback=lambda index, gain: update(1),
        )


_MAX_CANDIDATES = """max_candidates : int, default=None
        Run the greedy on the ``max_candidates`` points with the highest
        BALD score only (ties: lower index), see Notes. None: every point is
        a candidate.
        Must be >= n_instances. Required on a Dask pool, where None raises a
        ValueError (it would gather the whole (N, K, C) array)."""

BatchBALD.__doc__ = "\n\n    ".join(
    [
        "BatchBALD: the batch whose labels jointly tell most about the model.",
        parameters(
            "query_size",
            "n_mc_samples",
            "n_joint_samples",
            "dropout_masks",
            "random_state",
            "verbose",
            masks="consistent",
        ).replace("\n    dropout_masks :", "\n    " + _MAX_CANDIDATES + "\n    dropout_masks :"),
        "Notes\n    -----\n"
        "    Greedy maximisation of I[y_1..y_b; ω] with\n"
        "    :func:`skbal.acquisition.batchbald`. The joint entropies need the\n"
        "    draws to be the same K models for every row: keep consistent masks.\n"
        "    ``select`` returns each point's gain in joint mutual information.\n\n"
        "    Pre-selection (``max_candidates=L``): the pool is sampled and scored\n"
        "    block by block, each block keeps its L best points by BALD with\n"
        "    their samples, and the greedy runs on the L best of the pool, in\n"
        "    their pool order. A point's BatchBALD gain never exceeds its BALD\n"
        "    score, so when every chosen gain is larger than the best BALD score\n"
        "    left out, no cut point could have been chosen and the batch is\n"
        "    exactly that of ``max_candidates=None``; otherwise it is an\n"
        "    approximation that can miss only points ranked below the L-th by\n"
        "    BALD. The greedy then costs O(L) per step instead of O(N), and memory\n"
        "    holds one block plus L points' samples instead of (N, K, C). On a\n"
        "    Dask pool the pre-selection runs where the chunks live and only the\n"
        "    candidates' (L, K, C) samples reach the client: the result is the\n"
        "    same as in memory with the same ``max_candidates`` and\n"
        "    ``random_state``.",
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
    ((4,), True)
    >>> few, _ = BatchBALD(query_size=4, max_candidates=50, random_state=0).select(forest, X[200:])
    >>> few.shape  # the greedy ran on the 50 points with the highest BALD
    (4,)""",
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
