"""The template every query strategy follows.

``BaseQueryStrategy.select`` validates everything cheap first (counts,
parameters, the estimator, the pool), then draws the posterior samples once
and hands them to the subclass's ``_select``. ``__call__`` adds modAL's
protocol on top.
"""

from __future__ import annotations

import numbers
import sys

import numpy as np
from sklearn.base import BaseEstimator

from skbal.acquisition._validation import check_count
from skbal.posterior import resolve_posterior
from skbal.strategies._blocks import Sampling, run_in_memory, sample_in_memory
from skbal.strategies._modal import RetryGuard, caller_frame, expects_metrics
from skbal.utils import check_random_state, spawn_seed
from skbal.utils import n_rows as count_rows
from skbal.utils._progress import query_progress

DROPOUT_MASKS = ("consistent", "independent")


class BaseQueryStrategy(BaseEstimator):
    """Base class of skbal's query strategies.

    A strategy is a scikit-learn estimator (so ``clone``, ``get_params``,
    ``set_params`` and grid search work) and a callable with modAL's
    query-strategy signature ``strategy(learner, X_pool, n_instances=...)``.

    Subclasses set :attr:`_requires_posterior` and implement either

    - ``_select(log_probs_N_K_C, n, rng, n_rows) -> (indices, scores)``, which
      sees every row's posterior samples at once (in-memory pools only); or
    - ``_selector(n, rng)``, returning an object that reduces each block of
      rows to a few candidates (``score_block``) and picks the batch from the
      merged candidates (``finish``). skbal's strategies do this: it bounds
      memory by one block, and the same strategy runs on a Dask pool
      (:mod:`skbal.distributed`) with the same result.

    A subclass with parameters to check overrides ``_validate_params``.

    Examples
    --------
    A new strategy in a few lines: BALD minus a penalty on predictive
    entropy. (Define it in a module and ``check_strategy`` from
    :mod:`skbal.utils.estimator_checks` runs skbal's common contract on it.)

    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbal import acquisition
    >>> from skbal.strategies import BaseQueryStrategy
    >>> class PenalisedBALD(BaseQueryStrategy):
    ...     def __init__(self, *, query_size=10, penalty=0.1, n_mc_samples=None,
    ...                  dropout_masks="independent", random_state=None):
    ...         self.query_size = query_size
    ...         self.penalty = penalty
    ...         self.n_mc_samples = n_mc_samples
    ...         self.dropout_masks = dropout_masks
    ...         self.random_state = random_state
    ...
    ...     def _select(self, log_probs, n_instances, rng, n_rows):
    ...         scores = acquisition.bald(log_probs)
    ...         scores -= self.penalty * acquisition.predictive_entropy(log_probs)
    ...         indices = acquisition.top_k(scores, n_instances)
    ...         return indices, scores[indices]
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:200], y[:200])
    >>> indices, scores = PenalisedBALD(penalty=0.5).select(forest, X[200:], 3)
    >>> indices.shape, PenalisedBALD(penalty=0.5)
    ((3,), PenalisedBALD(penalty=0.5))
    """

    #: True: needs K > 1 posterior draws (MC dropout, ensembles, committees).
    #: False: also works with any classifier's ``predict_proba`` (K = 1).
    #: None: needs no predictions at all (random sampling).
    _requires_posterior = True

    def __call__(self, classifier, X_pool, n_instances=None, **kwargs):
        """Choose ``n_instances`` points of ``X_pool`` to label (modAL protocol).

        Parameters
        ----------
        classifier : modAL learner, Committee or fitted estimator
            What modAL passes as the first argument; see
            :func:`skbal.sample_log_proba` for the supported estimators.
        X_pool : array-like of shape (n_samples, n_features)
            The unlabelled pool (numpy, pandas, scipy sparse or torch), or a
            ``dask.array.Array`` / dask DataFrame scored where its chunks
            live (see :mod:`skbal.distributed`).
        n_instances : int, default=None
            How many points to choose; None uses ``query_size``.

        Returns
        -------
        indices : ndarray of shape (n_instances,), int64
            Positions in ``X_pool``, in the order chosen. When
            ``classifier`` is a modAL >= 0.4.2 learner, ``(indices, scores)``
            is returned instead, as that version's ``query`` expects (it
            hands ``scores`` back with ``return_metrics=True``).
        """
        if kwargs:
            hint = (
                " return_metrics needs modAL-python >= 0.4.2, whose query() handles it."
                if "return_metrics" in kwargs
                else ""
            )
            raise TypeError(f"{type(self).__name__}() got unexpected keyword arguments {sorted(kwargs)}.{hint}")
        caller = caller_frame()
        guard = self.__dict__.setdefault("_retry_guard", RetryGuard())
        error = guard.pending_error(caller)
        if error is not None:
            raise error
        try:
            indices, scores = self.select(classifier, X_pool, n_instances)
        except BaseException as exc:
            guard.remember(caller, exc)
            raise
        if expects_metrics(classifier):
            return indices, scores
        return indices

    def select(self, estimator, X_pool, n_instances=None) -> tuple[np.ndarray, np.ndarray]:
        """Choose points to label and return them with their scores.

        The estimator-level entry point, for use without modAL.

        Parameters
        ----------
        estimator : estimator, modAL learner or Committee
            Fitted. See :func:`skbal.sample_log_proba` for what is supported.
        X_pool : array-like of shape (n_samples, n_features)
            The unlabelled pool. Never modified. A ``dask.array.Array`` or
            dask DataFrame is sampled and scored on the Dask cluster, block
            by block, and gives the same result as the same rows in memory
            (see :mod:`skbal.distributed`).
        n_instances : int, default=None
            How many points to choose; None uses ``query_size``. Must be
            between 1 and the pool size (a larger value raises ValueError).

        Returns
        -------
        indices : ndarray of shape (n_instances,), int64
            Positions in ``X_pool``, in the order chosen.
        scores : ndarray of shape (n_instances,), float64
            The acquisition score of each chosen point (for BatchBALD, its
            gain in joint mutual information).
        """
        n_instances = self.query_size if n_instances is None else n_instances
        check_count(self.query_size, "query_size")
        n_instances = check_count(n_instances, "n_instances")
        self._validate_params()
        posterior = None
        if self._requires_posterior is not None:
            posterior = resolve_posterior(estimator, allow_deterministic=not self._requires_posterior)
        dask_pool = None
        if _is_dask_collection(X_pool):
            from skbal.distributed._pool import DaskPool

            dask_pool = DaskPool(X_pool)  # chunk lengths; the first row is checked on the client
            if posterior is not None:
                dask_pool.check_input(posterior)
            n_rows = dask_pool.n_rows
        elif posterior is not None:
            X_pool = posterior.check_input(X_pool)
            n_rows = posterior.n_rows(X_pool)
        else:
            n_rows = count_rows(X_pool)
        if n_instances > n_rows:
            raise ValueError(
                f"n_instances must be <= the pool size, got n_instances={n_instances} for a pool of {n_rows} rows."
            )
        rng = check_random_state(self.random_state)
        with query_progress(getattr(self, "verbose", 0), type(self).__name__):
            indices, scores = self._query(posterior, X_pool, dask_pool, n_instances, n_rows, rng)
        return np.asarray(indices, dtype=np.int64), np.asarray(scores, dtype=np.float64)

    def _query(self, posterior, X_pool, dask_pool, n_instances, n_rows, rng):
        """The heavy part of :meth:`select`, on validated inputs."""
        if posterior is None:
            return self._select(None, n_instances, rng, n_rows)
        n_mc_samples = check_count(self.n_mc_samples or posterior.default_n_mc_samples, "n_mc_samples")
        sampling = Sampling(n_mc_samples, self.dropout_masks, spawn_seed(rng))
        selector = self._selector(n_instances, rng)
        if selector is None:
            if dask_pool is not None:
                raise ValueError(self._no_block_selection_message())
            return self._select(sample_in_memory(posterior, X_pool, n_rows, sampling), n_instances, rng, n_rows)
        if dask_pool is not None:
            candidates = dask_pool.run(posterior, sampling, selector)
        else:
            candidates = run_in_memory(posterior, X_pool, n_rows, sampling, selector)
        if candidates.n_rows != n_rows:  # never a result from part of the pool
            raise RuntimeError(f"Scored {candidates.n_rows} rows of a pool of {n_rows}; no result returned.")
        return selector.finish(candidates, rng)

    def _validate_params(self) -> None:
        verbose = getattr(self, "verbose", 0)
        if not isinstance(verbose, numbers.Integral) or verbose < 0:
            raise ValueError(f"verbose must be an int >= 0 (or a bool), got {verbose!r}.")
        if getattr(self, "n_mc_samples", None) is not None:
            check_count(self.n_mc_samples, "n_mc_samples")
        masks = getattr(self, "dropout_masks", "consistent")
        if masks not in DROPOUT_MASKS:
            raise ValueError(f"dropout_masks must be one of {DROPOUT_MASKS}, got {masks!r}.")

    def _selector(self, n_instances: int, rng: np.random.Generator):
        """The block-wise selection of this query, or None (use ``_select``).

        The object returned has ``capacity`` (rows a candidate set keeps, None
        for all), ``score_block(log_probs_n_K_C, start) -> Candidates`` (run
        where the block lives; ``start`` is its first global row) and
        ``finish(candidates, rng) -> (indices, scores)`` (on the client). It
        is pickled to Dask workers: keep it small. Draw any seed from ``rng``
        here, once per query.
        """
        return None

    def _select(self, log_probs_N_K_C, n_instances: int, rng: np.random.Generator, n_rows: int):
        """Return ``(indices, scores)`` of the ``n_instances`` chosen points.

        ``log_probs_N_K_C`` is None when ``_requires_posterior`` is None. The
        default runs ``_selector`` on the whole array as a single block.
        """
        selector = self._selector(n_instances, rng)
        if selector is None:
            raise NotImplementedError(f"{type(self).__name__} must implement _select or _selector.")
        return selector.finish(selector.score_block(log_probs_N_K_C, 0), rng)

    def _no_block_selection_message(self) -> str:
        return (
            f"{type(self).__name__} selects from every row's posterior samples at once (it has no "
            "block-wise _selector), so it cannot run on a Dask pool without gathering the whole "
            "(n_samples, n_mc_samples, n_classes) array. Compute the pool into memory, or implement "
            "_selector."
        )

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_retry_guard", None)  # holds frames: never pickled
        return state


def _is_dask_collection(X) -> bool:
    """Whether ``X`` is a dask collection, without importing dask (a dask
    collection cannot exist unless dask is imported)."""
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(X)
