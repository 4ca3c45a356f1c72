"""The common contract of query strategies, runnable on any strategy.

Third-party strategies built on :class:`skbal.strategies.BaseQueryStrategy`
can run the same checks as skbal's own::

    from skbal.utils.estimator_checks import parametrize_with_checks

    @parametrize_with_checks([MyStrategy(), MyStrategy(query_size=3)])
    def test_my_strategy(strategy, check):
        check(strategy)
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable

import numpy as np
from sklearn.base import clone

__all__ = ["CHECKS", "check_strategy", "parametrize_with_checks"]

_CONTEXT: dict = {}


def _default_problem():
    """A fitted 8-member random forest on digits (cached): K = 8 draws."""
    if "problem" not in _CONTEXT:
        from sklearn.datasets import load_digits
        from sklearn.ensemble import RandomForestClassifier

        X, y = load_digits(return_X_y=True)
        forest = RandomForestClassifier(n_estimators=8, max_depth=6, random_state=0).fit(X[:300], y[:300])
        _CONTEXT["problem"] = (forest, X[300:420].copy())
    return _CONTEXT["problem"]


class _FakeLearner:
    """Duck-types a modAL learner (``estimator`` and ``query``)."""

    def __init__(self, estimator, strategy):
        self.estimator = estimator
        self.query_strategy = strategy


class _Learner041(_FakeLearner):
    def query(self, X_pool, *args, **kwargs):
        return self.query_strategy(self, X_pool, *args, **kwargs)


class _Learner042(_FakeLearner):
    def query(self, X_pool, *args, return_metrics=False, **kwargs):
        indices, metrics = self.query_strategy(self, X_pool, *args, **kwargs)
        return (indices, metrics) if return_metrics else indices


def check_params_roundtrip(strategy) -> None:
    """clone, get_params/set_params, repr and the notebook HTML repr work."""
    params = strategy.get_params()
    cloned = clone(strategy)
    assert cloned.get_params() == params, "clone changed the parameters"
    assert type(strategy).__name__ in repr(strategy)
    assert type(strategy).__name__ in strategy._repr_html_()
    cloned.set_params(**params)
    assert cloned.get_params() == params


def check_query_contract(strategy) -> None:
    """Unique in-range int64 indices of the asked length, finite scores."""
    estimator, X = _default_problem()
    for n in (1, 2, 5):
        indices = clone(strategy)(estimator, X, n_instances=n)
        assert isinstance(indices, np.ndarray) and indices.dtype == np.int64, indices
        assert indices.shape == (n,), f"asked for {n}, got shape {indices.shape}"
        assert np.unique(indices).size == n, f"duplicate indices {indices}"
        assert ((indices >= 0) & (indices < len(X))).all()
        indices, scores = clone(strategy).select(estimator, X, n)
        assert indices.shape == scores.shape == (n,)
        assert scores.dtype == np.float64 and np.isfinite(scores).all()
    default = clone(strategy)(estimator, X)
    assert default.shape == (strategy.query_size,)


def check_reproducible(strategy) -> None:
    """The same integer random_state gives the same choice."""
    estimator, X = _default_problem()
    fixed = clone(strategy).set_params(random_state=0)
    np.testing.assert_array_equal(fixed(estimator, X, n_instances=5), clone(fixed)(estimator, X, n_instances=5))


def check_no_side_effects(strategy) -> None:
    """Inputs are not modified; the global numpy and torch RNGs are untouched."""
    import torch

    estimator, X = _default_problem()
    X_pool = X.copy()
    X_pool.setflags(write=False)
    numpy_state, torch_state = np.random.get_state(), torch.get_rng_state()
    before = estimator.predict_proba(X_pool)
    clone(strategy)(estimator, X_pool, n_instances=3)
    np.testing.assert_array_equal(X_pool, X)
    np.testing.assert_array_equal(estimator.predict_proba(X_pool), before)
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and (after[1] == numpy_state[1]).all() and after[2:] == numpy_state[2:]
    assert torch.equal(torch.get_rng_state(), torch_state), "the global torch RNG state changed"


def check_bad_n_instances(strategy) -> None:
    """n_instances < 1, > pool size or not an int: a clear error."""
    estimator, X = _default_problem()
    for bad, error in ((0, ValueError), (len(X) + 1, ValueError), (1.5, TypeError)):
        try:
            clone(strategy)(estimator, X, n_instances=bad)
        except error as exc:
            assert "n_instances" in str(exc), exc
        else:
            raise AssertionError(f"n_instances={bad!r} did not raise {error.__name__}")


def check_modal_protocols(strategy) -> None:
    """Indices for modAL 0.4.1's protocol, (indices, scores) for 0.4.2's."""
    estimator, X = _default_problem()
    indices = _Learner041(estimator, clone(strategy)).query(X, n_instances=2)
    assert isinstance(indices, np.ndarray) and indices.shape == (2,)
    indices, metrics = _Learner042(estimator, clone(strategy)).query(X, n_instances=2, return_metrics=True)
    assert indices.shape == metrics.shape == (2,)


def check_pickle(strategy) -> None:
    """A strategy pickles, also after it was called."""
    estimator, X = _default_problem()
    used = clone(strategy)
    used(estimator, X, n_instances=1)
    restored = pickle.loads(pickle.dumps(used))
    assert restored.get_params() == used.get_params()


CHECKS: tuple[Callable, ...] = (
    check_params_roundtrip,
    check_query_contract,
    check_reproducible,
    check_no_side_effects,
    check_bad_n_instances,
    check_modal_protocols,
    check_pickle,
)


def check_strategy(strategy) -> None:
    """Run every common check on ``strategy``; the first failure raises.

    Parameters
    ----------
    strategy : BaseQueryStrategy
        An (unfitted) strategy instance. The checks query a small random
        forest fitted on scikit-learn's digits (each tree is one posterior
        draw), so no network or GPU is needed.

    Raises
    ------
    AssertionError
        Naming the broken part of the contract.

    Examples
    --------
    >>> from skbal import PowerBALD
    >>> from skbal.utils.estimator_checks import check_strategy
    >>> check_strategy(PowerBALD(query_size=3))
    """
    for check in CHECKS:
        check(strategy)


def parametrize_with_checks(strategies: Iterable):
    """pytest decorator: one test per (strategy, check) pair.

    Parameters
    ----------
    strategies : iterable of BaseQueryStrategy

    Returns
    -------
    decorator
        ``pytest.mark.parametrize("strategy, check", ...)`` with readable ids.

    Examples
    --------
    >>> from skbal import BALD
    >>> from skbal.utils.estimator_checks import parametrize_with_checks
    >>> mark = parametrize_with_checks([BALD()])
    >>> mark.args[0]
    'strategy, check'
    """
    import pytest

    strategies = list(strategies)
    cases = [(strategy, check) for strategy in strategies for check in CHECKS]
    ids = [f"{type(s).__name__}-{c.__name__}" for s, c in cases]
    return pytest.mark.parametrize("strategy, check", cases, ids=ids)
