"""Acceptance tests for the selectors ``top_k`` and ``stochastic_top_k``.

What is tested:

- ``top_k``: the k highest scores in descending order, ties to the lower
  index (against the reference, also under hypothesis), int64 output, errors
  for k < 1, k > N, NaN scores, and TypeError for a non-integer k.
- ``stochastic_top_k`` (Gumbel-top-k): the first pick's frequencies over
  20,000 seeded draws follow s^(1/T)/sum (power, T = 0.5 and 2), exp(s/T)/sum
  (softmax) and rank^(-1/T)/sum (softrank, ties: lower index ranks first),
  checked with a chi-square test (p > 1e-3, fixed seeds); the first two
  picks follow the without-replacement (Plackett-Luce) law; in power mode
  points with score <= 0 come after every positive one and in uniformly
  random order; T = 1e-6 gives exactly ``top_k``; the same random_state
  (int, RandomState, Generator) gives the same result; the global numpy and
  torch RNG states are untouched; errors for bad temperature, mode, k, NaN or
  +inf scores; read-only inputs are accepted and not changed.
- Counter-based noise: a row's Gumbel noise depends only on the seed and
  its global position (any split of the rows into ranges gives the same
  values), is i.i.d. Gumbel(0, 1) within and across blocks (KS test, no
  repeated block), and a pool crossing block boundaries still samples
  exactly ∝ s^(1/T) (chi-square on rows in different blocks, with the real
  block size); keys computed chunk by chunk give ``stochastic_top_k``'s draw.
"""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chisquare, kstest

import reference as R
from skbal.acquisition import stochastic_top_k, top_k
from skbal.acquisition._selection import GUMBEL_BLOCK_ROWS, gumbel_noise, stochastic_keys, tiered_top_k
from skbal.utils import check_random_state, spawn_seed

SETTINGS = settings(max_examples=60, derandomize=True, deadline=None, database=None)
MODES = ["power", "softmax", "softrank"]
N_DRAWS = 20_000
P_MIN = 1e-3  # chi-square: a correct sampler fails a given seed with probability 1e-3


def _seeds(n, entropy):
    """n distinct int seeds, fixed by ``entropy``."""
    return np.random.default_rng(entropy).choice(2**31 - 1, size=n, replace=False)


def _first_pick_counts(scores, *, n_draws=N_DRAWS, entropy=0, **kwargs):
    counts = np.zeros(len(scores), dtype=np.int64)
    for seed in _seeds(n_draws, entropy):
        counts[stochastic_top_k(scores, 1, random_state=int(seed), **kwargs)[0]] += 1
    return counts


def _assert_frequencies(counts, probabilities):
    probabilities = np.asarray(probabilities, dtype=np.float64)
    probabilities = probabilities / probabilities.sum()
    expected = counts.sum() * probabilities
    result = chisquare(counts, expected)
    assert result.pvalue > P_MIN, (counts, expected, result)


# ---------------------------------------------------------------------------
# top_k
# ---------------------------------------------------------------------------


def test_top_k_descending_with_ties_to_lower_index():
    scores = np.array([1.0, 3.0, 3.0, 2.0, 3.0, -1.0])
    out = top_k(scores, 3)
    assert out.dtype == np.int64 and out.shape == (3,)
    np.testing.assert_array_equal(out, [1, 2, 4])
    np.testing.assert_array_equal(top_k(scores, 6), [1, 2, 4, 3, 0, 5])
    np.testing.assert_array_equal(top_k(scores, 1), [1])


def test_top_k_accepts_numpy_integers():
    scores = np.array([0.2, 0.9, 0.5])
    np.testing.assert_array_equal(top_k(scores, np.int64(2)), [1, 2])
    np.testing.assert_array_equal(top_k(scores, np.int32(1)), [1])


@SETTINGS
@given(
    st.lists(st.integers(-5, 5).map(float) | st.floats(-10, 10), min_size=1, max_size=30),
    st.data(),
)
def test_top_k_matches_reference(values, data):
    scores = np.array(values)
    k = data.draw(st.integers(1, len(scores)))
    out = top_k(scores, k)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, R.top_k(scores, k))


@pytest.mark.parametrize("k", [0, -1, 6])
def test_top_k_k_out_of_range(k):
    with pytest.raises(ValueError, match=r"\bk\b"):
        top_k(np.arange(5.0), k)


@pytest.mark.parametrize("k", [2.0, 1.5, "2"])
def test_top_k_non_integer_k(k):
    with pytest.raises(TypeError):
        top_k(np.arange(5.0), k)


def test_top_k_nan_scores():
    with pytest.raises(ValueError, match=r"(?i)nan|finite|scores"):
        top_k(np.array([0.1, np.nan, 0.3]), 1)


def test_top_k_read_only_input():
    scores = np.array([0.3, 0.1, 0.9, 0.5])
    scores.setflags(write=False)
    np.testing.assert_array_equal(top_k(scores, 2), [2, 3])
    np.testing.assert_array_equal(scores, [0.3, 0.1, 0.9, 0.5])


# ---------------------------------------------------------------------------
# stochastic_top_k: distributions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_power_first_pick_frequencies(temperature):
    scores = np.array([0.2, 0.5, 1.0, 1.5, 2.5])
    counts = _first_pick_counts(scores, mode="power", temperature=temperature, entropy=1)
    _assert_frequencies(counts, scores ** (1.0 / temperature))


def test_power_is_the_default_mode_with_temperature_1():
    scores = np.array([0.2, 0.5, 1.0, 1.5, 2.5])
    counts = _first_pick_counts(scores, entropy=2)
    _assert_frequencies(counts, scores)


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_softmax_first_pick_frequencies(temperature):
    scores = np.array([-1.0, 0.0, 0.3, 1.0, 1.2])  # negative scores are fine here
    counts = _first_pick_counts(scores, mode="softmax", temperature=temperature, entropy=3)
    _assert_frequencies(counts, np.exp(scores / temperature))


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_softrank_first_pick_frequencies(temperature):
    # ranks (1 = highest; the tie between rows 0 and 2 goes to row 0): 3, 1, 4, 5, 2
    scores = np.array([0.3, 0.9, 0.3, 0.1, 0.6])
    ranks = np.array([3, 1, 4, 5, 2], dtype=np.float64)
    counts = _first_pick_counts(scores, mode="softrank", temperature=temperature, entropy=4)
    _assert_frequencies(counts, ranks ** (-1.0 / temperature))


def test_power_first_two_picks_are_without_replacement():
    """P(first=i, second=j) = p_i p_j / (1 - p_i) (Plackett-Luce)."""
    scores = np.array([1.0, 2.0, 3.0, 4.0])
    p = scores / scores.sum()
    pairs = list(itertools.permutations(range(4), 2))
    counts = dict.fromkeys(pairs, 0)
    for seed in _seeds(N_DRAWS, 5):
        first, second = stochastic_top_k(scores, 2, mode="power", random_state=int(seed))
        counts[(int(first), int(second))] += 1
    expected = [p[i] * p[j] / (1 - p[i]) for i, j in pairs]
    _assert_frequencies(np.array([counts[pair] for pair in pairs]), expected)


def test_power_non_positive_scores_come_last_in_uniform_order():
    scores = np.array([0.0, 1.0, 0.0, 2.0, -0.5, 0.3])
    positive, non_positive = {1, 3, 5}, [0, 2, 4]
    fourth = np.zeros(len(scores), dtype=np.int64)
    for seed in _seeds(3000, 6):
        out = stochastic_top_k(scores, len(scores), mode="power", temperature=1.0, random_state=int(seed))
        assert set(out[:3].tolist()) == positive, out
        assert sorted(out.tolist()) == list(range(len(scores)))
        fourth[out[3]] += 1
    _assert_frequencies(fourth[non_positive], np.ones(3))


def test_power_never_picks_a_non_positive_score_first():
    scores = np.array([0.0, 0.01, 0.0, -3.0])
    for seed in range(200):
        assert stochastic_top_k(scores, 1, mode="power", random_state=seed)[0] == 1


@pytest.mark.parametrize("mode", MODES)
def test_tiny_temperature_gives_top_k(mode):
    # distinct scores with gaps >= 0.08 (>= 0.08 in log too): key gaps >= 8e4
    scores = np.random.default_rng(7).permutation(np.linspace(0.1, 1.0, 12))
    for seed in range(5):
        for k in (1, 5, 12):
            out = stochastic_top_k(scores, k, mode=mode, temperature=1e-6, random_state=seed)
            np.testing.assert_array_equal(out, top_k(scores, k))


def test_tiny_temperature_softrank_keeps_top_k_tie_order():
    scores = np.array([0.5, 0.9, 0.5, 0.9, 0.1, 0.5])
    for seed in range(5):
        out = stochastic_top_k(scores, 6, mode="softrank", temperature=1e-6, random_state=seed)
        np.testing.assert_array_equal(out, top_k(scores, 6))


# ---------------------------------------------------------------------------
# stochastic_top_k: output, randomness, validation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("k", [1, 4, 10])
def test_output_is_k_unique_int64_indices(mode, k):
    scores = np.random.default_rng(8).random(10)
    out = stochastic_top_k(scores, k, mode=mode, random_state=0)
    assert isinstance(out, np.ndarray) and out.dtype == np.int64 and out.shape == (k,)
    assert len(set(out.tolist())) == k
    assert out.min() >= 0 and out.max() < 10


@pytest.mark.parametrize("mode", MODES)
def test_same_random_state_same_result(mode):
    scores = np.random.default_rng(9).random(30)

    def run(random_state):
        return stochastic_top_k(scores, 10, mode=mode, temperature=2.0, random_state=random_state)

    np.testing.assert_array_equal(run(42), run(42))
    np.testing.assert_array_equal(run(np.random.RandomState(42)), run(np.random.RandomState(42)))
    np.testing.assert_array_equal(run(np.random.default_rng(42)), run(np.random.default_rng(42)))
    # and random_state is actually used
    assert len({tuple(run(seed).tolist()) for seed in range(10)}) > 1


def _numpy_state_equal(a, b):
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("random_state", [None, 0])
def test_global_rng_states_unchanged(mode, random_state):
    np.random.seed(123)
    torch.manual_seed(123)
    numpy_before, torch_before = np.random.get_state(), torch.get_rng_state()
    scores = np.random.default_rng(10).random(20)
    for _ in range(3):
        stochastic_top_k(scores, 5, mode=mode, random_state=random_state)
    assert _numpy_state_equal(np.random.get_state(), numpy_before)
    assert torch.equal(torch.get_rng_state(), torch_before)


@pytest.mark.parametrize("mode", MODES)
def test_read_only_scores_not_mutated(mode):
    scores = np.array([0.0, 0.4, 0.1, 0.9, -0.2])
    expected = scores.copy()
    scores.setflags(write=False)
    stochastic_top_k(scores, 3, mode=mode, random_state=0)
    np.testing.assert_array_equal(scores, expected)


@pytest.mark.parametrize("temperature", [0.0, -1.0, np.nan, np.inf])
def test_bad_temperature(temperature):
    with pytest.raises(ValueError, match="temperature"):
        stochastic_top_k(np.arange(1.0, 6.0), 2, temperature=temperature, random_state=0)


def test_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        stochastic_top_k(np.arange(1.0, 6.0), 2, mode="gumbel", random_state=0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("k", [0, -2, 6])
def test_k_out_of_range(mode, k):
    with pytest.raises(ValueError, match=r"\bk\b"):
        stochastic_top_k(np.arange(1.0, 6.0), k, mode=mode, random_state=0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_plus_inf_scores(mode, bad):
    scores = np.array([0.1, 0.5, bad, 0.3])
    with pytest.raises(ValueError, match=r"(?i)nan|inf|finite|scores"):
        stochastic_top_k(scores, 2, mode=mode, random_state=0)


# ---------------------------------------------------------------------------
# counter-based Gumbel noise: chunk-independent, still i.i.d.
# ---------------------------------------------------------------------------

B = GUMBEL_BLOCK_ROWS


def test_noise_depends_only_on_seed_and_global_row():
    whole = gumbel_noise(11, 0, 3 * B + 17)
    cuts = [0, 1, B - 1, B, B + 5, 2 * B + 1, 3 * B + 17]
    pieces = [gumbel_noise(11, lo, hi) for lo, hi in zip(cuts[:-1], cuts[1:])]
    np.testing.assert_array_equal(np.concatenate(pieces), whole)
    np.testing.assert_array_equal(gumbel_noise(11, 2 * B - 3, 2 * B + 4), whole[2 * B - 3 : 2 * B + 4])
    assert not np.array_equal(gumbel_noise(12, 0, 10), whole[:10])  # the seed matters
    assert gumbel_noise(11, 5, 5).shape == (0,)


def test_noise_is_iid_gumbel_across_blocks():
    noise = gumbel_noise(3, 0, 40 * B)
    # Each block has its own stream: no block repeats another.
    blocks = noise.reshape(40, B)
    assert len({block.tobytes() for block in blocks}) == 40
    assert kstest(noise, "gumbel_r").pvalue > P_MIN
    # Same offset in consecutive blocks: uncorrelated (|r| within ~5 sigma).
    r = np.corrcoef(blocks[:-1].ravel(), blocks[1:].ravel())[0, 1]
    assert abs(r) < 5 / np.sqrt(blocks[:-1].size)


def test_power_frequencies_across_block_boundaries():
    """Rows in three different noise blocks (the real block size)."""
    scores = np.zeros(2 * B + 60)
    rows = [5, B - 1, B, 2 * B - 1, 2 * B + 50]
    scores[rows] = [0.2, 0.5, 1.0, 1.5, 2.5]
    counts = np.zeros(scores.size, dtype=np.int64)
    for seed in _seeds(6000, 12):
        counts[stochastic_top_k(scores, 1, temperature=0.5, random_state=int(seed))[0]] += 1
    assert counts.sum() == counts[rows].sum()  # zero scores never come first
    _assert_frequencies(counts[rows], scores[rows] ** 2.0)


@pytest.mark.parametrize("mode", ["power", "softmax"])
def test_keys_by_chunk_give_the_same_draw(mode):
    """What a Dask chunk does: key its own rows, keep its best k; the best k
    of the union is stochastic_top_k's draw."""
    rng = np.random.default_rng(13)
    scores = rng.random(3 * B + 100) * (rng.random(3 * B + 100) > 0.3)  # zeros too
    k = 25
    seed = spawn_seed(check_random_state(7))
    expected = stochastic_top_k(scores, k, temperature=0.7, mode=mode, random_state=7)
    cuts = [0, 333, B + 1, 2 * B + 700, scores.size]
    keys, firsts, rows = [], [], []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        key, first = stochastic_keys(scores[lo:hi], 0.7, mode, seed, lo)
        best = np.sort(tiered_top_k(key, k, first))
        keys.append(key[best])
        firsts.append(None if first is None else first[best])
        rows.append(best + lo)
    first = None if firsts[0] is None else np.concatenate(firsts)
    picked = tiered_top_k(np.concatenate(keys), k, first)
    np.testing.assert_array_equal(np.concatenate(rows)[picked], expected)


def test_softrank_keys_need_the_whole_pool():
    with pytest.raises(ValueError, match="whole pool"):
        stochastic_keys(np.ones(4), 1.0, "softrank", 0, start=4)
