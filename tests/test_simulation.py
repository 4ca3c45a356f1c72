"""skbal.simulation: the simulator meta-estimator, grid search, comparisons, summaries."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skbal
from skbal.simulation import (
    ActiveLearningSimulator,
    compare_strategies,
    format_summary,
    get_strategy,
    mc_dropout_mlp,
    summarize,
)


@pytest.fixture(scope="module")
def split(digits):
    X, y = digits
    return X[:1200], y[:1200], X[1200:], y[1200:]


def forest():
    return RandomForestClassifier(n_estimators=8, max_depth=8)


def global_states():
    return random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state().clone()


def assert_same_states(before, after):
    assert before[0] == after[0]
    np.testing.assert_array_equal(before[1], after[1])
    assert torch.equal(before[2], after[2])


# ------------------------------------------------------------ the simulator


def test_simulator_labels_what_it_says(split):
    X, y, X_val, y_val = split
    sim = ActiveLearningSimulator(forest(), skbal.BALD(), n_initial=20, query_size=7, budget=30, random_state=0)
    sim.fit(X, y, X_val=X_val, y_val=y_val)
    # 30 labels in queries of 7: four of 7, then the 2 left.
    assert [len(q) for q in sim.queried_indices_] == [7, 7, 7, 7, 2]
    assert sim.n_labels_.tolist() == [20, 27, 34, 41, 48, 50]
    labelled = np.concatenate([sim.initial_indices_, *sim.queried_indices_])
    assert len(np.unique(labelled)) == 50 and labelled.min() >= 0 and labelled.max() < len(X)
    # The initial set is balanced over the 10 classes.
    np.testing.assert_array_equal(np.bincount(y[sim.initial_indices_], minlength=10), np.full(10, 2))
    assert sim.validation_scores_.shape == (6,) and sim.training_seconds_.shape == (6,)
    assert sim.acquisition_seconds_.shape == (5,) and (sim.acquisition_seconds_ >= 0).all()
    assert [h["n_labels"] for h in sim.history_] == sim.n_labels_.tolist()
    np.testing.assert_array_equal(sim.classes_, np.arange(10))
    # The final model is the one trained on all 50 labels; score/predict use it.
    assert sim.score(X_val, y_val) == pytest.approx(sim.validation_scores_[-1])
    np.testing.assert_array_equal(sim.predict(X_val), sim.estimator_.predict(X_val))
    np.testing.assert_allclose(sim.predict_proba(X_val), sim.estimator_.predict_proba(X_val))


def test_simulator_queries_the_unlabelled_rows_and_maps_positions_back(split):
    """A callable strategy (modAL's signature) sees exactly the unlabelled rows, in pool order."""
    X, y, _, _ = split
    seen = []

    def first_rows(estimator, X_pool, n_instances):
        seen.append(X_pool.copy())
        return np.arange(n_instances)[::-1], "metrics are ignored"

    sim = ActiveLearningSimulator(forest(), first_rows, n_initial=10, query_size=5, budget=10, random_state=1)
    sim.fit(X, y)
    unlabelled = np.setdiff1d(np.arange(len(X)), sim.initial_indices_)
    np.testing.assert_array_equal(seen[0], X[unlabelled])
    np.testing.assert_array_equal(sim.queried_indices_[0], unlabelled[:5][::-1])
    np.testing.assert_array_equal(sim.queried_indices_[1], unlabelled[5:10][::-1])
    assert sim.validation_scores_ is None


def test_final_model_is_trained_on_exactly_the_labelled_rows(split):
    X, y, X_val, _ = split
    sim = ActiveLearningSimulator(
        KNeighborsClassifier(n_neighbors=1), skbal.Entropy(), n_initial=15, query_size=5, budget=15, random_state=2
    ).fit(X, y)
    labelled = np.concatenate([sim.initial_indices_, *sim.queried_indices_])
    reference = KNeighborsClassifier(n_neighbors=1).fit(X[labelled], y[labelled])
    np.testing.assert_array_equal(sim.predict(X_val), reference.predict(X_val))
    # 1-NN on its own training rows returns the oracle's labels: y was revealed correctly.
    np.testing.assert_array_equal(sim.predict(X[labelled]), y[labelled])


def test_simulator_is_reproducible_and_leaves_rngs_and_inputs_alone(split):
    X, y, X_val, y_val = split
    net = mc_dropout_mlp(64, 10, hidden_units=(16,), max_epochs=3, n_mc_samples=4)
    X_before = X.copy()
    before = global_states()
    runs = [
        ActiveLearningSimulator(net, skbal.BatchBALD(), n_initial=10, query_size=4, budget=8, random_state=7).fit(
            X, y, X_val=X_val, y_val=y_val
        )
        for _ in range(2)
    ]
    assert_same_states(before, global_states())
    np.testing.assert_array_equal(X, X_before)
    for a, b in zip(runs[0].queried_indices_, runs[1].queried_indices_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(runs[0].validation_scores_, runs[1].validation_scores_)
    # The user's estimator and strategy were cloned, never fitted or changed.
    assert not hasattr(net, "module_") and net.random_state is None
    other = ActiveLearningSimulator(net, skbal.BatchBALD(), n_initial=10, query_size=4, budget=8, random_state=8)
    other.fit(X, y)
    assert not np.array_equal(other.initial_indices_, runs[0].initial_indices_)


def test_runs_do_not_depend_on_the_global_rng_state(split):
    """Weights are drawn inside fit, from the run's seed: not when the net was built."""
    X, y, X_val, y_val = split
    runs = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        np.random.seed(global_seed)
        net = mc_dropout_mlp(64, 10, hidden_units=(16,), max_epochs=3, n_mc_samples=4)
        torch.manual_seed(global_seed + 10)
        sim = ActiveLearningSimulator(net, skbal.BALD(), n_initial=10, query_size=5, budget=5, random_state=4)
        runs.append(sim.fit(X, y, X_val=X_val, y_val=y_val))
    np.testing.assert_array_equal(runs[0].validation_scores_, runs[1].validation_scores_)
    np.testing.assert_array_equal(runs[0].queried_indices_[0], runs[1].queried_indices_[0])
    for a, b in zip(runs[0].estimator_.module_.parameters(), runs[1].estimator_.module_.parameters()):
        assert torch.equal(a, b)


def test_same_seed_means_same_start_whatever_the_strategy(split):
    X, y, X_val, y_val = split
    sims = [
        ActiveLearningSimulator(forest(), strategy, n_initial=20, query_size=10, budget=10, random_state=3).fit(
            X, y, X_val=X_val, y_val=y_val
        )
        for strategy in (skbal.Random(), skbal.Margin())
    ]
    np.testing.assert_array_equal(sims[0].initial_indices_, sims[1].initial_indices_)
    # Round 0 trains the same forest on the same rows with the same seed.
    assert sims[0].validation_scores_[0] == sims[1].validation_scores_[0]


def test_simulator_works_with_pipelines_and_dataframes(split):
    X, y, X_val, y_val = split
    frame = pd.DataFrame(X, columns=[f"p{i}" for i in range(64)])
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))
    sim = ActiveLearningSimulator(pipe, skbal.Margin(), n_initial=20, query_size=10, budget=20, random_state=0)
    sim.fit(frame, pd.Series(y), X_val=pd.DataFrame(X_val, columns=frame.columns), y_val=y_val)
    assert sim.n_labels_.tolist() == [20, 30, 40]
    assert sim.validation_scores_[-1] > 0.5


def test_budget_zero_trains_once(split):
    X, y, _, _ = split
    sim = ActiveLearningSimulator(forest(), skbal.BALD(), n_initial=12, budget=0, random_state=0).fit(X, y)
    assert sim.queried_indices_ == [] and sim.n_labels_.tolist() == [12]


def test_verbose_reports_rounds(split, capsys):
    X, y, X_val, y_val = split
    ActiveLearningSimulator(forest(), skbal.BALD(), n_initial=10, budget=10, verbose=2, random_state=0).fit(
        X, y, X_val=X_val, y_val=y_val
    )
    captured = capsys.readouterr()
    assert "round   1  labels    20" in captured.out + captured.err


@pytest.mark.parametrize(
    "params, fit_kwargs, error, match",
    [
        ({"n_initial": 0}, {}, ValueError, "n_initial must be an int >= 1"),
        ({"query_size": 0}, {}, ValueError, "query_size"),
        ({"budget": -1}, {}, ValueError, "budget"),
        ({"budget": 2.0}, {}, ValueError, "budget"),
        ({"n_initial": 50, "budget": 200}, {}, ValueError, "must not exceed the pool size"),
        ({"query_strategy": "bald"}, {}, TypeError, "query_strategy must be"),
        ({"estimator": None}, {}, TypeError, "estimator must be"),
        ({}, {"X_val": np.ones((2, 64))}, ValueError, "both X_val and y_val"),
    ],
)
def test_simulator_rejects_bad_input_before_training(digits, params, fit_kwargs, error, match):
    X, y = digits
    sim = ActiveLearningSimulator(forest(), skbal.BALD(), n_initial=10, budget=10, random_state=0)
    sim.set_params(**params)
    with pytest.raises(error, match=match):
        sim.fit(X[:200], y[:200], **fit_kwargs)
    assert not hasattr(sim, "estimator_")


@pytest.mark.parametrize(
    "bad",
    [
        lambda estimator, X, n_instances: np.zeros(n_instances, dtype=int),  # repeats
        lambda estimator, X, n_instances: np.array([10**6] * n_instances),  # out of range
        lambda estimator, X, n_instances: np.arange(n_instances + 1),  # too many
        lambda estimator, X, n_instances: np.arange(n_instances) + 0.5,  # not integers
    ],
)
def test_simulator_rejects_a_strategy_that_returns_nonsense(digits, bad):
    X, y = digits
    sim = ActiveLearningSimulator(forest(), bad, n_initial=10, query_size=3, budget=3)
    with pytest.raises(ValueError, match="3 distinct integer positions"):
        sim.fit(X[:100], y[:100])


def test_y_must_match_X_and_predict_needs_fit(digits):
    X, y = digits
    sim = ActiveLearningSimulator(forest(), skbal.BALD())
    with pytest.raises(ValueError, match="one label per row"):
        sim.fit(X[:100], y[:99])
    with pytest.raises(NotFittedError):
        sim.predict(X[:3])


# ------------------------------------------------------------ grid search


def test_grid_search_over_temperature_is_reproducible_in_parallel(split):
    X, y, _, _ = split
    sim = ActiveLearningSimulator(forest(), skbal.PowerBALD(), n_initial=20, query_size=10, budget=20, random_state=0)
    grid = {"query_strategy__temperature": [0.25, 1.0, 4.0]}

    def search(n_jobs):
        cv = KFold(3, shuffle=True, random_state=0)
        return GridSearchCV(sim, grid, cv=cv, n_jobs=n_jobs).fit(X[:600], y[:600])

    parallel, again, serial = search(2), search(2), search(1)
    assert parallel.best_params_ == again.best_params_ == serial.best_params_
    np.testing.assert_array_equal(parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    assert parallel.best_estimator_.query_strategy.temperature in grid["query_strategy__temperature"]
    # The temperature reached the strategy: different temperatures gave different runs.
    assert len(set(parallel.cv_results_["split0_test_score"])) > 1


# ------------------------------------------------------------ compare_strategies


def test_compare_strategies_is_tidy_paired_and_reproducible(split):
    X, y, X_val, y_val = split
    kwargs = dict(n_initial=20, query_size=10, budget=20, n_repeats=2, verbose=0, random_state=0)
    serial = compare_strategies(forest(), ["random", "bald"], X, y, X_val, y_val, n_jobs=1, **kwargs)
    parallel = compare_strategies(forest(), ["random", "bald"], X, y, X_val, y_val, n_jobs=2, **kwargs)
    assert len(serial) == 2 * 2 * 3
    assert [(r["strategy"], r["repeat"], r["round"]) for r in serial] == [
        (s, rep, rnd) for s in ("random", "bald") for rep in range(2) for rnd in range(3)
    ]
    for a, b in zip(serial, parallel):
        assert a["accuracy"] == b["accuracy"]
        np.testing.assert_array_equal(a["queried_indices"], b["queried_indices"])
    by_key = {(r["strategy"], r["repeat"], r["round"]): r for r in serial}
    for repeat in range(2):  # paired: same round-0 model for both strategies
        assert by_key["random", repeat, 0]["accuracy"] == by_key["bald", repeat, 0]["accuracy"]
        assert by_key["random", repeat, 0]["acquisition_seconds"] is None
    assert by_key["random", 0, 0]["accuracy"] != by_key["random", 1, 0]["accuracy"] or not np.array_equal(
        by_key["random", 0, 1]["queried_indices"], by_key["random", 1, 1]["queried_indices"]
    )


def test_compare_strategies_names_and_frames(split):
    X, y, X_val, y_val = split
    kwargs = dict(n_initial=10, query_size=5, budget=5, n_repeats=1, verbose=1, random_state=0)
    frame = compare_strategies(
        forest(), {"hot": skbal.PowerBALD(temperature=5.0), "cold": skbal.PowerBALD(temperature=0.1)},
        X, y, X_val, y_val, as_frame=True, **kwargs,
    )
    assert isinstance(frame, pd.DataFrame) and list(frame["strategy"].unique()) == ["hot", "cold"]
    rows = compare_strategies(forest(), [skbal.Margin(), "power_entropy"], X, y, X_val, y_val, **kwargs)
    assert [r["strategy"] for r in rows[::2]] == ["Margin", "power_entropy"]
    with pytest.raises(ValueError, match="Two strategies are named 'BALD'"):
        compare_strategies(forest(), [skbal.BALD(), skbal.BALD()], X, y, X_val, y_val, **kwargs)
    with pytest.raises(ValueError, match="Unknown strategy 'balds'"):
        compare_strategies(forest(), ["balds"], X, y, X_val, y_val, **kwargs)
    with pytest.raises(ValueError, match="must not exceed"):
        compare_strategies(forest(), ["bald"], X[:12], y[:12], X_val, y_val, **kwargs)
    with pytest.raises(ValueError, match="n_repeats"):
        compare_strategies(forest(), ["bald"], X, y, X_val, y_val, **{**kwargs, "n_repeats": 0})


def test_get_strategy_knows_every_name():
    from skbal.simulation import STRATEGY_NAMES

    for name in STRATEGY_NAMES:
        strategy = get_strategy(name, query_size=3)
        assert strategy.query_size == 3
        assert clone(strategy).get_params() == strategy.get_params()
    assert isinstance(get_strategy("BatchBALD"), skbal.BatchBALD)


# ------------------------------------------------------------ summaries


def _curve(strategy, repeat, points, groups_of=None):
    return [
        {
            "strategy": strategy,
            "repeat": repeat,
            "round": i,
            "n_labels": n,
            "accuracy": acc,
            "training_seconds": 1.0 + i,
            "acquisition_seconds": None if i == 0 else 0.5 * i,
            "queried_indices": np.array(groups_of[i] if groups_of else [], dtype=np.int64),
        }
        for i, (n, acc) in enumerate(points)
    ]


def test_summarize_by_hand():
    results = (
        _curve("a", 0, [(10, 0.5), (20, 0.8), (30, 0.9)], [[], [0, 1], [2, 3]])
        + _curve("a", 1, [(10, 0.6), (20, 0.7), (30, 0.95)], [[], [0, 2], [4, 5]])
        + _curve("a", 2, [(10, 0.6), (20, 0.7), (30, 0.7)], [[], [0, 1], [2, 3]])
    )
    groups = np.array([0, 0, 1, 1, 2, 3])  # rows 0/1 and 2/3 are copies
    (row,) = summarize(results, [0.75, 0.9], groups=groups)
    # labels to 0.75: 20, 30, never -> median 30; to 0.9: 30, 30, never -> 30
    assert row["labels_to_0.75"] == 30 and row["labels_to_0.9"] == 30
    assert row["final_accuracy"] == 0.9 and row["final_labels"] == 30
    assert row["final_accuracy_iqr"] == pytest.approx((0.8, 0.925))
    assert row["acquisition_seconds"] == pytest.approx(0.75)  # median of 0.5, 1.0 (x3)
    assert row["training_seconds"] == 2.0
    # Run 0: groups 0,0,1,1 -> 2 redundant of 4; run 1: 0,1,2,3 -> 0; run 2 like run 0.
    assert row["redundant_fraction"] == 0.5
    # More than half of the runs never reach 0.95: NaN, shown as ">30".
    (row,) = summarize(results, [0.95])
    assert np.isnan(row["labels_to_0.95"])
    assert "| >30 |" in format_summary([row])


def test_summarize_accepts_frames_and_rejects_empty_results():
    results = _curve("a", 0, [(10, 0.5), (20, 0.8)]) + _curve("b", 0, [(10, 0.5), (20, 0.6)])
    pd.testing.assert_frame_equal(pd.DataFrame(summarize(pd.DataFrame(results), [0.7])), pd.DataFrame(summarize(results, [0.7])))
    assert [row["strategy"] for row in summarize(results)] == ["a", "b"]
    with pytest.raises(ValueError, match="empty"):
        summarize([])
