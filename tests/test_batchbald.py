"""Acceptance tests for ``batchbald`` and ``joint_entropy``.

What is tested, against the brute-force reference in ``reference.py``
(enumeration of all C**n label configurations):

- exact regime: on 60 random small problems (N <= 12, K <= 8, C <= 4,
  batch <= 4, Dirichlet draws of varied concentration) ``batchbald`` makes
  exactly the reference's greedy choices with gains within 1e-8; float32
  input gives the reference's gains of its own choices within 1e-5;
  ``joint_entropy`` equals the brute-force value (rtol 1e-10), also when C**N
  is large but few configurations have nonzero probability (one-hot draws);
- sampled regime: ``joint_entropy`` and the gains of ``batchbald`` within a
  stated number of Monte-Carlo standard errors of the brute-force values,
  and, averaged over 40 seeded runs, without detectable bias;
- ties go to the lower index (a pool holding every row twice);
- properties (hypothesis): batch size 1 is argmax BALD; gains are
  non-negative, non-increasing, at most the chosen point's BALD score (so
  their sum is at most the sum of BALD scores); indices unique and in range;
- one-hot draws: a duplicate of a chosen point has gain 0 and is not chosen
  while a point with positive gain remains;
- finite gains for float32/float64 and numpy/torch input with -inf entries;
  errors for bad batch sizes and bad log_probs; no mutation of read-only
  input; reproducible random_state; global numpy/torch RNGs untouched.
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import reference as R
from skbal.acquisition import bald, batchbald, joint_entropy, top_k

SETTINGS = settings(max_examples=40, derandomize=True, deadline=None, database=None)

# A Monte-Carlo estimate is accepted within N_SE standard errors of the exact
# value. For a normal error the chance that a correct implementation fails a
# given (fixed) seed is 2 * Phi(-5) ~ 6e-7.
N_SE = 5.0


def _random_problem(rng, *, max_n=12, max_k=8, max_c=4, max_batch=4, min_k=2):
    n = int(rng.integers(2, max_n + 1))
    k = int(rng.integers(min_k, max_k + 1))
    c = int(rng.integers(2, max_c + 1))
    batch_size = int(rng.integers(1, min(max_batch, n) + 1))
    concentration = 10 ** rng.uniform(-1.3, 1.3)
    spread = 10 ** rng.uniform(-1.0, 2.0)
    lp = R.random_log_probs(rng, n, k, c, concentration=concentration, spread=spread)
    return lp, batch_size


def _exact_regime_problems(count=60, min_gap=1e-7):
    """Random problems whose greedy choice is clear at every step.

    A problem is kept when the best gain beats the second best by min_gap at
    every step, so "ties -> lower index" never decides, and rounding cannot.
    """
    rng = np.random.default_rng(20240601)
    problems = []
    while len(problems) < count:
        lp, batch_size = _random_problem(rng)
        indices, gains, all_gains = R.batchbald_greedy(lp, batch_size)
        clear = True
        for step_gains in all_gains:
            finite = np.sort(step_gains[np.isfinite(step_gains)])
            if len(finite) > 1 and finite[-1] - finite[-2] < min_gap:
                clear = False
        if clear:
            problems.append((lp, batch_size, indices, gains))
    return problems


EXACT_PROBLEMS = _exact_regime_problems()


def _check_output(indices, gains, n, batch_size):
    assert isinstance(indices, np.ndarray) and indices.dtype == np.int64
    assert isinstance(gains, np.ndarray) and gains.dtype == np.float64
    assert indices.shape == (batch_size,) and gains.shape == (batch_size,)
    assert len(set(indices.tolist())) == batch_size
    assert indices.min() >= 0 and indices.max() < n
    assert np.isfinite(gains).all()


def _reference_gains_of(lp, indices):
    """Brute-force gain of each chosen point given the points chosen before it."""
    return np.array([R.batchbald_gains(lp, list(indices[:i]))[indices[i]] for i in range(len(indices))])


# ---------------------------------------------------------------------------
# Exact regime
# ---------------------------------------------------------------------------


def test_enough_exact_regime_problems():
    assert len(EXACT_PROBLEMS) >= 50
    sizes = {(lp.shape, b) for lp, b, _, _ in EXACT_PROBLEMS}
    assert len(sizes) >= 40  # varied shapes and batch sizes


@pytest.mark.parametrize("problem", range(len(EXACT_PROBLEMS)))
def test_exact_regime_matches_bruteforce_greedy(problem):
    lp, batch_size, ref_indices, ref_gains = EXACT_PROBLEMS[problem]
    # the largest joint set scored has batch_size points: C**batch_size <= 256
    indices, gains = batchbald(lp, batch_size, n_joint_samples=10_000, random_state=0)
    _check_output(indices, gains, len(lp), batch_size)
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_allclose(gains, ref_gains, rtol=0, atol=1e-8)


@pytest.mark.parametrize("problem", range(0, len(EXACT_PROBLEMS), 6))
def test_exact_regime_float32(problem):
    lp, batch_size, _, _ = EXACT_PROBLEMS[problem]
    lp32 = lp.astype(np.float32)
    lp_up = lp32.astype(np.float64)
    indices, gains = batchbald(lp32, batch_size, n_joint_samples=10_000, random_state=0)
    _check_output(indices, gains, len(lp), batch_size)
    np.testing.assert_allclose(gains, _reference_gains_of(lp_up, indices), rtol=0, atol=1e-5)
    # each choice is (within float32 rounding) a best one
    for i in range(batch_size):
        step_gains = R.batchbald_gains(lp_up, list(indices[:i]))
        assert step_gains[indices[i]] >= step_gains.max() - 1e-5


def test_exact_regime_torch_input():
    lp, batch_size, ref_indices, ref_gains = EXACT_PROBLEMS[0]
    indices, gains = batchbald(torch.from_numpy(lp.copy()), batch_size, random_state=0)
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_allclose(gains, ref_gains, rtol=0, atol=1e-8)


@pytest.mark.parametrize("shape", [(1, 3, 2), (5, 4, 3), (4, 6, 4), (8, 3, 3)])
def test_joint_entropy_exact_regime(shape):
    n, k, c = shape
    lp = R.random_log_probs(np.random.default_rng(sum(shape)), n, k, c, concentration=0.5, spread=2.0)
    assert c**n <= 10_000
    out = joint_entropy(lp, random_state=0)
    assert isinstance(out, float)
    np.testing.assert_allclose(out, R.joint_entropy_bruteforce(lp), rtol=1e-10)


def test_joint_entropy_exact_at_the_boundary():
    lp = R.random_log_probs(np.random.default_rng(11), 4, 5, 3)  # C**N = 81
    out = joint_entropy(lp, n_joint_samples=81, random_state=0)
    np.testing.assert_allclose(out, R.joint_entropy_bruteforce(lp), rtol=1e-10)


def test_joint_entropy_exact_with_few_nonzero_configurations():
    """One-hot draws: C**N = 3**12 configurations but at most K = 6 nonzero."""
    rng = np.random.default_rng(12)
    labels = rng.integers(0, 3, size=(12, 6))
    labels[:, 1] = labels[:, 0]  # draws 0 and 1 agree everywhere: unequal groups
    lp = R.one_hot_log_probs(labels, c=3)
    # p(y) = (number of draws whose label vector is y) / K
    _, group_sizes = np.unique(labels.T, axis=0, return_counts=True)
    expected = -sum(g / 6 * math.log(g / 6) for g in group_sizes)
    out = joint_entropy(lp, n_joint_samples=1000, random_state=0)
    np.testing.assert_allclose(out, expected, rtol=1e-10)


# ---------------------------------------------------------------------------
# Lazy greedy with grouped-configuration screening, on pools large enough
# that most candidates are ruled out by a grouped bound, never scored
# ---------------------------------------------------------------------------


def _min_gap(all_gains):
    """Smallest margin between the best and second-best gain over the steps."""
    gaps = []
    for step_gains in all_gains:
        finite = np.sort(step_gains[np.isfinite(step_gains)])
        gaps.append(finite[-1] - finite[-2])
    return min(gaps)


@pytest.fixture
def grouped_uses(monkeypatch):
    """Records (groups_per_draw, dtype) of every grouped state screened against."""
    from skbal.acquisition import _batchbald

    uses = []
    original = _batchbald._JointState.grouped

    def grouped(self, groups_per_draw, dtype=np.float64):
        out = original(self, groups_per_draw, dtype)
        if out is not None:
            uses.append((groups_per_draw, np.dtype(dtype).name))
        return out

    monkeypatch.setattr(_batchbald._JointState, "grouped", grouped)
    return uses


@pytest.mark.parametrize(
    "seed, shape, batch_size",
    # exact to the end: 4**6 and 10**4 configurations of the chosen points
    [(0, (300, 8, 4), 7), (1, (300, 8, 4), 7), (2, (300, 12, 4), 7), (3, (250, 20, 10), 5)],
)
def test_screened_lazy_greedy_matches_dense_greedy(seed, shape, batch_size, grouped_uses):
    """Clustered pools (near-duplicates, saturating joint information): the
    choices are exactly those of plain greedy scoring every row every step."""
    lp = R.clustered_log_probs(np.random.default_rng(500 + seed), *shape)
    ref_indices, ref_gains, all_gains = R.batchbald_greedy_dense(lp, batch_size)
    assert _min_gap(all_gains) > 1e-7  # every choice is well defined
    indices, gains = batchbald(lp, batch_size, n_joint_samples=10_000, random_state=0)
    _check_output(indices, gains, len(lp), batch_size)
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_allclose(gains, ref_gains, rtol=0, atol=1e-8)
    assert (1, "float32") in grouped_uses  # the screen ran


def test_screened_lazy_greedy_float32_input(grouped_uses):
    lp = R.clustered_log_probs(np.random.default_rng(510), 300, 8, 4)
    lp32 = lp.astype(np.float32)
    lp_up = lp32.astype(np.float64)
    indices, gains = batchbald(lp32, 6, random_state=0)
    ref_indices, _, all_gains = R.batchbald_greedy_dense(lp_up, 6)
    assert _min_gap(all_gains) > 1e-4  # clear beyond float32 rounding
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_allclose(gains, [all_gains[i][x] for i, x in enumerate(indices)], rtol=0, atol=1e-5)
    assert grouped_uses


def test_screened_ties_go_to_the_lower_index(grouped_uses):
    """Every row of a clustered pool twice: ties with a twin that a grouped
    bound could have ruled out still go to the lower index."""
    n = 150
    lp = R.clustered_log_probs(np.random.default_rng(520), n, 8, 4)
    twins = np.concatenate([lp, lp])
    indices, gains = batchbald(twins, 7, random_state=0)
    _check_output(indices, gains, 2 * n, 7)
    for i, x in enumerate(indices.tolist()):
        if x >= n:
            assert x - n in indices[:i], f"step {i}: chose row {x} before its identical copy {x - n}: {indices}"
    assert grouped_uses


@pytest.mark.parametrize("n_joint_samples", [10_000, 300], ids=["exact", "sampled"])
def test_grouped_configurations_bound_every_gain(n_joint_samples):
    """Merging configurations can only raise a gain (concavity of the mutual
    information in the prior over draws), and the float32 round-off bound
    covers the float32 evaluation: the bounds the screen prunes with hold
    for every candidate, grouping and precision."""
    import copy

    from skbal.acquisition import _batchbald as B

    lp = R.clustered_log_probs(np.random.default_rng(530), 200, 10, 4)
    probs, entropies, _ = B._prepare(lp)
    state = B._JointState(10, n_joint_samples, np.random.default_rng(0))
    for x in batchbald(lp, 5, random_state=0)[0]:
        state.extend(probs[x].T)
    assert state.sampled == (n_joint_samples < 4**5)
    in_float64 = copy.copy(state)
    in_float64.dtype, in_float64._scoring = np.float64, None
    candidates = np.arange(len(lp))
    gains = B._gains(in_float64, probs, entropies, candidates)
    checked = 0
    for groups_per_draw in (1, 2, 8, 64):
        grouped = state.grouped(groups_per_draw)
        if grouped is None:
            continue
        checked += 1
        bound = B._gains(grouped, probs, entropies, candidates)
        assert np.all(bound >= gains - 1e-12), (groups_per_draw, (bound - gains).min())
        bound32 = B._gains(state.grouped(groups_per_draw, np.float32), probs, entropies, candidates)
        bound32 += B._float32_error(10, 4, grouped.n_configurations)
        assert np.all(bound32 >= bound), (groups_per_draw, (bound32 - bound).min())
    assert checked >= 2


# ---------------------------------------------------------------------------
# Sampled regime
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_joint_entropy_sampled_regime(seed):
    """C = 4, N = 7: 16,384 configurations > n_joint_samples = 2,000.

    Tolerance: N_SE standard errors of the plain Monte-Carlo estimate
    -(1/M) sum_m log p(y_m), y_m ~ p, i.e. 5 * sqrt(Var[log p(y)] / M) with
    the variance computed by enumeration (~0.1-0.2 nats here, about 2-3 % of
    H). Estimators that sum the last row out exactly (Kirsch et al. 2019,
    appendix C) have a smaller variance (Rao-Blackwell).
    """
    n_joint_samples = 2000
    lp = R.random_log_probs(np.random.default_rng(100 + seed), 7, 8, 4, concentration=1.0, spread=2.0)
    exact = R.joint_entropy_bruteforce(lp)
    standard_error = math.sqrt(R.joint_log_prob_variance(lp) / n_joint_samples)
    out = joint_entropy(lp, n_joint_samples=n_joint_samples, random_state=seed)
    assert isinstance(out, float) and math.isfinite(out)
    assert abs(out - exact) <= N_SE * standard_error, (out, exact, standard_error)


def test_joint_entropy_sampled_is_reproducible():
    lp = R.random_log_probs(np.random.default_rng(3), 7, 8, 4)
    a = joint_entropy(lp, n_joint_samples=500, random_state=5)
    b = joint_entropy(lp, n_joint_samples=500, random_state=5)
    c = joint_entropy(lp, n_joint_samples=500, random_state=np.random.default_rng(5))
    d = joint_entropy(lp, n_joint_samples=500, random_state=np.random.default_rng(5))
    assert a == b and c == d


@pytest.mark.parametrize("seed", [0, 1])
def test_batchbald_sampled_regime_gains(seed):
    """C = 4, n_joint_samples = 2,000: steps 6 and 7 (4**6 > 2,000) are sampled.

    Each gain is compared with the brute-force gain of the same chosen
    sequence, H[y_S, y_x] - H[y_S] - E_x. Tolerance, whatever the estimator:
    N_SE times the combined standard error of plain Monte-Carlo estimates of
    both joint entropies, sqrt(SE(S ∪ x)**2 + SE(S)**2) with
    SE(A) = sqrt(Var[log p(y_A)] / M) (about 0.15-0.25 nats at steps 6-7
    here, where the gains are 0.05-0.2: this catches gross errors only).
    Exact steps: 1e-8. Estimators that share the sampled configurations of
    y_S between the two terms (appendix C) are far more accurate.
    """
    n_joint_samples = 2000
    lp = R.random_log_probs(np.random.default_rng(200 + seed), 8, 8, 4, concentration=1.0, spread=2.0)
    indices, gains = batchbald(lp, 7, n_joint_samples=n_joint_samples, random_state=seed)
    _check_output(indices, gains, len(lp), 7)
    exact = _reference_gains_of(lp, indices)

    def standard_error(rows):
        if len(rows) == 0:
            return 0.0
        return math.sqrt(R.joint_log_prob_variance(lp[list(rows)]) / n_joint_samples)

    for i in range(7):
        if 4 ** (i + 1) <= n_joint_samples:  # exact step
            assert abs(gains[i] - exact[i]) <= 1e-8, (i, gains[i], exact[i])
        else:
            se = math.hypot(standard_error(indices[: i + 1]), standard_error(indices[:i]))
            assert abs(gains[i] - exact[i]) <= N_SE * se, (i, gains[i], exact[i], se)


# Averaged over R seeded runs, an unbiased estimator's mean error is within
# 5 of its empirical standard errors s / sqrt(R) (Student t with R - 1 = 39
# degrees of freedom: P(|t| > 5) ~ 1e-5). The empirical spread adapts the
# tolerance to the estimator's actual variance, so this also catches a bias
# much smaller than one run's standard error. Both the plain Monte-Carlo
# estimate and the importance-weighted one of Kirsch et al. 2019 (appendix
# C) are unbiased for the entropies.
N_RUNS = 40


def _assert_unbiased(errors):
    errors = np.asarray(errors)
    standard_error = errors.std(ddof=1) / math.sqrt(len(errors))
    assert abs(errors.mean()) <= N_SE * standard_error + 1e-9, (errors.mean(), standard_error)


def test_joint_entropy_sampled_regime_is_unbiased():
    """C = 4, N = 7, M = 100: most of the chain is sampled."""
    lp = R.random_log_probs(np.random.default_rng(301), 7, 8, 4, concentration=1.0, spread=2.0)
    exact = R.joint_entropy_bruteforce(lp)
    errors = [joint_entropy(lp, n_joint_samples=100, random_state=run) - exact for run in range(N_RUNS)]
    _assert_unbiased(errors)


def test_batchbald_sampled_regime_last_gain_is_unbiased():
    """N = batch_size = 7, C = 4, M = 300: the last steps are sampled.

    The last step has a single candidate, so its reported gain is a plain
    estimate (no maximum over noisy candidates, hence no selection bias) of
    the brute-force gain of the remaining point given the six chosen.
    """
    lp = R.random_log_probs(np.random.default_rng(300), 7, 8, 4, concentration=1.0, spread=2.0)
    exact_last_gain = {}
    errors = []
    for run in range(N_RUNS):
        indices, gains = batchbald(lp, 7, n_joint_samples=300, random_state=run)
        _check_output(indices, gains, 7, 7)
        last = int(indices[-1])
        if last not in exact_last_gain:
            exact_last_gain[last] = R.batchbald_gains(lp, [i for i in range(7) if i != last])[last]
        errors.append(gains[-1] - exact_last_gain[last])
    _assert_unbiased(errors)


def test_batchbald_sampled_is_reproducible():
    lp = R.random_log_probs(np.random.default_rng(4), 8, 6, 4)
    a = batchbald(lp, 6, n_joint_samples=100, random_state=3)
    b = batchbald(lp, 6, n_joint_samples=100, random_state=3)
    c = batchbald(lp, 6, n_joint_samples=100, random_state=np.random.RandomState(3))
    d = batchbald(lp, 6, n_joint_samples=100, random_state=np.random.RandomState(3))
    for x, y in [(a, b), (c, d)]:
        np.testing.assert_array_equal(x[0], y[0])
        np.testing.assert_array_equal(x[1], y[1])


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@st.composite
def problems(draw, max_n=8, max_batch=4):
    seed = draw(st.integers(0, 2**32 - 1))
    return _random_problem(np.random.default_rng(seed), max_n=max_n, max_k=6, max_batch=max_batch)


@SETTINGS
@given(problems())
def test_batch_size_1_is_argmax_bald(problem):
    lp, _ = problem
    scores = bald(lp)
    best_two = np.sort(scores)[-2:]
    assume(len(scores) < 2 or best_two[1] - best_two[0] > 1e-9)  # no (near-)tie for the argmax
    indices, gains = batchbald(lp, 1, random_state=0)
    np.testing.assert_array_equal(indices, top_k(scores, 1))
    np.testing.assert_allclose(gains, scores[indices], rtol=0, atol=1e-10)


@SETTINGS
@given(problems())
def test_gains_properties_exact_regime(problem):
    lp, batch_size = problem
    indices, gains = batchbald(lp, batch_size, n_joint_samples=10_000, random_state=0)
    _check_output(indices, gains, len(lp), batch_size)
    scores = bald(lp)
    assert np.all(gains >= -1e-12), gains
    assert np.all(np.diff(gains) <= 1e-12), gains  # non-increasing
    # a gain never exceeds the point's BALD score (submodularity) ...
    assert np.all(gains <= scores[indices] + 1e-10), (gains, scores[indices])
    # ... so neither does the sum
    assert gains.sum() <= scores[indices].sum() + 1e-10
    _, k, c = lp.shape
    assert gains.sum() <= math.log(k) + 1e-10  # I[y_1..y_b; ω] <= H[ω] = log K


@pytest.mark.parametrize("seed", range(5))
def test_ties_go_to_the_lower_index(seed):
    """Every row twice (row i + n is row i): each pair ties until one is chosen.

    The two copies' gains are equal in exact arithmetic at every step, so the
    copy with the lower index must be chosen first, however the arithmetic
    happens to round (the pool of Repeated-MNIST has exact duplicates).
    """
    rng = np.random.default_rng(400 + seed)
    n = 5
    lp = R.random_log_probs(rng, n, 6, 3, concentration=1.0, spread=2.0)
    twins = np.concatenate([lp, lp])
    indices, gains = batchbald(twins, 6, random_state=0)
    _check_output(indices, gains, 2 * n, 6)
    assert indices[0] < n  # the first pick is argmax BALD, where every row ties with its twin
    for i, x in enumerate(indices.tolist()):
        if x >= n:  # a second copy is chosen only after the first
            assert x - n in indices[:i], f"step {i}: chose row {x} before its identical copy {x - n}: {indices}"


def test_one_hot_duplicates_get_zero_gain():
    """Labels are a function of ω: a duplicate of a chosen point adds nothing."""
    distinct = np.array(
        [
            [0, 0, 1, 1, 2, 2, 0, 1],
            [0, 1, 0, 1, 0, 1, 2, 2],
            [1, 1, 1, 0, 0, 2, 2, 2],
            [2, 0, 1, 2, 0, 1, 2, 0],
        ]
    )
    # rows 4..7 duplicate rows 0..3, in another order
    duplicate_of = {4: 2, 5: 0, 6: 3, 7: 1}
    labels = np.concatenate([distinct, distinct[[2, 0, 3, 1]]])
    lp = R.one_hot_log_probs(labels, c=3)
    n = len(lp)
    # 3**8 = 6,561 <= 10,000: exact until the end
    indices, gains = batchbald(lp, n, n_joint_samples=10_000, random_state=0)
    _check_output(indices, gains, n, n)
    ref_gains = _reference_gains_of(lp, indices)
    np.testing.assert_allclose(gains, ref_gains, rtol=0, atol=1e-8)

    # the set-up exercises the claim: a positive gain remains after step 1
    assert R.batchbald_gains(lp, [int(indices[0])]).max() > 0.1

    for i, x in enumerate(indices.tolist()):
        chosen_before = set(indices[:i].tolist())
        twin = duplicate_of.get(x, next((d for d, o in duplicate_of.items() if o == x), None))
        step_gains = R.batchbald_gains(lp, sorted(chosen_before))
        if twin in chosen_before:
            # a duplicate of a chosen point: gain 0 ...
            assert abs(gains[i]) <= 1e-12, (i, x, gains[i])
            # ... and picked only when no point with positive gain remains
            assert step_gains.max() <= 1e-12, (i, x, step_gains)
        else:
            # while some point still has a positive gain, a best one is picked
            assert gains[i] >= step_gains.max() - 1e-10


def test_duplicate_of_chosen_point_has_zero_gain_in_reference():
    """Sanity check of the reference on the same kind of data."""
    labels = np.array([[0, 1, 1, 0, 2], [1, 1, 0, 0, 2], [0, 1, 1, 0, 2]])
    lp = R.one_hot_log_probs(labels, c=3)
    assert abs(R.batchbald_gains(lp, [0])[2]) <= 1e-12


# ---------------------------------------------------------------------------
# -inf entries, float32, torch
# ---------------------------------------------------------------------------


def _log_probs_with_zeros(dtype):
    rng = np.random.default_rng(13)
    p = np.exp(R.random_log_probs(rng, 9, 6, 4))
    p[0, :, 3] = 0.0  # a class impossible under every draw
    p[1, :, 1:] = 0.0  # certain under every draw
    p[2, ::2, 1:] = 0.0
    p[2, 1::2, :] = 0.0
    p[2, 1::2, 2] = 1.0  # one-hot draws that disagree
    p[3, rng.random((6, 4)) < 0.5] = 0.0
    p[3, :, 0] += 0.05
    p /= p.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        return np.log(p).astype(dtype)


@pytest.mark.parametrize("as_torch", [False, True], ids=["numpy", "torch"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_joint_samples", [10_000, 50], ids=["exact", "sampled"])
def test_finite_gains_with_minus_inf_entries(n_joint_samples, dtype, as_torch):
    lp = _log_probs_with_zeros(dtype)
    assert np.isneginf(lp).any()
    batch_size = 6
    arg = torch.from_numpy(lp.copy()) if as_torch else lp
    indices, gains = batchbald(arg, batch_size, n_joint_samples=n_joint_samples, random_state=0)
    _check_output(indices, gains, len(lp), batch_size)
    if n_joint_samples == 10_000:  # 4**6 = 4,096: exact
        tolerance = 1e-8 if dtype == np.float64 else 1e-5
        ref = _reference_gains_of(lp.astype(np.float64), indices)
        np.testing.assert_allclose(gains, ref, rtol=0, atol=tolerance)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_joint_entropy_finite_with_minus_inf_entries(dtype):
    lp = _log_probs_with_zeros(dtype)[:6]
    exact = joint_entropy(lp, random_state=0)  # 4**6 = 4,096 configurations
    tolerance = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(exact, R.joint_entropy_bruteforce(lp.astype(np.float64)), rtol=tolerance)
    sampled = joint_entropy(lp, n_joint_samples=50, random_state=0)
    assert math.isfinite(sampled)


# ---------------------------------------------------------------------------
# Validation, mutation, random state
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [0, -1, 6])
def test_batch_size_out_of_range(batch_size):
    lp = R.random_log_probs(np.random.default_rng(0), 5, 3, 2)
    with pytest.raises(ValueError, match="batch_size"):
        batchbald(lp, batch_size)


def test_batch_size_equal_to_pool_size_returns_every_row():
    lp = R.random_log_probs(np.random.default_rng(0), 5, 3, 2)
    indices, _ = batchbald(lp, 5)
    assert sorted(indices.tolist()) == list(range(5))


def _bad_log_probs():
    lp = R.random_log_probs(np.random.default_rng(0), 5, 3, 3)
    nan, inf = lp.copy(), lp.copy()
    nan[1, 1, 1] = np.nan
    inf[2, 0, 0] = np.inf
    return {
        "nan": (nan, r"(?i)nan|finite"),
        "plus_inf": (inf, r"(?i)inf|finite"),
        "ndim_2": (lp[:, 0, :], "log_probs"),
        "logits": (np.random.default_rng(1).normal(size=lp.shape), "log_probs"),
        "probabilities": (np.exp(lp), "log_probs"),
    }


BAD = _bad_log_probs()


@pytest.mark.parametrize("bad", list(BAD))
def test_batchbald_bad_log_probs(bad):
    lp, pattern = BAD[bad]
    with pytest.raises(ValueError, match=pattern):
        batchbald(lp, 2)


@pytest.mark.parametrize("bad", list(BAD))
def test_joint_entropy_bad_log_probs(bad):
    lp, pattern = BAD[bad]
    with pytest.raises(ValueError, match=pattern):
        joint_entropy(lp)


@pytest.mark.parametrize("n_joint_samples", [10_000, 50], ids=["exact", "sampled"])
def test_read_only_input_not_mutated(n_joint_samples):
    lp = _log_probs_with_zeros(np.float32)
    expected = lp.copy()
    lp.setflags(write=False)
    batchbald(lp, 5, n_joint_samples=n_joint_samples, random_state=0)
    joint_entropy(lp[:6], n_joint_samples=n_joint_samples, random_state=0)
    np.testing.assert_array_equal(lp, expected)


def _numpy_state_equal(a, b):
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


@pytest.mark.parametrize("random_state", [None, 0])
def test_global_rng_states_unchanged(random_state):
    lp = R.random_log_probs(np.random.default_rng(5), 8, 6, 4)
    np.random.seed(321)
    torch.manual_seed(321)
    numpy_before, torch_before = np.random.get_state(), torch.get_rng_state()
    batchbald(lp, 6, n_joint_samples=100, random_state=random_state)  # sampled from step 4
    joint_entropy(lp, n_joint_samples=100, random_state=random_state)
    assert _numpy_state_equal(np.random.get_state(), numpy_before)
    assert torch.equal(torch.get_rng_state(), torch_before)


def _blas_threads():
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_blas_limit_is_lifted_when_the_last_overlapping_call_ends():
    """BatchBALD runs BLAS on one thread; calls that overlap in time (threads)
    share the process-wide limit, and the original thread counts come back
    whatever order they end in."""
    from skbal.utils._threads import one_blas_thread

    before = _blas_threads()
    first, second = one_blas_thread(), one_blas_thread()
    first.__enter__()
    second.__enter__()
    assert set(_blas_threads()) <= {1}
    first.__exit__(None, None, None)  # the first to start ends first
    assert set(_blas_threads()) <= {1}  # the second still runs on one thread
    second.__exit__(None, None, None)
    assert _blas_threads() == before


def test_concurrent_calls_give_the_serial_result_and_restore_blas_threads():
    from concurrent.futures import ThreadPoolExecutor

    before = _blas_threads()
    lp = R.clustered_log_probs(np.random.default_rng(540), 200, 8, 4)
    expected = batchbald(lp, 5, random_state=0)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda seed: batchbald(lp, 5, random_state=0), range(8)))
    for indices, gains in results:
        np.testing.assert_array_equal(indices, expected[0])
        np.testing.assert_array_equal(gains, expected[1])
    assert _blas_threads() == before
