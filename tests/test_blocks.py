"""Block-wise queries in memory (the same machinery runs on Dask).

What is tested:

- ``Candidates.merge`` is exact and grouping-free: any split of the rows
  into blocks, any capacity, ties and a first tier give the best rows of the
  whole array (hypothesis), payloads follow their rows, and overlapping
  candidate sets raise.
- Strategies on a pool of several blocks (more than ``BLOCK_ROWS`` rows, a
  real skorch MC-dropout net): top-k strategies equal ``top_k`` of the score
  of ``sample_log_proba`` with the same masks; PowerBALD equals
  ``stochastic_top_k`` on those scores with the generator the strategy
  hands it; consistent masks are one set of K masks across blocks (a row
  copied into two blocks gets identical draws), independent masks differ
  between blocks.
- BatchBALD without ``max_candidates`` samples block by block into one
  array: the same as ``batchbald`` on one ``sample_log_proba`` pass.
- BatchBALD's ``max_candidates``: ``max_candidates >= N`` equals None; when
  every chosen gain exceeds the best BALD score left out, a small
  ``max_candidates`` gives exactly the full result; the candidates are the
  top by BALD; bad values raise before any MC pass.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import skbal
from skbal import acquisition
from skbal.acquisition._selection import tiered_top_k
from skbal.strategies._blocks import BLOCK_ROWS, Candidates
from skbal.utils import check_random_state, spawn_seed

SETTINGS = settings(max_examples=80, derandomize=True, deadline=None, database=None)


# ---------------------------------------------------------------------------
# Candidates
# ---------------------------------------------------------------------------


@SETTINGS
@given(
    st.lists(st.integers(-3, 3), min_size=1, max_size=60),
    st.data(),
)
def test_merge_is_exact_for_any_blocks(values, data):
    keys = np.array(values, dtype=np.float64)  # many ties
    n = keys.size
    first = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n))) if data.draw(st.booleans()) else None
    capacity = data.draw(st.integers(1, n))
    cuts = sorted(set(data.draw(st.lists(st.integers(1, n - 1), max_size=6)) if n > 1 else []) | {0, n})
    payload = np.arange(n, dtype=np.float32)[:, None, None] * np.ones((1, 2, 3), np.float32)
    parts = [
        Candidates.from_block(
            lo, keys[lo:hi], -keys[lo:hi], capacity=capacity,
            first=None if first is None else first[lo:hi], payload=payload[lo:hi],
        )
        for lo, hi in zip(cuts[:-1], cuts[1:])
    ]
    # Merge in a random grouping: pairs of neighbours, repeatedly.
    while len(parts) > 1:
        i = data.draw(st.integers(0, len(parts) - 2))
        parts[i : i + 2] = [Candidates.merge(parts[i : i + 2])]
    merged = parts[0]
    assert merged.n_rows == n and len(merged) == capacity
    assert (np.diff(merged.index) > 0).all()
    best = merged.best(capacity)
    np.testing.assert_array_equal(merged.index[best], tiered_top_k(keys, capacity, first))
    np.testing.assert_array_equal(merged.score, -keys[merged.index])
    np.testing.assert_array_equal(merged.payload[:, 0, 0], merged.index)


def test_merge_rejects_overlapping_rows():
    a = Candidates.from_block(0, [1.0, 2.0], [1.0, 2.0], capacity=2)
    with pytest.raises(ValueError, match="twice"):
        Candidates.merge([a, a])


# ---------------------------------------------------------------------------
# strategies on pools of several blocks
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_pool(digits):
    pool = np.concatenate([digits[0]] * 3)  # 5391 rows: two blocks
    assert pool.shape[0] > BLOCK_ROWS
    return pool


@pytest.mark.parametrize(
    "strategy_class, score", [(skbal.BALD, acquisition.bald), (skbal.Entropy, acquisition.predictive_entropy),
                              (skbal.MeanSTD, acquisition.mean_std)]
)
def test_top_k_over_blocks_equals_top_k_of_the_whole_pool(mlp_net, big_pool, strategy_class, score):
    strategy = strategy_class(query_size=12, n_mc_samples=6, dropout_masks="consistent", random_state=4)
    indices, scores = strategy.select(mlp_net, big_pool)
    rng = check_random_state(4)
    log_probs = skbal.sample_log_proba(mlp_net, big_pool, 6, random_state=spawn_seed(rng), dropout_masks="consistent")
    all_scores = score(log_probs)
    np.testing.assert_array_equal(indices, acquisition.top_k(all_scores, 12))
    np.testing.assert_allclose(scores, all_scores[indices], rtol=1e-6)


def test_power_bald_over_blocks_equals_stochastic_top_k(mlp_net, big_pool):
    strategy = skbal.PowerBALD(query_size=15, n_mc_samples=6, temperature=0.3, dropout_masks="consistent",
                               random_state=9)
    indices, _ = strategy.select(mlp_net, big_pool)
    rng = check_random_state(9)
    log_probs = skbal.sample_log_proba(mlp_net, big_pool, 6, random_state=spawn_seed(rng), dropout_masks="consistent")
    expected = acquisition.stochastic_top_k(acquisition.bald(log_probs), 15, temperature=0.3, random_state=rng)
    np.testing.assert_array_equal(indices, expected)
    assert (indices >= BLOCK_ROWS).any() and (indices < BLOCK_ROWS).any()  # both blocks take part


def test_batchbald_over_blocks_equals_batchbald_of_the_whole_pool(mlp_net, big_pool):
    """Without max_candidates the samples are drawn block by block into one
    array: with consistent masks, the same draws as one pass over the pool."""
    indices, gains = skbal.BatchBALD(query_size=5, n_mc_samples=6, random_state=8).select(mlp_net, big_pool)
    rng = check_random_state(8)
    log_probs = skbal.sample_log_proba(mlp_net, big_pool, 6, random_state=spawn_seed(rng), dropout_masks="consistent")
    expected = acquisition.batchbald(log_probs, 5, random_state=rng)
    np.testing.assert_array_equal(indices, expected[0])
    np.testing.assert_array_equal(gains, expected[1])


def _copy_in_two_blocks(pool, row):
    copy = pool.copy()
    copy[BLOCK_ROWS + 7] = copy[row]
    return copy


@pytest.mark.parametrize("masks", ["consistent", "independent"])
def test_masks_across_blocks(mlp_net, big_pool, masks):
    """Entropy's scores of a row and its copy in the next block: equal draws
    (consistent: one set of K masks for the pool) or not (independent)."""
    pool = _copy_in_two_blocks(big_pool, 3)
    strategy = skbal.BALD(query_size=pool.shape[0], n_mc_samples=6, dropout_masks=masks, random_state=0)
    indices, scores = strategy.select(mlp_net, pool)
    by_row = dict(zip(indices.tolist(), scores.tolist()))
    if masks == "consistent":
        assert by_row[3] == by_row[BLOCK_ROWS + 7]
    else:
        assert by_row[3] != by_row[BLOCK_ROWS + 7]


def test_batchbald_max_candidates_covering_the_pool_equals_none(mlp_net, digits):
    pool = digits[0][:600]
    kwargs = dict(query_size=4, n_mc_samples=8, random_state=2)
    full = skbal.BatchBALD(**kwargs).select(mlp_net, pool)
    covering = skbal.BatchBALD(max_candidates=600, **kwargs).select(mlp_net, pool)
    np.testing.assert_array_equal(covering[0], full[0])
    np.testing.assert_array_equal(covering[1], full[1])


def test_batchbald_max_candidates_exact_when_cut_points_cannot_win(mlp_net, digits):
    """A pool of a few informative points among many the net is sure about:
    every chosen gain beats the best BALD score cut, so the pre-selected
    greedy returns the full greedy's batch."""
    X = digits[0]
    kwargs = dict(query_size=2, n_mc_samples=8, random_state=5)
    seed = spawn_seed(check_random_state(5))  # the strategy's masks: the same K models for any pool
    log_probs = skbal.sample_log_proba(mlp_net, X, 8, random_state=seed, dropout_masks="consistent")
    order = np.argsort(-acquisition.bald(log_probs), kind="stable")
    pool = np.concatenate([X[order[1000:]], X[order[:20]]])  # ranks >= 1000 by BALD, then the top 20
    full_indices, full_gains = skbal.BatchBALD(**kwargs).select(mlp_net, pool)
    cut_indices, cut_gains = skbal.BatchBALD(max_candidates=20, **kwargs).select(mlp_net, pool)
    bald_all = acquisition.bald(skbal.sample_log_proba(mlp_net, pool, 8, random_state=seed, dropout_masks="consistent"))
    kept = acquisition.top_k(bald_all, 20)
    best_cut = np.delete(bald_all, kept).max()
    assert full_gains.min() > best_cut  # the condition under which the cut is exact
    np.testing.assert_array_equal(cut_indices, full_indices)
    np.testing.assert_array_equal(cut_gains, full_gains)
    assert set(cut_indices.tolist()) <= set(kept.tolist())


def test_batchbald_max_candidates_chooses_among_the_top_bald(mlp_net, digits):
    pool = digits[0][:800]
    kwargs = dict(query_size=5, n_mc_samples=8, random_state=3)
    indices, gains = skbal.BatchBALD(max_candidates=10, **kwargs).select(mlp_net, pool)
    rng = check_random_state(3)
    log_probs = skbal.sample_log_proba(mlp_net, pool, 8, random_state=spawn_seed(rng), dropout_masks="consistent")
    kept = np.sort(acquisition.top_k(acquisition.bald(log_probs), 10))
    chosen, expected_gains = acquisition.batchbald(log_probs[kept], 5, random_state=rng)
    np.testing.assert_array_equal(indices, kept[chosen])
    np.testing.assert_allclose(gains, expected_gains, rtol=1e-12)


@pytest.mark.parametrize(
    "max_candidates, error, match",
    [(0, ValueError, "max_candidates"), (1.5, TypeError, "max_candidates"), (3, ValueError, "max_candidates")],
)
def test_bad_max_candidates_fail_before_sampling(mlp_net, digits, no_sampling, max_candidates, error, match):
    with pytest.raises(error, match=match):
        skbal.BatchBALD(max_candidates=max_candidates).select(mlp_net, digits[0][:50], 4)
