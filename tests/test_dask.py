"""Strategies on Dask pools, on a real two-process LocalCluster (loopback).

dask is a test dependency (``make test`` installs the ``dask`` extra): these
tests import it and never skip.

What is tested (one cluster for the module; every comparison is against the
in-memory path on the same rows, with the same ``random_state``):

- ``import skbal`` does not import dask.
- Every strategy returns identical indices and scores on a dask array
  (chunks not aligned to skbal's blocks, so boundary rows move between
  tasks) and on a dask DataFrame as in memory: the top-k strategies, the
  stochastic ones (PowerBALD, PowerEntropy), Random, and BatchBALD with
  ``max_candidates``; other chunkings give the same result; the chunks
  were sampled on the workers; a real skorch MC-dropout net.
- Consistent dropout masks are the same on every worker: a row copied into
  two chunks, each sampled on a different worker (task restrictions, checked
  in the task stream), gets identical draws, equal to the in-memory
  ``sample_log_proba`` of the whole pool.
- BatchBALD without ``max_candidates`` on a Dask pool raises a ValueError
  naming it; strategies with only ``_select`` raise too.
- A worker killed while it samples (its process SIGKILLs itself once, in
  the net's forward): the query completes through Dask's rescheduling with
  the in-memory result. Killed at every attempt: ``KilledWorker`` is raised,
  no result.
- Bad pools fail clearly: NaN deep in the pool names its block's global rows; a
  wrong number of features fails on the client before any chunk task; a 1-d
  array and a dask Bag are rejected.
- The client's global numpy / torch RNG states are unchanged; the pool is
  not modified.
- joblib's dask backend runs a ``GridSearchCV`` temperature sweep of
  ``skbal.simulation.ActiveLearningSimulator`` on the cluster's workers,
  with the results of the sequential sweep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import dask
import dask.array as da
import dask.dataframe as dd
import distributed
import numpy as np
import pytest
import torch
from torch import nn

import skbal
from skbal.strategies._blocks import BLOCK_ROWS


@pytest.fixture(scope="module")
def client():
    # allowed-failures=1: a task may lose one worker and is rescheduled; a
    # second loss raises KilledWorker (keeps the kill tests short).
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    with cluster, distributed.Client(cluster) as client:
        client.wait_for_workers(2)
        yield client


@pytest.fixture(scope="module")
def pool(digits):
    return np.concatenate([digits[0]] * 3)  # 5391 rows: two blocks of 4096


def _strategies():
    return [
        skbal.BALD(query_size=7, n_mc_samples=6, random_state=3),  # independent masks (default)
        skbal.BALD(query_size=7, n_mc_samples=6, dropout_masks="consistent", random_state=3),
        skbal.Entropy(query_size=5, n_mc_samples=6, random_state=1),
        skbal.Margin(query_size=5, n_mc_samples=6, random_state=1),
        skbal.LeastConfidence(query_size=5, n_mc_samples=6, random_state=1),
        skbal.VariationRatios(query_size=5, n_mc_samples=6, random_state=1),
        skbal.MeanSTD(query_size=5, n_mc_samples=6, random_state=1),
        skbal.PowerBALD(query_size=9, n_mc_samples=6, temperature=0.5, random_state=2),
        skbal.PowerEntropy(query_size=9, n_mc_samples=6, random_state=2),
        skbal.Random(query_size=4, random_state=0),
        skbal.BatchBALD(query_size=4, n_mc_samples=6, max_candidates=40, random_state=4),
    ]


def _workers_that_ran(stream, name):
    """Workers that ran a task of function ``name`` (possibly fused with others)."""
    return {task["worker"] for task in stream.data if name in str(task["key"]).split("-")}


def test_import_skbal_does_not_import_dask():
    code = "import sys, skbal, skbal.distributed; sys.exit('dask' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_identical_to_memory_on_a_dask_array(client, mlp_net, pool):
    X_dask = da.from_array(pool, chunks=(1000, -1))  # boundaries inside blocks
    expected = [strategy.select(mlp_net, pool) for strategy in _strategies()]
    with distributed.get_task_stream(client) as stream:
        got = [strategy.select(mlp_net, X_dask) for strategy in _strategies()]
    for strategy, (indices, scores), (dask_indices, dask_scores) in zip(_strategies(), expected, got):
        np.testing.assert_array_equal(dask_indices, indices, err_msg=repr(strategy))
        np.testing.assert_array_equal(dask_scores, scores, err_msg=repr(strategy))
        assert dask_indices.dtype == np.int64 and dask_scores.dtype == np.float64
    assert _workers_that_ran(stream, "score_chunk")  # sampled on the cluster, not on the client


@pytest.mark.parametrize("chunks", [BLOCK_ROWS, 5391, (100, 4000, 1, 1290)])
def test_chunking_does_not_matter(client, mlp_net, pool, chunks):
    for strategy in (
        skbal.BALD(query_size=6, n_mc_samples=4, random_state=8),
        skbal.PowerBALD(query_size=6, n_mc_samples=4, random_state=8),
    ):
        expected = strategy.select(mlp_net, pool)
        got = strategy.select(mlp_net, da.from_array(pool, chunks=(chunks, -1)))
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])


def test_identical_to_memory_on_a_dask_dataframe(client, mlp_net, pool):
    import pandas as pd

    frame = pd.DataFrame(pool, columns=[f"x{i}" for i in range(pool.shape[1])])
    X_dask = dd.from_pandas(frame, npartitions=3)
    for strategy in (
        skbal.BALD(query_size=5, n_mc_samples=4, random_state=6),
        skbal.PowerEntropy(query_size=5, n_mc_samples=4, random_state=6),
        skbal.BatchBALD(query_size=3, n_mc_samples=4, max_candidates=30, random_state=6),
    ):
        indices, scores = strategy.select(mlp_net, frame)
        dask_indices, dask_scores = strategy.select(mlp_net, X_dask)
        np.testing.assert_array_equal(dask_indices, indices)
        np.testing.assert_array_equal(dask_scores, scores)


def test_consistent_masks_are_the_same_on_every_worker(client, mlp_net, pool):
    """Row 10 is copied to the last row; the two chunks are sampled on two
    different workers, in one query (one lazy array, one seed)."""
    from skbal.distributed import sample_log_proba

    X = pool.copy()
    X[-1] = X[10]
    log_probs = sample_log_proba(mlp_net, da.from_array(X, chunks=(BLOCK_ROWS, -1)), 8, random_state=5)
    assert log_probs.numblocks[0] == 2
    first_worker, second_worker = sorted(client.scheduler_info()["workers"])
    with distributed.get_task_stream(client) as stream:
        head = client.compute(log_probs[:BLOCK_ROWS], workers=[first_worker]).result()
        tail = client.compute(log_probs[BLOCK_ROWS:], workers=[second_worker]).result()
    assert _workers_that_ran(stream, "sample_chunk") == {first_worker, second_worker}
    np.testing.assert_array_equal(head[10], tail[-1])  # draw k: the same model on both workers
    assert not np.array_equal(head[10, 0], head[10, 1])  # the draws do differ from each other
    expected = skbal.sample_log_proba(mlp_net, X, 8, random_state=5, dropout_masks="consistent")
    np.testing.assert_array_equal(np.concatenate([head, tail]), expected)


def test_batchbald_needs_max_candidates_on_dask(client, mlp_net, pool):
    with pytest.raises(ValueError, match="max_candidates"):
        skbal.BatchBALD(query_size=3).select(mlp_net, da.from_array(pool, chunks=(2000, -1)))


def test_a_select_only_strategy_is_refused_on_dask(client, mlp_net, pool):
    class WholeArray(skbal.BALD):
        def _selector(self, n_instances, rng):
            return None

        def _select(self, log_probs, n_instances, rng, n_rows):  # pragma: no cover - never reached
            raise AssertionError

    with pytest.raises(ValueError, match="Dask"):
        WholeArray(query_size=2).select(mlp_net, da.from_array(pool, chunks=(2000, -1)))


# ---------------------------------------------------------------------------
# errors, side effects
# ---------------------------------------------------------------------------


def test_nan_deep_in_the_pool_names_its_rows(client, mlp_net, pool):
    X = pool.copy()
    X[5000, 3] = np.nan
    with pytest.raises(ValueError, match=r"Pool rows 4096\.\.5390 \(row numbers below count from 4096\): .*NaN.*row 904"):
        skbal.BALD(query_size=2).select(mlp_net, da.from_array(X, chunks=(1000, -1)))


def test_bad_pools_fail_on_the_client(client, mlp_net, pool):
    with distributed.get_task_stream(client) as stream:
        with pytest.raises(ValueError, match="(?i)feature"):
            skbal.BALD(query_size=2).select(mlp_net, da.from_array(pool[:, :10], chunks=(1000, -1)))
    assert not _workers_that_ran(stream, "score_chunk")
    with pytest.raises(ValueError, match="shape"):
        skbal.BALD(query_size=2).select(mlp_net, da.from_array(pool[:, 0], chunks=1000))
    import dask.bag

    with pytest.raises(TypeError, match="dask.array.Array or a dask DataFrame"):
        skbal.BALD(query_size=2).select(mlp_net, dask.bag.from_sequence(range(10)))
    with pytest.raises(ValueError, match="n_instances"):
        skbal.BALD().select(mlp_net, da.from_array(pool[:5], chunks=(2, -1)), 6)


def test_no_side_effects_on_the_client(client, mlp_net, pool):
    X = pool.copy()
    X_dask = da.from_array(X, chunks=(2000, -1))
    np.random.seed(123)
    torch.manual_seed(123)
    numpy_before, torch_before = np.random.get_state(), torch.get_rng_state()
    skbal.PowerBALD(query_size=3, n_mc_samples=4).select(mlp_net, X_dask)
    skbal.BatchBALD(query_size=2, n_mc_samples=4, max_candidates=10).select(mlp_net, X_dask)
    numpy_after = np.random.get_state()
    assert numpy_after[0] == numpy_before[0] and np.array_equal(numpy_after[1], numpy_before[1])
    assert numpy_after[2:] == numpy_before[2:]
    assert torch.equal(torch.get_rng_state(), torch_before)
    np.testing.assert_array_equal(X, pool)


# ---------------------------------------------------------------------------
# joblib's dask backend: a grid search spread over the cluster
# ---------------------------------------------------------------------------


def test_grid_search_on_joblibs_dask_backend(client, digits):
    import joblib
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GridSearchCV

    from skbal.simulation import ActiveLearningSimulator

    X, y = digits
    simulator = ActiveLearningSimulator(
        RandomForestClassifier(n_estimators=8),
        skbal.PowerBALD(),
        n_initial=20,
        query_size=10,
        budget=20,
        random_state=0,
    )
    grid = {"query_strategy__temperature": [0.25, 1.0, 4.0]}
    sequential = GridSearchCV(simulator, grid, cv=2).fit(X[:600], y[:600])
    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        on_dask = GridSearchCV(simulator, grid, cv=2, n_jobs=-1).fit(X[:600], y[:600])
    assert {task["worker"] for task in stream.data}, "no task ran on the cluster"
    np.testing.assert_array_equal(on_dask.cv_results_["mean_test_score"], sequential.cv_results_["mean_test_score"])
    assert on_dask.best_params_ == sequential.best_params_


# ---------------------------------------------------------------------------
# a worker killed mid-query
# ---------------------------------------------------------------------------


class SuicidalMLP(nn.Module):
    """An MLP whose forward kills its process when it runs in a Dask worker:
    once (the first worker to create ``flag``) or every time."""

    def __init__(self, hidden: int = 16):
        super().__init__()
        self.hidden = nn.Linear(64, hidden)
        self.dropout = nn.Dropout(0.5)
        self.out = nn.Linear(hidden, 10)
        self.flag = None
        self.always = False

    def forward(self, X):
        if self.flag is not None and _in_dask_worker():
            if self.always or _create(self.flag):
                os.kill(os.getpid(), signal.SIGKILL)
        return torch.softmax(self.out(torch.relu(self.dropout(self.hidden(X)))), dim=-1)


def _in_dask_worker() -> bool:
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True


def _create(path) -> bool:
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return False
    return True


@pytest.fixture
def suicidal_net(digits, toy, tmp_path):
    from skorch import NeuralNetClassifier

    net = toy.fit_seeded(NeuralNetClassifier(SuicidalMLP, **toy.NET_KWARGS), *digits)
    net.module_.flag = str(tmp_path / "killed")
    return net


def test_killed_worker_query_completes_with_the_same_result(client, suicidal_net, pool, tmp_path):
    strategy = skbal.PowerBALD(query_size=8, n_mc_samples=4, random_state=7)
    expected = strategy.select(suicidal_net, pool)  # in memory: never kills
    assert not (tmp_path / "killed").exists()
    got = strategy.select(suicidal_net, da.from_array(pool, chunks=(1500, -1)))
    assert (tmp_path / "killed").exists()  # a worker did die mid-query
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    _settle(client)


def test_killed_at_every_attempt_raises_killed_worker(client, suicidal_net, pool):
    suicidal_net.module_.always = True
    with pytest.raises(distributed.KilledWorker):
        skbal.BALD(query_size=3, n_mc_samples=4, random_state=0).select(
            suicidal_net, da.from_array(pool, chunks=(3000, -1))
        )
    _settle(client)


def _settle(client, timeout=120.0):
    """Two workers back, and no task of a failed query still running."""
    import time

    client.wait_for_workers(2, timeout=timeout)
    deadline = time.monotonic() + timeout
    while any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.2)
