"""Acceptance tests for the acquisition scores of ``skbal.acquisition``.

``predictive_entropy``, ``expected_entropy``, ``bald``, ``margin``,
``least_confidence``, ``variation_ratios`` and ``mean_std`` are checked
against the NumPy reference in ``reference.py``:

- float64 input: ``rtol=1e-10`` (``atol=1e-12`` for values near 0);
- float32 input, compared with the reference on the same float32 values
  upcast to float64: ``rtol=1e-5``, ``atol=1e-6``;
- numpy and torch inputs; ``-inf`` entries (zero probabilities, 0 log 0 = 0);

plus properties (hypothesis, derandomized): bounds, BALD = 0 for identical
draws, expected <= predictive entropy, invariance to permuting the draws and
the classes; the K = 1 warning of ``bald``; input validation; read-only
inputs are not mutated.
"""

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import reference as R
import skbal.acquisition as acq

SCORE_NAMES = list(R.SCORES)
SETTINGS = settings(max_examples=40, derandomize=True, deadline=None, database=None)

RTOL64, ATOL64 = 1e-10, 1e-12
RTOL32, ATOL32 = 1e-5, 1e-6

# (n, k, c, concentration, spread, seed): peaked and flat rows, agreeing and
# disagreeing draws, K = 1, C = 2 and many classes.
CASES = [
    (7, 5, 3, 1.0, 5.0, 0),
    (6, 8, 2, 0.1, 1.0, 1),
    (5, 3, 10, 0.3, 20.0, 2),
    (9, 20, 4, 5.0, 0.5, 3),
    (4, 2, 3, 0.05, 100.0, 4),
    (1, 1, 2, 1.0, 1.0, 5),
    (8, 1, 5, 1.0, 1.0, 6),
]
CASE_IDS = ["-".join(map(str, case[:3])) for case in CASES]


def _case(case, dtype=np.float64):
    n, k, c, concentration, spread, seed = case
    rng = np.random.default_rng(seed)
    return R.random_log_probs(rng, n, k, c, concentration=concentration, spread=spread, dtype=dtype)


def _score(name, log_probs):
    """Call a score; K = 1 makes ``bald`` warn, which is tested separately."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        return getattr(acq, name)(log_probs)


def _check_output(out, n):
    assert isinstance(out, np.ndarray)
    assert out.dtype == np.float64
    assert out.shape == (n,)
    assert np.isfinite(out).all()


# ---------------------------------------------------------------------------
# Agreement with the reference
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("name", SCORE_NAMES)
def test_float64_matches_reference(name, case):
    lp = _case(case)
    out = _score(name, lp)
    _check_output(out, len(lp))
    np.testing.assert_allclose(out, R.SCORES[name](lp), rtol=RTOL64, atol=ATOL64)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("name", SCORE_NAMES)
def test_float32_matches_reference(name, case):
    lp32 = _case(case, dtype=np.float32)
    out = _score(name, lp32)
    _check_output(out, len(lp32))
    expected = R.SCORES[name](lp32.astype(np.float64))
    np.testing.assert_allclose(out, expected, rtol=RTOL32, atol=ATOL32)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", SCORE_NAMES)
def test_torch_input_matches_reference(name, dtype):
    lp = torch.from_numpy(_case(CASES[0])).to(dtype)
    out = _score(name, lp)
    _check_output(out, lp.shape[0])
    expected = R.SCORES[name](lp.numpy().astype(np.float64))
    if dtype == torch.float64:
        np.testing.assert_allclose(out, expected, rtol=RTOL64, atol=ATOL64)
    else:
        np.testing.assert_allclose(out, expected, rtol=RTOL32, atol=ATOL32)


def _log_probs_with_zeros():
    """Rows with zero probabilities (-inf log-probs) of several kinds."""
    rng = np.random.default_rng(7)
    p = np.exp(R.random_log_probs(rng, 6, 5, 4))
    p[0, :, 3] = 0.0  # one class impossible under every draw: p̄_c = 0
    p[1, 2, :2] = 0.0  # some entries of one draw
    p[2, :, 1:] = 0.0  # every draw certain of class 0: all entropies 0
    p[3, ::2, 1:] = 0.0  # half the draws certain of class 0
    p[3, 1::2, :] = 0.0
    p[3, 1::2, 2] = 1.0  # ... the other half certain of class 2
    p[4] = rng.dirichlet(np.ones(4), size=5)
    p[4, rng.random((5, 4)) < 0.4] = 0.0  # random zeros
    p[4, :, 0] += 0.1  # keep every draw with some mass
    p /= p.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        return np.log(p)


@pytest.mark.parametrize("name", SCORE_NAMES)
def test_minus_inf_entries(name):
    lp = _log_probs_with_zeros()
    assert np.isneginf(lp).any()
    out = _score(name, lp)
    _check_output(out, len(lp))
    np.testing.assert_allclose(out, R.SCORES[name](lp), rtol=RTOL64, atol=ATOL64)

    lp32 = lp.astype(np.float32)
    out32 = _score(name, lp32)
    _check_output(out32, len(lp))
    np.testing.assert_allclose(out32, R.SCORES[name](lp32.astype(np.float64)), rtol=RTOL32, atol=ATOL32)


@pytest.mark.parametrize("name", SCORE_NAMES)
def test_one_hot_draws(name):
    """Draws that are certain (log-probs 0 and -inf only)."""
    labels = [[0, 0, 0, 0], [0, 1, 0, 1], [2, 1, 0, 2], [1, 1, 1, 0]]
    lp = R.one_hot_log_probs(labels, c=3)
    out = _score(name, lp)
    _check_output(out, len(lp))
    np.testing.assert_allclose(out, R.SCORES[name](lp), rtol=RTOL64, atol=ATOL64)


def test_one_hot_draws_known_values():
    labels = [[0, 0, 0, 0], [0, 1, 0, 1]]
    lp = R.one_hot_log_probs(labels, c=3)
    np.testing.assert_allclose(acq.bald(lp), [0.0, math.log(2)], rtol=RTOL64, atol=ATOL64)
    np.testing.assert_allclose(acq.expected_entropy(lp), [0.0, 0.0], atol=ATOL64)
    np.testing.assert_allclose(acq.variation_ratios(lp), [0.0, 0.5], atol=ATOL64)
    np.testing.assert_allclose(acq.margin(lp), [-1.0, 0.0], atol=ATOL64)
    np.testing.assert_allclose(acq.least_confidence(lp), [0.0, 0.5], atol=ATOL64)
    # p over draws for row 1: class 0 -> [1,0,1,0], class 1 -> [0,1,0,1], class 2 -> 0
    np.testing.assert_allclose(acq.mean_std(lp), [0.0, (0.5 + 0.5 + 0.0) / 3], atol=ATOL64)


@pytest.mark.parametrize("name", SCORE_NAMES)
def test_minus_inf_raises_no_runtime_warning(name):
    """Zero probabilities are legal input: no 'divide by zero' / 'invalid value' noise."""
    lp = _log_probs_with_zeros()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        getattr(acq, name)(lp)


def test_variation_ratios_ties_go_to_the_lowest_class():
    h, z = math.log(0.5), -np.inf
    lp = np.array(
        [
            # ties (0, 1) and (0, 2), then class 0: votes 0, 0, 0 -> 0
            # (with ties to the highest class: 1, 2, 0 -> 2/3)
            [[h, h, z], [h, z, h], [0.0, z, z]],
            # tie (1, 2), then class 2 twice: votes 1, 2, 2 -> 1/3
            # (with ties to the highest class: 2, 2, 2 -> 0)
            [[z, h, h], [z, z, 0.0], [z, z, 0.0]],
        ]
    )
    expected = [0.0, 1.0 / 3.0]
    np.testing.assert_allclose(R.variation_ratios(lp), expected, rtol=RTOL64, atol=ATOL64)
    np.testing.assert_allclose(acq.variation_ratios(lp), expected, rtol=RTOL64, atol=ATOL64)


def test_margin_known_value():
    lp = np.log(np.array([[[0.5, 0.3, 0.2], [0.3, 0.5, 0.2]]]))  # p̄ = (0.4, 0.4, 0.2)
    np.testing.assert_allclose(acq.margin(lp), [0.0], atol=ATOL64)
    lp = np.log(np.array([[[0.7, 0.2, 0.1], [0.5, 0.2, 0.3]]]))  # p̄ = (0.6, 0.2, 0.2)
    np.testing.assert_allclose(acq.margin(lp), [-0.4], rtol=RTOL64)


# ---------------------------------------------------------------------------
# bald and K = 1
# ---------------------------------------------------------------------------


def test_bald_warns_when_k_is_1():
    lp = _case(CASES[-1])  # K = 1
    with pytest.warns(UserWarning):
        out = acq.bald(lp)
    np.testing.assert_array_equal(out, np.zeros(len(lp)))


def test_bald_does_not_warn_when_k_is_at_least_2():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        acq.bald(_case(CASES[0]))


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@st.composite
def log_probs_arrays(draw, min_k=2, max_n=8, max_k=8, max_c=6):
    """Random (N, K, C) log-probabilities with varied peakedness, from a seed."""
    n = draw(st.integers(1, max_n))
    k = draw(st.integers(min_k, max_k))
    c = draw(st.integers(2, max_c))
    concentration = 10 ** draw(st.floats(-1.5, 1.5))
    spread = 10 ** draw(st.floats(-1.0, 2.0))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return R.random_log_probs(rng, n, k, c, concentration=concentration, spread=spread)


@SETTINGS
@given(log_probs_arrays())
def test_bounds(lp):
    _, k, c = lp.shape
    eps = 1e-12
    predictive = acq.predictive_entropy(lp)
    expected = acq.expected_entropy(lp)
    mutual = acq.bald(lp)
    assert np.all(predictive >= -eps) and np.all(predictive <= math.log(c) + eps)
    assert np.all(expected >= -eps) and np.all(expected <= predictive + eps)
    assert np.all(mutual >= 0.0)
    assert np.all(mutual <= min(math.log(c), math.log(k)) + eps)
    assert np.all((-1.0 - eps <= acq.margin(lp)) & (acq.margin(lp) <= 0.0 + eps))
    for name in ("least_confidence", "variation_ratios"):
        out = getattr(acq, name)(lp)
        assert np.all((out >= -eps) & (out <= 1.0 - 1.0 / c + eps)), name
    std = acq.mean_std(lp)
    assert np.all((std >= -eps) & (std <= 0.5 + eps))


@SETTINGS
@given(log_probs_arrays(min_k=1, max_k=1), st.integers(2, 10))
def test_bald_is_zero_for_identical_draws(one_draw, k):
    lp = np.repeat(one_draw, k, axis=1)
    out = acq.bald(lp)
    assert np.all(out >= 0.0)
    np.testing.assert_allclose(out, 0.0, atol=1e-12)
    np.testing.assert_allclose(acq.expected_entropy(lp), acq.predictive_entropy(lp), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(acq.variation_ratios(lp), 0.0, atol=1e-12)
    np.testing.assert_allclose(acq.mean_std(lp), 0.0, atol=1e-12)


@SETTINGS
@given(log_probs_arrays(), st.integers(0, 2**32 - 1))
def test_invariant_to_permuting_draws_and_classes(lp, seed):
    # Continuous draws: argmax ties (which would make variation_ratios depend
    # on the class order) have probability 0.
    rng = np.random.default_rng(seed)
    _, k, c = lp.shape
    permuted_draws = lp[:, rng.permutation(k), :]
    permuted_classes = lp[:, :, rng.permutation(c)]
    for name in SCORE_NAMES:
        out = getattr(acq, name)(lp)
        np.testing.assert_allclose(getattr(acq, name)(permuted_draws), out, rtol=RTOL64, atol=ATOL64, err_msg=name)
        np.testing.assert_allclose(getattr(acq, name)(permuted_classes), out, rtol=RTOL64, atol=ATOL64, err_msg=name)


@SETTINGS
@given(log_probs_arrays(min_k=1))
def test_matches_reference_on_random_input(lp):
    for name in SCORE_NAMES:
        np.testing.assert_allclose(_score(name, lp), R.SCORES[name](lp), rtol=RTOL64, atol=ATOL64, err_msg=name)


# ---------------------------------------------------------------------------
# Validation and read-only input
# ---------------------------------------------------------------------------


def _bad_inputs():
    lp = _case(CASES[0])
    nan, inf = lp.copy(), lp.copy()
    nan[0, 0, 0] = np.nan
    inf[1, 1, 1] = np.inf
    logits = np.random.default_rng(0).normal(size=lp.shape)
    return {
        "nan": (nan, r"(?i)nan|finite"),
        "plus_inf": (inf, r"(?i)inf|finite"),
        "ndim_2": (lp[:, 0, :], "log_probs"),
        "ndim_4": (lp[None], "log_probs"),
        "one_class": (np.zeros((3, 2, 1)), "log_probs"),
        "logits": (logits, "log_probs"),
        "probabilities": (np.exp(lp), "log_probs"),
    }


BAD = _bad_inputs()


@pytest.mark.parametrize("bad", list(BAD))
@pytest.mark.parametrize("name", SCORE_NAMES)
def test_bad_input_raises(name, bad):
    lp, pattern = BAD[bad]
    with pytest.raises(ValueError, match=pattern):
        getattr(acq, name)(lp)


@pytest.mark.parametrize("name", SCORE_NAMES)
def test_read_only_input_is_not_mutated(name):
    lp = _log_probs_with_zeros()
    expected = lp.copy()
    lp.setflags(write=False)
    getattr(acq, name)(lp)
    np.testing.assert_array_equal(lp, expected)


@pytest.mark.parametrize("name", SCORE_NAMES)
def test_torch_input_is_not_mutated(name):
    lp = torch.from_numpy(_case(CASES[0], dtype=np.float32))
    expected = lp.clone()
    getattr(acq, name)(lp)
    assert torch.equal(lp, expected)
