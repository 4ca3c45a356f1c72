"""Acceptance tests for ``skbal.acquisition.check_log_probs``.

What is tested: valid (N, K, C) log-probabilities come back as a numpy array
of the same values and float dtype (numpy and torch inputs, ``-inf`` = zero
probability allowed); every malformed input (wrong ndim, C < 2, empty axes,
NaN, +inf, logits or plain probabilities, non-float data) raises with a
message naming ``log_probs``; the ``atol`` normalisation tolerance; inputs
are never written to.
"""

import numpy as np
import pytest
import torch

import reference as R
from skbal.acquisition import check_log_probs


def _valid(n=5, k=4, c=3, *, seed=0, dtype=np.float64):
    return R.random_log_probs(np.random.default_rng(seed), n, k, c, dtype=dtype)


# ---------------------------------------------------------------------------
# Valid input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_returns_numpy_with_same_values_and_dtype(dtype):
    lp = _valid(dtype=dtype)
    out = check_log_probs(lp)
    assert isinstance(out, np.ndarray)
    assert out.dtype == dtype
    assert out.shape == lp.shape
    np.testing.assert_array_equal(out, lp)


def test_numpy_input_is_returned_as_a_view():
    lp = _valid()
    out = check_log_probs(lp)
    assert np.shares_memory(out, lp)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_input(dtype):
    lp = torch.from_numpy(_valid()).to(dtype)
    out = check_log_probs(lp)
    assert isinstance(out, np.ndarray)
    assert out.dtype == {torch.float32: np.float32, torch.float64: np.float64}[dtype]
    np.testing.assert_array_equal(out, lp.numpy())


def test_minus_inf_is_a_legal_zero_probability():
    lp = R.one_hot_log_probs([[0, 1, 1], [2, 2, 0]], c=3)  # entries 0 and -inf
    out = check_log_probs(lp)
    np.testing.assert_array_equal(out, lp)


@pytest.mark.parametrize("shape", [(1, 1, 2), (1, 7, 2), (9, 1, 5)])
def test_smallest_legal_shapes(shape):
    n, k, c = shape
    lp = _valid(n, k, c)
    assert check_log_probs(lp).shape == shape


def test_read_only_input_is_accepted_and_not_changed():
    lp = _valid()
    expected = lp.copy()
    lp.setflags(write=False)
    check_log_probs(lp)
    np.testing.assert_array_equal(lp, expected)


def test_atol_controls_the_normalisation_check():
    lp = _valid() + 5e-4  # rows sum to exp(5e-4) ~ 1.0005
    check_log_probs(lp)  # default atol=1e-3
    with pytest.raises(ValueError, match="log_probs"):
        check_log_probs(lp, atol=1e-4)


# ---------------------------------------------------------------------------
# Invalid input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 3), (3,), (2, 3, 4, 2)])
def test_wrong_ndim(shape):
    lp = np.log(np.full(shape, 1.0 / shape[-1]))
    with pytest.raises(ValueError, match="log_probs") as excinfo:
        check_log_probs(lp)
    # the message names what arrived (the shape or its ndim)
    message = str(excinfo.value)
    assert str(shape) in message or str(len(shape)) in message


def test_scalar_input():
    with pytest.raises((ValueError, TypeError), match="log_probs"):
        check_log_probs(np.float64(0.0))


def test_single_class():
    lp = np.zeros((4, 3, 1))  # log 1: normalised, but C = 1
    with pytest.raises(ValueError, match="log_probs"):
        check_log_probs(lp)


@pytest.mark.parametrize("shape", [(0, 3, 2), (4, 0, 2)])
def test_empty_axes(shape):
    lp = np.zeros(shape)
    with pytest.raises(ValueError, match="log_probs"):
        check_log_probs(lp)


def test_nan():
    lp = _valid()
    lp[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"(?i)nan|finite"):
        check_log_probs(lp)


def test_nan_in_torch_float32():
    lp = torch.from_numpy(_valid(dtype=np.float32))
    lp[0, 0, 1] = float("nan")
    with pytest.raises(ValueError, match=r"(?i)nan|finite"):
        check_log_probs(lp)


def test_plus_inf():
    lp = _valid()
    lp[1, 0, 2] = np.inf
    with pytest.raises(ValueError, match=r"(?i)inf|finite"):
        check_log_probs(lp)


def test_logits_are_rejected():
    logits = np.random.default_rng(1).normal(size=(6, 4, 3)) * 3
    with pytest.raises(ValueError, match="log_probs"):
        check_log_probs(logits)


def test_plain_probabilities_are_rejected():
    p = np.exp(_valid())
    with pytest.raises(ValueError, match="log_probs"):
        check_log_probs(p)


def test_a_single_unnormalised_row_is_rejected():
    lp = _valid()
    lp[3, 2] = lp[3, 2] + 0.1  # one draw of one row sums to e^0.1
    with pytest.raises(ValueError, match="log_probs"):
        check_log_probs(lp)


def test_unnormalised_message_names_the_problem():
    with pytest.raises(ValueError, match=r"(?i)sum|normali|log.?prob") as excinfo:
        check_log_probs(np.exp(_valid()))
    assert "log_probs" in str(excinfo.value)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((2, 3, 2), dtype=np.int64),
        np.full((2, 3, 2), "a"),
        np.zeros((2, 3, 2), dtype=bool),
    ],
    ids=["int", "str", "bool"],
)
def test_non_float_arrays(bad):
    with pytest.raises((TypeError, ValueError)):
        check_log_probs(bad)


def test_non_array_input():
    with pytest.raises((TypeError, ValueError)):
        check_log_probs(object())
