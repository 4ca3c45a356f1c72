"""Progress bars inside one long query, and the callback that drives BatchBALD's.

What is tested:

- ``acquisition.batchbald(callback=...)`` is called once per chosen point,
  in order, with the returned index and gain; a non-callable raises first.
- A strategy with ``verbose`` on opens ``tqdm.auto`` bars over its MC
  sampling (total = pool rows, advanced to the total) and, for BatchBALD,
  its greedy steps (total = points chosen); with ``verbose=0`` none is
  created; the choices are the same either way; the real bar reaches
  stderr once the delay has passed; a bad ``verbose`` raises before any MC
  pass; a progress phase outside any query reports nowhere.
- ``ActiveLearningSimulator(verbose=1)`` gives its verbose to a strategy
  left at ``verbose=0`` (without changing the user's instance) and keeps a
  strategy's own non-zero level; the CLI's ``-v`` and ``-q`` exclude each
  other.
"""

import numpy as np
import pytest
import tqdm.auto

from sklearn.ensemble import RandomForestClassifier

import skbal
from skbal import acquisition
from skbal._cli import main
from skbal.simulation import ActiveLearningSimulator
from skbal.strategies._blocks import BLOCK_ROWS
from skbal.utils import _progress
from skbal.utils._progress import progress_phase


class RecordingBar:
    """Stands in for ``tqdm.auto.tqdm``: records each bar's description, total and count."""

    bars = []

    def __init__(self, *, total, desc, unit, leave=True, delay=0.0):
        self.total, self.desc, self.unit, self.n, self.closed = total, desc, unit, 0, False
        self.leave, self.delay = leave, delay
        RecordingBar.bars.append(self)

    def set_postfix(self, **kwargs):
        pass

    def update(self, n=1):
        assert not self.closed
        self.n += n

    def close(self):
        self.closed = True


@pytest.fixture
def bars(monkeypatch):
    RecordingBar.bars = []
    monkeypatch.setattr(tqdm.auto, "tqdm", RecordingBar)
    return RecordingBar.bars


@pytest.fixture(scope="module")
def big_pool(digits):
    return np.concatenate([digits[0]] * 3)  # 5391 rows: two sampling blocks


def _summary(bars):
    return [(bar.desc, bar.unit, bar.total, bar.n, bar.closed) for bar in bars]


# ---------------------------------------------------------------------------
# the callback of acquisition.batchbald
# ---------------------------------------------------------------------------


def test_batchbald_callback_sees_every_choice_in_order():
    rng = np.random.default_rng(0)
    log_probs = np.log(rng.dirichlet(np.ones(4), size=(60, 8)))
    seen = []
    indices, gains = acquisition.batchbald(log_probs, 5, callback=lambda i, gain: seen.append((i, gain)))
    assert [i for i, _ in seen] == indices.tolist()
    np.testing.assert_array_equal([gain for _, gain in seen], gains)
    same = acquisition.batchbald(log_probs, 5)
    np.testing.assert_array_equal(same[0], indices)


def test_batchbald_rejects_a_callback_that_is_not_callable():
    with pytest.raises(TypeError, match="callback must be callable"):
        acquisition.batchbald(np.log(np.full((3, 2, 2), 0.5)), 1, callback="tqdm")


# ---------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------


def test_bald_verbose_reports_every_row_of_the_pool(mlp_net, big_pool, bars):
    quiet = skbal.BALD(query_size=5, n_mc_samples=4, random_state=0).select(mlp_net, big_pool)
    assert bars == []  # verbose=0: no bar at all
    loud = skbal.BALD(query_size=5, n_mc_samples=4, random_state=0, verbose=1).select(mlp_net, big_pool)
    assert _summary(bars) == [("BALD: MC sampling and scoring", "row", len(big_pool), len(big_pool), True)]
    assert bars[0].leave is False and bars[0].delay == _progress.DELAY_SECONDS
    np.testing.assert_array_equal(loud[0], quiet[0])
    np.testing.assert_array_equal(loud[1], quiet[1])


@pytest.mark.parametrize("max_candidates", [None, 100])
def test_batchbald_verbose_reports_sampling_and_greedy_steps(mlp_net, big_pool, bars, max_candidates):
    kwargs = dict(query_size=4, n_mc_samples=4, max_candidates=max_candidates, random_state=1)
    quiet = skbal.BatchBALD(**kwargs).select(mlp_net, big_pool)
    assert bars == []
    loud = skbal.BatchBALD(verbose=2, **kwargs).select(mlp_net, big_pool)
    sampling = "BatchBALD: MC sampling" + ("" if max_candidates is None else " and scoring")
    assert _summary(bars) == [
        (sampling, "row", len(big_pool), len(big_pool), True),
        ("BatchBALD: greedy steps", "point", 4, 4, True),
    ]
    np.testing.assert_array_equal(loud[0], quiet[0])
    np.testing.assert_array_equal(loud[1], quiet[1])


def test_power_bald_verbose_same_choices(mlp_net, big_pool, bars):
    kwargs = dict(query_size=6, n_mc_samples=4, random_state=3)
    quiet = skbal.PowerBALD(**kwargs).select(mlp_net, big_pool)
    loud = skbal.PowerBALD(verbose=True, **kwargs).select(mlp_net, big_pool)
    np.testing.assert_array_equal(loud[0], quiet[0])
    assert [bar.desc for bar in bars] == ["PowerBALD: MC sampling and scoring"]


def test_the_real_bar_reaches_stderr(mlp_net, digits, capsys, monkeypatch):
    monkeypatch.setattr(_progress, "DELAY_SECONDS", 0.0)
    skbal.BatchBALD(query_size=2, n_mc_samples=4, random_state=0, verbose=1).select(mlp_net, digits[0][:300])
    err = capsys.readouterr().err
    assert "BatchBALD: MC sampling" in err and "/300" in err
    assert "BatchBALD: greedy steps" in err and "/2" in err


def test_a_quick_query_stays_silent(mlp_net, digits, capsys):
    skbal.BALD(query_size=2, n_mc_samples=4, random_state=0, verbose=1).select(mlp_net, digits[0][:300])
    assert capsys.readouterr().err == ""  # under DELAY_SECONDS: no bar drawn


@pytest.mark.parametrize("verbose", [-1, 0.5, "yes", None])
def test_bad_verbose_fails_before_sampling(mlp_net, digits, no_sampling, verbose):
    with pytest.raises(ValueError, match="verbose must be an int >= 0"):
        skbal.BALD(verbose=verbose).select(mlp_net, digits[0][:50])


def test_a_phase_outside_any_query_reports_nowhere(bars):
    with progress_phase(10, "anything", "row") as update:
        update(10)
    assert bars == []


def test_blocks_are_reported_as_they_finish(mlp_net, big_pool, bars):
    counts = []
    original = RecordingBar.update

    def update(self, n=1):
        counts.append(n)
        original(self, n)

    RecordingBar.update = update
    try:
        skbal.Entropy(query_size=3, n_mc_samples=2, verbose=1, random_state=0).select(mlp_net, big_pool)
    finally:
        RecordingBar.update = original
    assert counts == [BLOCK_ROWS, len(big_pool) - BLOCK_ROWS]


# ---------------------------------------------------------------------------
# the simulator and the CLI
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("strategy_verbose, expected", [(0, 1), (2, 2)])
def test_simulator_verbose_reaches_the_strategy(digits, monkeypatch, bars, strategy_verbose, expected):
    X, y = digits
    seen = []
    original = skbal.BatchBALD.select

    def select(self, estimator, X_pool, n_instances=None):
        seen.append(self.verbose)
        return original(self, estimator, X_pool, n_instances)

    monkeypatch.setattr(skbal.BatchBALD, "select", select)
    strategy = skbal.BatchBALD(verbose=strategy_verbose)
    sim = ActiveLearningSimulator(
        RandomForestClassifier(n_estimators=5), strategy, n_initial=10, query_size=3, budget=6,
        verbose=1, random_state=0,
    )
    sim.fit(X[:400], y[:400])
    assert seen == [expected, expected]
    assert strategy.verbose == strategy_verbose  # the user's instance is untouched
    descs = [bar.desc for bar in bars]
    assert descs[0] == "ActiveLearningSimulator"
    assert descs[1:] == ["BatchBALD: MC sampling", "BatchBALD: greedy steps"] * 2


def test_cli_verbose_and_quiet_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["-q", "-v"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
