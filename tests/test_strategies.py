"""Strategies on real skorch MC-dropout nets: behaviour, errors, sklearn API."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from torch import nn

import skbal
from skbal import acquisition


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y


@pytest.fixture(scope="module")
def net(digits):
    X, y = digits
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 10))
    return skbal.MCDropoutClassifier(
        module, criterion=nn.CrossEntropyLoss, classes=np.arange(10), max_epochs=30, lr=0.1,
        train_split=None, verbose=0, n_mc_samples=16, random_state=0,
    ).fit(X[:150], y[:150])


@pytest.fixture
def pool(digits):
    return digits[0][150:450]


def test_default_instances():
    assert isinstance(skbal.batchbald, skbal.BatchBALD)
    assert isinstance(skbal.bald, skbal.BALD)
    assert isinstance(skbal.power_bald, skbal.PowerBALD)
    assert isinstance(skbal.power_entropy, skbal.PowerEntropy)
    assert skbal.batchbald.dropout_masks == "consistent"


def test_batchbald_of_one_is_argmax_bald(net, pool):
    # Same random_state and masks: the same posterior samples.
    kwargs = dict(query_size=1, dropout_masks="consistent", random_state=3)
    [first], [gain] = skbal.BatchBALD(**kwargs).select(net, pool)
    [best], [score] = skbal.BALD(**kwargs).select(net, pool)
    assert first == best and gain == pytest.approx(score, rel=1e-12)


def test_tiny_temperature_power_bald_is_top_k_bald(net, pool):
    kwargs = dict(query_size=5, dropout_masks="consistent", random_state=1)
    power, _ = skbal.PowerBALD(temperature=1e-8, **kwargs).select(net, pool)
    top, _ = skbal.BALD(**kwargs).select(net, pool)
    np.testing.assert_array_equal(power, top)


def test_batchbald_spreads_over_duplicates(digits):
    """Triplicated pool, fully grown trees (one-hot draws): a copy of a chosen
    point has gain 0, so BatchBALD takes distinct points while any point with
    positive gain remains; top-k BALD takes the copies together."""
    X, y = digits
    forest = RandomForestClassifier(n_estimators=64, random_state=0).fit(X[:150], y[:150])
    repeated = np.repeat(X[150:250], 3, axis=0)
    group = np.repeat(np.arange(100), 3)
    top, _ = skbal.BALD(query_size=9).select(forest, repeated)
    batch, gains = skbal.BatchBALD(query_size=9, random_state=0).select(forest, repeated)
    assert np.unique(group[top]).size == 3  # exact copies tie and are taken together
    informative = gains > 1e-12
    assert informative.sum() >= 3
    # Every positive gain went to a new point, until the batch had identified
    # the tree: I[y_batch; ω] = H[ω] = log 64, after which all gains are 0.
    assert gains.sum() == pytest.approx(np.log(64), rel=1e-9)
    assert np.unique(group[batch[informative]]).size == informative.sum()
    assert (np.diff(gains) <= 1e-12).all()


def test_batchbald_on_mc_dropout_prefers_distinct_points(net, pool):
    """Soft draws: a copy keeps some gain (a second noisy label), yet fewer
    copies are taken than by top-k."""
    repeated = np.repeat(pool[:100], 3, axis=0)
    group = np.repeat(np.arange(100), 3)
    top, _ = skbal.BALD(query_size=9, dropout_masks="consistent", random_state=0).select(net, repeated)
    batch, gains = skbal.BatchBALD(query_size=9, random_state=0).select(net, repeated)
    assert np.unique(group[batch]).size > np.unique(group[top]).size
    assert (np.diff(gains) <= 1e-12).all()


def test_independent_masks_separate_copies(net, pool):
    repeated = np.repeat(pool[:1], 2, axis=0)
    consistent = skbal.sample_log_proba(net, repeated, random_state=0)
    np.testing.assert_array_equal(consistent[0], consistent[1])
    _, scores = skbal.BALD(query_size=2, dropout_masks="independent", random_state=0).select(net, repeated)
    assert scores[0] != scores[1]


def test_power_bald_temperature_grid_via_set_params(net, pool):
    strategy = skbal.PowerBALD(query_size=4, random_state=0)
    for temperature in (0.1, 1.0, 10.0):
        indices = clone(strategy).set_params(temperature=temperature)(net, pool)
        assert np.unique(indices).size == 4


def test_entropy_works_with_any_classifier_but_bald_needs_a_posterior(digits):
    X, y = digits
    logistic = LogisticRegression(max_iter=200).fit(X[:200], y[:200])
    indices, scores = skbal.Entropy(query_size=3).select(logistic, X[200:])
    # Posterior samples are float32 log-probabilities (the data contract).
    expected = acquisition.predictive_entropy(np.log(logistic.predict_proba(X[200:][indices]))[:, None, :])
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
    with pytest.raises(TypeError, match="(?i)support"):
        skbal.BALD()(logistic, X[200:])


def test_dataframe_pool(net, pool):
    indices = skbal.BatchBALD(query_size=3, random_state=0)(net, pd.DataFrame(pool))
    expected = skbal.BatchBALD(query_size=3, random_state=0)(net, pool)
    np.testing.assert_array_equal(indices, expected)


@pytest.mark.parametrize(
    "strategy, error, match",
    [
        (skbal.PowerBALD(temperature=0.0), ValueError, "temperature"),
        (skbal.PowerBALD(temperature=-1.0), ValueError, "temperature"),
        (skbal.BALD(query_size=0), ValueError, "query_size"),
        (skbal.BALD(n_mc_samples=0), ValueError, "n_mc_samples"),
        (skbal.BALD(dropout_masks="shared"), ValueError, "dropout_masks"),
        (skbal.BatchBALD(n_joint_samples=0), ValueError, "n_joint_samples"),
    ],
)
def test_bad_parameters_fail_before_sampling(net, pool, no_sampling, strategy, error, match):
    with pytest.raises(error, match=match):
        strategy(net, pool, n_instances=2)


def test_bad_pools_fail_before_sampling(net, pool, no_sampling):
    with_nan = pool.copy()
    with_nan[3, 5] = np.nan
    with pytest.raises(ValueError, match="(?i)nan"):
        skbal.batchbald(net, with_nan)
    with pytest.raises(ValueError, match="(?i)feature"):
        skbal.batchbald(net, pool[:, :10])
    with pytest.raises(ValueError, match="n_instances"):
        skbal.batchbald(net, pool[:5], n_instances=6)


def test_unfitted_net_raises_not_fitted(pool):
    module = nn.Sequential(nn.Linear(64, 10), nn.Dropout(0.5))
    with pytest.raises(NotFittedError):
        skbal.BALD()(skbal.MCDropoutClassifier(module), pool)


def test_unsupported_estimator_lists_what_is_supported(pool):
    with pytest.raises(TypeError, match="(?i)skorch"):
        skbal.BALD()(object(), pool)


def test_batchbald_with_independent_masks_warns(net, pool):
    with pytest.warns(UserWarning, match="consistent"):
        skbal.BatchBALD(query_size=2, dropout_masks="independent", random_state=0)(net, pool)


def test_random_never_calls_the_estimator(pool, no_sampling):
    indices = skbal.Random(query_size=5, random_state=0)(skbal.MCDropoutClassifier(nn.Linear(64, 10)), pool)
    assert np.unique(indices).size == 5


def test_strategy_does_not_change_the_net(net, pool):
    state = {k: v.clone() for k, v in net.module_.state_dict().items()}
    training = [m.training for m in net.module_.modules()]
    skbal.batchbald(net, pool, n_instances=3)
    for key, value in net.module_.state_dict().items():
        assert torch.equal(value, state[key])
    assert [m.training for m in net.module_.modules()] == training
