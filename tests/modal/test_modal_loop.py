"""skbal strategies inside real modAL loops, on both modAL protocols.

ActiveLearner + skorch nets (MCDropoutClassifier, a plain NeuralNetClassifier
with nn.Dropout, a Pipeline) query and teach for several rounds; every query
calls the strategy exactly once and returns the asked number of unique rows.
"""

import numpy as np
import pytest
import torch
from modAL.models import ActiveLearner, Committee
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from skorch import NeuralNetClassifier
from torch import nn

import skbal
from _modal_version import MODAL_042

N_CLASSES = 10


def _module(output_softmax=False):
    layers = [nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, N_CLASSES)]
    if output_softmax:
        layers.append(nn.Softmax(dim=-1))
    return nn.Sequential(*layers)


def _net(kind):
    torch.manual_seed(0)
    common = dict(
        classes=np.arange(N_CLASSES), optimizer=torch.optim.Adam, max_epochs=20, lr=0.01, train_split=None, verbose=0
    )
    if kind == "mc_dropout":
        return skbal.MCDropoutClassifier(
            _module(), criterion=nn.CrossEntropyLoss, n_mc_samples=8, random_state=0, **common
        )
    if kind == "plain_skorch":  # skorch's default NLLLoss: the module outputs probabilities
        return NeuralNetClassifier(_module(output_softmax=True), **common)
    to_float32 = FunctionTransformer(lambda X: np.asarray(X, dtype=np.float32))
    return make_pipeline(StandardScaler(), to_float32, NeuralNetClassifier(_module(output_softmax=True), **common))


STRATEGIES = {
    "BALD": lambda: skbal.BALD(n_mc_samples=8, random_state=0),
    "PowerBALD": lambda: skbal.PowerBALD(n_mc_samples=8, temperature=0.5, random_state=0),
    "PowerEntropy": lambda: skbal.PowerEntropy(n_mc_samples=8, random_state=0),
    "BatchBALD": lambda: skbal.BatchBALD(n_mc_samples=8, n_joint_samples=500, random_state=0),
}


def _spy_on(strategy):
    calls = []
    select = strategy.select

    def counted(*args, **kwargs):
        calls.append(args)
        return select(*args, **kwargs)

    strategy.select = counted
    return calls


@pytest.mark.parametrize("kind", ["mc_dropout", "plain_skorch", "pipeline"])
@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_query_teach_loop(digits, kind, name):
    X, y = digits
    X_train, y_train, X_pool, y_pool = X[:60], y[:60], X[60:400], y[60:400]
    strategy = STRATEGIES[name]()
    calls = _spy_on(strategy)
    learner = ActiveLearner(estimator=_net(kind), query_strategy=strategy, X_training=X_train, y_training=y_train)
    for round_, n_instances in enumerate((1, 2, 5)):
        indices, rows = learner.query(X_pool, n_instances=n_instances)
        assert len(calls) == round_ + 1, "the strategy must run exactly once per query"
        indices = np.asarray(indices)
        assert indices.shape == (n_instances,)
        assert np.unique(indices).size == n_instances
        assert ((indices >= 0) & (indices < len(X_pool))).all()
        np.testing.assert_array_equal(rows, X_pool[indices])
        learner.teach(rows, y_pool[indices])
        X_pool, y_pool = np.delete(X_pool, indices, axis=0), np.delete(y_pool, indices)
    assert learner.score(X[1000:], y[1000:]) > 0.3


def test_default_instances_and_positional_n_instances(digits):
    X, y = digits
    learner = ActiveLearner(estimator=_net("mc_dropout"), query_strategy=skbal.batchbald, X_training=X[:60], y_training=y[:60])
    indices, rows = learner.query(X[60:300], n_instances=2)
    assert np.asarray(indices).shape == (2,)
    if not MODAL_042:  # 0.4.1 forwards positional arguments to the strategy
        indices, _ = learner.query(X[60:300], 3)
        assert np.asarray(indices).shape == (3,)


def test_return_metrics(digits):
    """0.4.2: the scores come back as metrics. 0.4.1 forwards return_metrics to
    the strategy, which says it needs 0.4.2 (rather than breaking unpacking)."""
    X, y = digits
    learner = ActiveLearner(
        estimator=_net("mc_dropout"), query_strategy=skbal.BatchBALD(n_mc_samples=8), X_training=X[:60], y_training=y[:60]
    )
    if MODAL_042:
        indices, rows, gains = learner.query(X[60:300], n_instances=3, return_metrics=True)
        assert np.asarray(indices).shape == gains.shape == (3,)
        assert (np.diff(gains) <= 1e-12).all()  # BatchBALD gains never increase
    else:
        with pytest.raises(TypeError, match="return_metrics needs modAL-python >= 0.4.2"):
            learner.query(X[60:300], n_instances=3, return_metrics=True)


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_failures_are_not_retried(digits, error):
    """modAL 0.4.2 re-calls a strategy on any exception; skbal re-raises at once."""
    X, y = digits
    strategy = skbal.BALD(n_mc_samples=4)
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        raise error("stop")

    strategy.select = failing
    learner = ActiveLearner(estimator=_net("mc_dropout"), query_strategy=strategy, X_training=X[:60], y_training=y[:60])
    with pytest.raises(error):
        learner.query(X[60:300], n_instances=2)
    assert len(calls) == 1
    strategy.select = lambda *args: (np.array([0, 1]), np.zeros(2))  # the next query is fresh
    assert np.asarray(learner.query(X[60:300], n_instances=2)[0]).tolist() == [0, 1]


def test_bad_n_instances_fails_before_sampling(digits, monkeypatch):
    X, y = digits
    learner = ActiveLearner(estimator=_net("mc_dropout"), query_strategy=skbal.BALD(), X_training=X[:60], y_training=y[:60])
    sampled = []
    monkeypatch.setattr(skbal.posterior._adapters, "mc_dropout_log_proba", lambda *a, **k: sampled.append(1))
    with pytest.raises(ValueError, match="n_instances"):
        learner.query(X[60:70], n_instances=11)
    assert sampled == []


def test_committee_of_forests(digits):
    X, y = digits
    members = [
        ActiveLearner(estimator=RandomForestClassifier(n_estimators=5, random_state=seed), X_training=X[:80], y_training=y[:80])
        for seed in range(3)
    ]
    committee = Committee(learner_list=members, query_strategy=skbal.BALD(random_state=0))
    indices, rows = committee.query(X[80:400], n_instances=4)
    assert np.unique(np.asarray(indices)).size == 4
    committee.teach(rows, y[80:400][np.asarray(indices)])


def test_example_script_runs(tmp_path):
    import pathlib
    import subprocess
    import sys

    script = pathlib.Path(__file__).parents[2] / "examples" / "modal_batchbald_loop.py"
    result = subprocess.run(
        [sys.executable, str(script), "--rounds", "2"], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["round", "labels", "test", "accuracy"] and len(lines) == 4
