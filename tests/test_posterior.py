"""skbal.posterior: MC dropout on real skorch nets, adapters, errors."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from scipy.special import log_softmax, logsumexp
from sklearn.base import clone
from sklearn.ensemble import (
    AdaBoostClassifier,
    BaggingClassifier,
    ExtraTreesClassifier,
    RandomForestClassifier,
    VotingClassifier,
)
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from skorch import NeuralNetBinaryClassifier, NeuralNetClassifier, NeuralNetRegressor
from torch import nn

from skbal.posterior import MCDropoutClassifier, Posterior, resolve_posterior, sample_log_proba
from skbal.posterior._mc_dropout import mc_dropout_log_proba

ATOL = 1e-5  # float32 log-probabilities


def _to_float32(X):
    return np.asarray(X, dtype=np.float32)


def _assert_normalised(log_probs, n_rows, n_draws, n_classes=10):
    assert log_probs.shape == (n_rows, n_draws, n_classes)
    assert log_probs.dtype == np.float32
    assert np.isfinite(log_probs).all()
    np.testing.assert_allclose(logsumexp(log_probs.astype(np.float64), axis=-1), 0.0, atol=ATOL)


def _flags(net):
    return [(name, module.training) for name, module in net.module_.named_modules()]


def _rng_states():
    return np.random.get_state(), torch.get_rng_state().clone()


def _assert_same_rng_states(before):
    np_state, torch_state = before
    now = np.random.get_state()
    assert now[0] == np_state[0] and np.array_equal(now[1], np_state[1]) and now[2:] == np_state[2:]
    assert torch.equal(torch.get_rng_state(), torch_state)


class _Spy:
    """Count the forwards of a net (and the rows each received)."""

    def __init__(self, net, fail_at=None):
        self.net, self.fail_at, self.rows = net, fail_at, []
        self._infer = net.infer

    def __call__(self, x, **kwargs):
        self.rows.append(int(x.shape[0]))
        if self.fail_at is not None and len(self.rows) == self.fail_at:
            raise RuntimeError("boom")
        return self._infer(x, **kwargs)


# --------------------------------------------------------------------------
# MC dropout on a plain skorch net
# --------------------------------------------------------------------------


@pytest.mark.parametrize("net_name", ["mlp_net", "ce_net", "bn_net", "conv_net"])
def test_draws_differ_and_are_normalised(request, digits, net_name):
    net = request.getfixturevalue(net_name)
    log_probs = sample_log_proba(net, digits[0][:50], 8, random_state=0)
    _assert_normalised(log_probs, 50, 8)
    flat = log_probs.transpose(1, 0, 2).reshape(8, -1)
    assert len(np.unique(flat, axis=0)) > 4  # Dropout2d on 4 channels: 16 possible masks
    assert np.abs(log_probs[:, 0] - log_probs[:, 1]).max() > 1e-3


def test_plain_net_predict_proba_unchanged(mlp_net, digits):
    X = digits[0][:200]
    before = mlp_net.predict_proba(X)
    sample_log_proba(mlp_net, X, 5, random_state=0)
    sample_log_proba(mlp_net, X, 5, random_state=1, dropout_masks="independent")
    assert np.array_equal(before, mlp_net.predict_proba(X))


def test_samples_through_infer_never_forward_iter(mlp_net, digits, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("MC sampling must not call forward_iter/forward/predict_proba")

    for name in ("forward_iter", "forward", "predict_proba", "evaluation_step"):
        monkeypatch.setattr(mlp_net, name, forbidden)
    spy = _Spy(mlp_net)
    monkeypatch.setattr(mlp_net, "infer", spy)
    sample_log_proba(mlp_net, digits[0][:50], 8, random_state=0)
    # one-row dry forward, then all K draws of the minibatch in one forward
    assert spy.rows == [1, 50 * 8]


@pytest.mark.parametrize("net_name", ["mlp_net", "ce_net"])
def test_brute_force_reference(request, digits, net_name):
    """Draw k equals the hand-written forward with draw k's mask on every row."""
    net = request.getfixturevalue(net_name)
    X = digits[0][:40]
    n_draws = 6
    captured = []
    handle = net.module_.relu.register_forward_pre_hook(lambda module, args: captured.append(args[0].clone()))
    try:
        log_probs = sample_log_proba(net, X, n_draws, random_state=3)
    finally:
        handle.remove()
    masked = captured[-1].numpy().astype(np.float64).reshape(n_draws, len(X), -1)  # draw-major
    W1 = net.module_.hidden.weight.detach().numpy().astype(np.float64)
    b1 = net.module_.hidden.bias.detach().numpy().astype(np.float64)
    W2 = net.module_.out.weight.detach().numpy().astype(np.float64)
    b2 = net.module_.out.bias.detach().numpy().astype(np.float64)
    pre = X.astype(np.float64) @ W1.T + b1
    scale = 1 / (1 - net.module_.dropout.p)
    for k in range(n_draws):
        mask = masked[k, 0] / pre[0]  # read from row 0 only ...
        mask = np.where(np.abs(mask) < scale / 2, 0.0, scale)
        assert 0 < (mask == 0).sum() < mask.size
        logits = np.maximum(pre * mask, 0) @ W2.T + b2  # ... applied to every row
        reference = log_softmax(logits, axis=-1)
        np.testing.assert_allclose(log_probs[:, k], reference, rtol=1e-4, atol=ATOL)


def test_consistent_masks_ignore_position_batch_size_and_chunking(bn_net, digits):
    X = digits[0][:60]
    reference = sample_log_proba(bn_net, X, 6, random_state=0)
    perm = np.random.default_rng(1).permutation(len(X))
    other = copy.deepcopy(bn_net)
    other.batch_size = 7
    shuffled = sample_log_proba(other, X[perm], 6, random_state=0)
    np.testing.assert_allclose(shuffled, reference[perm], atol=ATOL)
    # the same row everywhere gets the same draws
    duplicated = sample_log_proba(other, np.repeat(X[:1], 20, axis=0), 6, random_state=0)
    np.testing.assert_allclose(duplicated, np.repeat(reference[:1], 20, axis=0), atol=ATOL)
    # chunks of 3 repeated rows: the draws of one row span several forwards
    chunked = mc_dropout_log_proba(bn_net, X, 6, random_state=0, max_forward_elements=64 * 3)
    np.testing.assert_allclose(chunked, reference, atol=ATOL)
    chunked = mc_dropout_log_proba(bn_net, X, 6, random_state=0, max_forward_elements=64 * 6 * 4)
    np.testing.assert_allclose(chunked, reference, atol=ATOL)


def test_random_state_reproduces(mlp_net, digits):
    X = digits[0][:30]
    a = sample_log_proba(mlp_net, X, 5, random_state=7)
    assert np.array_equal(a, sample_log_proba(mlp_net, X, 5, random_state=7))
    assert not np.array_equal(a, sample_log_proba(mlp_net, X, 5, random_state=8))
    b = sample_log_proba(mlp_net, X, 5, random_state=np.random.RandomState(0))
    assert np.array_equal(b, sample_log_proba(mlp_net, X, 5, random_state=np.random.RandomState(0)))
    assert not np.array_equal(
        sample_log_proba(mlp_net, X, 5, random_state=None), sample_log_proba(mlp_net, X, 5, random_state=None)
    )


def test_independent_masks(mlp_net, digits):
    X = np.repeat(digits[0][:1], 10, axis=0)
    a = sample_log_proba(mlp_net, X, 4, random_state=0, dropout_masks="independent")
    _assert_normalised(a, 10, 4)
    assert len(np.unique(a[:, 0], axis=0)) > 1  # duplicates get their own masks
    assert np.array_equal(a, sample_log_proba(mlp_net, X, 4, random_state=0, dropout_masks="independent"))


def _dropout_ratios(net, X, n_draws, **kwargs):
    """(output / input) of the net's dropout module in every MC forward (the
    module that follows it sees the output), and the log-probabilities."""
    pre, post = [], []
    handles = [
        net.module_.dropout.register_forward_pre_hook(lambda module, args: pre.append(args[0].clone())),
        net.module_.relu.register_forward_pre_hook(lambda module, args: post.append(args[0].clone())),
    ]
    try:
        log_probs = sample_log_proba(net, X, n_draws, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    # [1:]: the first forward is the one-row dry run of the input check
    ratios = [(b / torch.where(a == 0, 1e-30, a)).numpy() for a, b in zip(pre[1:], post[1:])]
    return np.concatenate(ratios), log_probs


@pytest.mark.parametrize("p", [0.1, 0.25, 0.5, 0.8, 1 - 2**-12])
def test_independent_masks_are_bernoulli_and_scaled(toy, digits, p):
    net = NeuralNetClassifier(toy.MLP, module__hidden=256, module__p=p, **toy.NET_KWARGS).initialize()
    X = digits[0][:300]
    ratios, log_probs = _dropout_ratios(net, X, 4, random_state=0, dropout_masks="independent")
    _assert_normalised(log_probs, 300, 4)
    scale = 1 / (1 - p)
    kept = np.isclose(ratios, scale, rtol=1e-4)
    assert np.all(kept | np.isclose(ratios, 0.0, atol=1e-6))  # every unit: dropped or scaled
    # the dropped share is p within 5 standard errors (1,200 rows x 256 units)
    assert abs((1 - kept.mean()) - p) <= 5 * np.sqrt(p * (1 - p) / kept.size)
    if p < 0.9:  # a new mask for every row and draw: no two of the 1,200 masks are equal
        assert len(np.unique(kept, axis=0)) == len(kept)


def test_independent_masks_channelwise_for_dropout2d(conv_net, digits):
    X = digits[0][:40]
    ratios, _ = _dropout_ratios(conv_net, X, 3, random_state=0, dropout_masks="independent")
    pre_nonzero = ratios.reshape(len(ratios), ratios.shape[1], -1)
    per_channel = np.isclose(pre_nonzero, 2.0, rtol=1e-4)
    # one value per (row, draw, channel), shared by the 64 positions
    assert np.all(per_channel.all(axis=2) | (~per_channel).all(axis=2))


def test_direct_slicing_matches_the_skorch_iterator(toy, digits):
    """An array pool is sliced directly; a net that overrides get_iterator goes
    through skorch's Dataset and DataLoader: the same draws either way."""

    class IteratorNet(NeuralNetClassifier):
        def get_iterator(self, dataset, training=False):
            self.iterated = getattr(self, "iterated", 0) + 1
            return super().get_iterator(dataset, training=training)

    plain = toy.fit_seeded(NeuralNetClassifier(toy.MLP, **toy.NET_KWARGS), *digits)
    overriding = IteratorNet(toy.MLP, **toy.NET_KWARGS).initialize()
    overriding.module_.load_state_dict(plain.module_.state_dict())
    X = digits[0][:300]  # 3 minibatches of 128 rows
    for mode in ("consistent", "independent"):
        expected = sample_log_proba(overriding, X, 5, random_state=0, dropout_masks=mode)
        for variant in (X, torch.from_numpy(X), sp.csr_matrix(X)):
            np.testing.assert_array_equal(sample_log_proba(plain, variant, 5, random_state=0, dropout_masks=mode),
                                          expected)
    assert overriding.iterated >= 2


def test_iterator_arguments_are_honoured(toy, digits):
    """A collate function changes the minibatches: skbal must go through it."""

    def halve(rows):
        return torch.utils.data.default_collate(rows)[0] / 2, None

    net = toy.fit_seeded(NeuralNetClassifier(toy.MLP, **toy.NET_KWARGS), *digits)
    halving = NeuralNetClassifier(toy.MLP, iterator_valid__collate_fn=halve, **toy.NET_KWARGS).initialize()
    halving.module_.load_state_dict(net.module_.state_dict())
    X = digits[0][:50]
    np.testing.assert_array_equal(
        sample_log_proba(halving, X, 4, random_state=0), sample_log_proba(net, X / 2, 4, random_state=0)
    )


class _InPlaceInput(nn.Module):
    """Clamps its input in place before an MLP: must not reach the pool."""

    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(64, 16), nn.Dropout(0.5), nn.Linear(16, 10), nn.Softmax(dim=-1))

    def forward(self, X):
        return self.mlp(X.clamp_(max=0.25))


@pytest.mark.parametrize("as_tensor", [False, True], ids=["numpy", "torch"])
@pytest.mark.parametrize("n_mc_samples", [1, 4])
def test_pool_not_mutated_by_a_module_working_in_place(toy, digits, n_mc_samples, as_tensor):
    net = NeuralNetClassifier(_InPlaceInput, **toy.NET_KWARGS).initialize()
    X = digits[0][:50].copy()
    assert X.max() > 0.25
    expected = X.copy()
    pool = torch.from_numpy(X) if as_tensor else X
    mc_dropout_log_proba(net, pool, n_mc_samples, random_state=0)
    np.testing.assert_array_equal(X, expected)


def test_read_only_pool(mlp_net, digits):
    X = digits[0][:50].copy()
    reference = sample_log_proba(mlp_net, X, 3, random_state=0)
    X.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns on tensors over read-only arrays
        np.testing.assert_array_equal(sample_log_proba(mlp_net, X, 3, random_state=0), reference)


def test_float32_pool_is_not_copied(mlp_net, digits):
    from skbal.posterior._mc_dropout import check_net_input

    X = digits[0][:100]
    assert check_net_input(mlp_net, X) is X
    X64 = X.astype(np.float64)
    out = check_net_input(mlp_net, X64)
    assert out.dtype == np.float32 and not np.shares_memory(out, X64)


def test_nan_found_beyond_the_first_chunk_of_the_check(mlp_net):
    X = np.zeros((40_000, 64), dtype=np.float32)  # checked in chunks of 16,384 rows
    X[37_123, 5] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity .*row 37123"):
        sample_log_proba(mlp_net, X, 2, random_state=0)


def test_dropout2d_is_channelwise_and_consistent(conv_net, digits):
    X = digits[0][:12]
    n_draws, channels = 5, conv_net.module_.conv.out_channels
    seen = {}
    handles = [
        conv_net.module_.conv.register_forward_hook(lambda m, a, out: seen.__setitem__("pre", out.clone())),
        conv_net.module_.relu.register_forward_pre_hook(lambda m, a: seen.__setitem__("post", a[0].clone())),
    ]
    try:
        sample_log_proba(conv_net, X, n_draws, random_state=0)
    finally:
        for handle in handles:
            handle.remove()
    pre, post = seen["pre"].numpy(), seen["post"].numpy()
    assert pre.shape == (n_draws * len(X), channels, 8, 8)
    ratio = (post / np.where(np.abs(pre) < 1e-6, np.nan, pre)).reshape(n_draws, len(X), channels, 64)
    scale = 1 / (1 - conv_net.module_.dropout.p)
    for k in range(n_draws):
        for c in range(channels):
            values = ratio[k, :, c][np.isfinite(ratio[k, :, c])]
            # one value per (draw, channel): shared by all rows and positions
            assert np.allclose(values, 0) or np.allclose(values, scale, rtol=1e-4)
    dropped = np.isclose(np.nanmean(ratio, axis=(1, 3)), 0)
    assert dropped.any() and not dropped.all()


def test_modes_and_batchnorm_statistics_restored(bn_net, digits):
    module = bn_net.module_
    old = _flags(bn_net)
    module.train()
    module.out.eval()  # a mixed state must come back exactly
    flags = _flags(bn_net)
    stats = {name: buffer.clone() for name, buffer in module.named_buffers()}
    during = []
    handle = module.norm.register_forward_hook(
        lambda m, a, out: during.append(any(sub.training for sub in module.modules()))
    )
    try:
        for mode in ("consistent", "independent"):
            sample_log_proba(bn_net, digits[0][:300], 4, random_state=0, dropout_masks=mode)
        assert during and not any(during)
        assert _flags(bn_net) == flags
        for name, buffer in module.named_buffers():
            assert torch.equal(buffer, stats[name]), name
    finally:
        handle.remove()
        for name, submodule in module.named_modules():
            submodule.training = dict(old)[name]


def test_state_restored_when_forward_raises(bn_net, digits, monkeypatch):
    module = bn_net.module_
    module.train()
    module.norm.eval()
    flags = _flags(bn_net)
    stats = {name: buffer.clone() for name, buffer in module.named_buffers()}
    rng = _rng_states()
    spy = _Spy(bn_net, fail_at=3)  # dry forward, one MC forward, then fail midway
    monkeypatch.setattr(bn_net, "infer", spy)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            sample_log_proba(bn_net, digits[0][:300], 4, random_state=0)
        assert len(spy.rows) == 3
        assert _flags(bn_net) == flags
        assert not module.dropout._forward_hooks
        for name, buffer in module.named_buffers():
            assert torch.equal(buffer, stats[name]), name
        _assert_same_rng_states(rng)
    finally:
        module.eval()


def test_global_rng_states_unchanged(mlp_net, mc_net, digits):
    X = digits[0][:300]
    before = _rng_states()
    sample_log_proba(mlp_net, X, 4, random_state=0)
    sample_log_proba(mlp_net, X, 4, dropout_masks="independent")
    mc_net.predict_proba(X)
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, digits[1][:300])
    sample_log_proba(forest, X)
    _assert_same_rng_states(before)


def test_no_gradients(mlp_net, digits):
    grads = {
        name: (p.grad, None if p.grad is None else p.grad.clone()) for name, p in mlp_net.module_.named_parameters()
    }
    seen = []
    handle = mlp_net.module_.out.register_forward_hook(
        lambda m, a, out: seen.append((torch.is_grad_enabled(), out.requires_grad))
    )
    try:
        log_probs = sample_log_proba(mlp_net, digits[0][:20], 4, random_state=0)
    finally:
        handle.remove()
    assert isinstance(log_probs, np.ndarray)
    assert seen and all(state == (False, False) for state in seen)
    for name, p in mlp_net.module_.named_parameters():
        grad, value = grads[name]
        assert p.grad is grad
        assert grad is None or torch.equal(grad, value)


def test_input_types(mlp_net, digits):
    X = digits[0][:25]
    reference = sample_log_proba(mlp_net, X, 3, random_state=0)
    X64 = X.astype(np.float64)
    X64_copy = X64.copy()
    for variant in (
        X64,
        pd.DataFrame(X64, columns=[f"pixel{i}" for i in range(64)]),
        X.tolist(),
        torch.from_numpy(X64),
        sp.csr_matrix(X64),
    ):
        np.testing.assert_array_equal(sample_log_proba(mlp_net, variant, 3, random_state=0), reference)
    assert np.array_equal(X64, X64_copy)  # the input is never cast in place


def test_nll_and_cross_entropy_outputs(mlp_net, ce_net, digits):
    X = digits[0][:30]
    for net in (mlp_net, ce_net):
        log_probs = sample_log_proba(net, X, 4, random_state=0)
        _assert_normalised(log_probs, 30, 4)
        # the BMA of many draws is close to the eval-mode (weight-scaled) prediction
        many = sample_log_proba(net, X, 200, random_state=0)
        mean = np.exp(many.astype(np.float64)).mean(axis=1)
        assert np.abs(mean - net.predict_proba(X)).mean() < 0.05


def test_module_outputs_that_are_not_probabilities(toy, digits):
    # logits with the default NLLLoss: skorch would treat them as probabilities
    net = NeuralNetClassifier(toy.MLP, module__logits=True).initialize()
    with pytest.raises(ValueError, match="not probabilities"):
        sample_log_proba(net, digits[0][:5], 3)


def test_binary_classifier_with_logits(toy, digits):
    module = nn.Sequential(nn.Linear(64, 8), nn.Dropout(0.5), nn.ReLU(), nn.Linear(8, 1), nn.Flatten(0))
    net = NeuralNetBinaryClassifier(module).initialize()
    log_probs = sample_log_proba(net, digits[0][:10], 4, random_state=0)
    _assert_normalised(log_probs, 10, 4, n_classes=2)


def test_net_without_dropout_or_with_alpha_dropout(digits):
    X = digits[0][:5]
    plain = NeuralNetClassifier(nn.Sequential(nn.Linear(64, 10), nn.Softmax(dim=-1))).initialize()
    with pytest.raises(ValueError, match="no torch.nn.Dropout"):
        sample_log_proba(plain, X)
    posterior = resolve_posterior(plain, allow_deterministic=True)
    assert posterior.deterministic and posterior.default_n_mc_samples == 1
    log_probs = posterior.sample(posterior.check_input(X))
    _assert_normalised(log_probs, 5, 1)
    np.testing.assert_allclose(np.exp(log_probs[:, 0]), plain.predict_proba(X), atol=1e-6)
    alpha = NeuralNetClassifier(
        nn.Sequential(nn.Linear(64, 10), nn.AlphaDropout(0.2), nn.Softmax(dim=-1))
    ).initialize()
    with pytest.raises(ValueError, match="AlphaDropout"):
        sample_log_proba(alpha, X)


# --------------------------------------------------------------------------
# MCDropoutClassifier
# --------------------------------------------------------------------------


def test_mc_classifier_predict_proba(mc_net, digits):
    X = digits[0][:100]
    proba = mc_net.predict_proba(X)
    assert proba.shape == (100, 10) and proba.dtype == np.float32
    assert np.array_equal(proba, mc_net.predict_proba(X))  # random_state=0
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    log_probs = mc_net.sample_log_proba(X)
    assert log_probs.shape == (100, 8, 10)
    np.testing.assert_allclose(proba, np.exp(log_probs).mean(axis=1), atol=1e-6)
    assert np.array_equal(mc_net.predict(X), proba.argmax(axis=1))
    assert np.array_equal(sample_log_proba(mc_net, X), log_probs)
    assert mc_net.score(X, digits[1][:100]) > 0.5
    unseeded = copy.deepcopy(mc_net).set_params(random_state=None)
    assert not np.array_equal(unseeded.predict_proba(X), unseeded.predict_proba(X))


def test_mc_classifier_params_clone_and_overrides(mc_net, digits):
    params = mc_net.get_params(deep=False)
    assert (params["n_mc_samples"], params["dropout_masks"], params["random_state"]) == (8, "consistent", 0)
    assert isinstance(mc_net.criterion_, nn.NLLLoss)  # skorch's default criterion
    cloned = clone(mc_net)
    assert cloned.get_params(deep=False)["n_mc_samples"] == 8 and not hasattr(cloned, "module_")
    assert "MCDropoutClassifier" in repr(cloned)
    X = digits[0][:10]
    assert mc_net.sample_log_proba(X, 3).shape == (10, 3, 10)
    assert mc_net.sample_log_proba(X, dropout_masks="independent").shape == (10, 8, 10)
    posterior = resolve_posterior(mc_net)
    assert posterior.default_n_mc_samples == 8
    broken = copy.deepcopy(mc_net).set_params(dropout_masks="per-row")
    with pytest.raises(ValueError, match="dropout_masks must be one of"):
        broken.predict_proba(X)


def test_mc_classifier_fits_with_validation_split(toy, digits):
    X, y = digits
    net = MCDropoutClassifier(toy.MLP, n_mc_samples=3, random_state=0, max_epochs=1, verbose=0)
    toy.fit_seeded(net, X[:300], y[:300])
    assert "valid_acc" in net.history[-1]


def test_grid_search_over_pipeline(toy, digits):
    X, y = digits
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("cast", FunctionTransformer(_to_float32)),
            ("net", MCDropoutClassifier(toy.MLP, n_mc_samples=3, random_state=0, module__hidden=8, **toy.NET_KWARGS)),
        ]
    )
    clone(pipe)
    search = GridSearchCV(pipe, {"net__n_mc_samples": [2, 4]}, cv=2, n_jobs=1)
    with toy.seeded(0):
        search.fit(X[:300].astype(np.float64), y[:300])
    assert search.best_params_["net__n_mc_samples"] in (2, 4)
    log_probs = sample_log_proba(search.best_estimator_, X[:7].astype(np.float64))
    _assert_normalised(log_probs, 7, search.best_params_["net__n_mc_samples"])


# --------------------------------------------------------------------------
# adapters
# --------------------------------------------------------------------------


def test_pipeline(toy, digits):
    X, y = digits
    X_raw = X.astype(np.float64) * 16
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("cast", FunctionTransformer(_to_float32)),
            ("net", NeuralNetClassifier(toy.MLP, **toy.NET_KWARGS)),
        ]
    )
    toy.fit_seeded(pipe, X_raw, y)
    log_probs = sample_log_proba(pipe, X_raw[:20], 5, random_state=0)
    _assert_normalised(log_probs, 20, 5)
    transformed = pipe[:-1].transform(X_raw[:20])
    assert np.array_equal(log_probs, sample_log_proba(pipe[-1], transformed, 5, random_state=0))
    frame = pd.DataFrame(X_raw[:20])
    assert np.array_equal(log_probs, sample_log_proba(pipe, frame, 5, random_state=0))
    with pytest.raises(ValueError, match="features"):
        sample_log_proba(pipe, X_raw[:20, :60], 5)
    nan = X_raw[:20].copy()
    nan[4, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sample_log_proba(pipe, nan, 5)


@pytest.mark.parametrize(
    "ensemble",
    [
        RandomForestClassifier(n_estimators=7, random_state=0),
        ExtraTreesClassifier(n_estimators=4, random_state=0),
        # KNN takes no sample_weight: Bagging fits it on subsets that miss classes
        BaggingClassifier(KNeighborsClassifier(3), n_estimators=5, max_samples=12, max_features=0.5, random_state=0),
        VotingClassifier([("nb", GaussianNB()), ("tree", DecisionTreeClassifier(random_state=0))], voting="soft"),
    ],
    ids=["forest", "extra-trees", "bagging", "voting"],
)
def test_ensembles(ensemble, digits):
    X, y = digits
    X = X.astype(np.float64)  # GaussianNB computes in the input's precision
    labels = np.array(list("abcdefghij"))[y]  # string labels: columns are mapped, not assumed
    ensemble.fit(X, labels)
    n_members = len(ensemble.estimators_)
    posterior = resolve_posterior(ensemble)
    assert posterior.default_n_mc_samples == n_members
    log_probs = sample_log_proba(ensemble, X[:40], n_mc_samples=3)  # n_mc_samples ignored
    _assert_normalised(log_probs, 40, n_members)
    np.testing.assert_allclose(np.exp(log_probs).mean(axis=1), ensemble.predict_proba(X[:40]), atol=1e-6)
    if isinstance(ensemble, BaggingClassifier):
        assert any(len(member.classes_) < 10 for member in ensemble.estimators_)
    assert np.array_equal(sample_log_proba(ensemble, pd.DataFrame(X[:40])), log_probs)
    if not isinstance(ensemble, VotingClassifier):  # GaussianNB takes no sparse input
        assert np.array_equal(sample_log_proba(ensemble, sp.csr_matrix(X[:40])), log_probs)
    with pytest.raises(ValueError, match="63 features, but .* expecting 64"):
        sample_log_proba(ensemble, X[:5, :63])


class _Learner:
    """Duck-typed modAL learner."""

    def __init__(self, estimator):
        self.estimator = estimator

    def query(self, X, n_instances=1):  # pragma: no cover - never called
        raise AssertionError


class _Committee:
    """Duck-typed modAL Committee."""

    def __init__(self, learner_list):
        self.learner_list = learner_list
        self.classes_ = np.unique(np.concatenate([learner.estimator.classes_ for learner in learner_list]))

    def query(self, X, n_instances=1):  # pragma: no cover - never called
        raise AssertionError


def test_modal_learner_and_committee(mlp_net, mc_net, digits):
    X, y = digits
    learner = _Learner(mlp_net)
    expected = sample_log_proba(mlp_net, X[:9], 4, random_state=0)
    assert np.array_equal(sample_log_proba(learner, X[:9], 4, random_state=0), expected)
    assert resolve_posterior(_Learner(mc_net)).default_n_mc_samples == 8
    low = y < 5
    partial_nb = GaussianNB().fit(X[low], y[low])  # knows classes 0..4 only
    committee = _Committee([_Learner(partial_nb), _Learner(mlp_net), _Learner(mc_net)])
    log_probs = sample_log_proba(committee, X[:30].astype(np.float64))
    _assert_normalised(log_probs, 30, 3)
    expected = partial_nb.predict_proba(X[:30].astype(np.float64))
    np.testing.assert_allclose(np.exp(log_probs[:, 0, :5]), expected, atol=1e-6)
    assert (log_probs[:, 0, 5:] < -80).all()  # classes the member never saw
    np.testing.assert_allclose(np.exp(log_probs[:, 1]), mlp_net.predict_proba(X[:30]), atol=1e-6)
    np.testing.assert_allclose(np.exp(log_probs[:, 2]), mc_net.predict_proba(X[:30]), atol=1e-6)
    unfitted = _Committee([_Learner(partial_nb)])
    unfitted.learner_list.append(_Learner(GaussianNB()))
    with pytest.raises(NotFittedError):
        sample_log_proba(unfitted, X[:5])


def test_deterministic_classifiers_only_when_allowed(digits):
    X, y = digits
    for clf in (LogisticRegression(max_iter=300).fit(X, y), AdaBoostClassifier(n_estimators=3).fit(X, y)):
        with pytest.raises(TypeError, match="Supported: skbal.posterior.MCDropoutClassifier.*RandomForestClassifier"):
            sample_log_proba(clf, X[:5])
        posterior = resolve_posterior(clf, allow_deterministic=True)
        assert posterior.deterministic and posterior.default_n_mc_samples == 1
        log_probs = posterior.sample(posterior.check_input(X[:5]), 7)
        _assert_normalised(log_probs, 5, 1)
        np.testing.assert_allclose(np.exp(log_probs[:, 0]), clf.predict_proba(X[:5]), atol=1e-6)


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------


def test_unsupported_estimators(digits):
    X = digits[0][:5]
    for estimator in ("not an estimator", object(), RandomForestClassifier, GaussianNB().fit(X, [0, 1, 0, 1, 0])):
        with pytest.raises(TypeError, match="Supported:.*modAL Committee"):
            sample_log_proba(estimator, X)
    regressor = NeuralNetRegressor(nn.Sequential(nn.Linear(64, 1), nn.Dropout(0.5))).initialize()
    with pytest.raises(TypeError, match="not a classifier"):
        sample_log_proba(regressor, X)


def test_unfitted_estimators(toy, digits):
    X = digits[0][:5]
    for estimator in (
        NeuralNetClassifier(toy.MLP),
        MCDropoutClassifier(toy.MLP),
        RandomForestClassifier(),
        BaggingClassifier(),
        Pipeline([("scale", StandardScaler()), ("net", NeuralNetClassifier(toy.MLP))]),
        _Learner(MCDropoutClassifier(toy.MLP)),
    ):
        with pytest.raises(NotFittedError):
            sample_log_proba(estimator, X)
    with pytest.raises(NotFittedError):
        MCDropoutClassifier(toy.MLP).predict_proba(X)


@pytest.mark.parametrize("bad", ["nan", "inf", "features", "ndim", "empty"])
def test_bad_input_fails_before_sampling(mlp_net, digits, monkeypatch, bad):
    X = digits[0][:20].copy()
    if bad == "nan":
        X[3, 5], match = np.nan, "NaN or infinity .*row 3"
    elif bad == "inf":
        X[0, 0], match = np.inf, "NaN or infinity"
    elif bad == "features":
        X, match = X[:, :63], "63 features, but NeuralNetClassifier is expecting 64"
    elif bad == "ndim":
        X, match = X[0], "shape \\(n_samples"
    else:
        X, match = X[:0], "no rows"
    spy = _Spy(mlp_net)
    monkeypatch.setattr(mlp_net, "infer", spy)
    with pytest.raises(ValueError, match=match):
        sample_log_proba(mlp_net, X, 4, random_state=0)
    assert all(rows == 1 for rows in spy.rows)  # at most the one-row dry forward


def test_bad_arguments(mlp_net, digits):
    X = digits[0][:5]
    with pytest.raises(ValueError, match="n_mc_samples"):
        sample_log_proba(mlp_net, X, 0)
    with pytest.raises(TypeError, match="n_mc_samples"):
        sample_log_proba(mlp_net, X, 2.5)
    with pytest.raises(ValueError, match="dropout_masks"):
        sample_log_proba(mlp_net, X, 2, dropout_masks="shared")
    with pytest.raises(TypeError, match="random_state"):
        sample_log_proba(mlp_net, X, 2, random_state="zero")


def test_posterior_interface(mlp_net, digits):
    posterior = resolve_posterior(mlp_net)
    assert isinstance(posterior, Posterior)
    assert posterior.default_n_mc_samples == 20 and not posterior.deterministic
    X = posterior.check_input(pd.DataFrame(digits[0][:11]))
    assert isinstance(X, np.ndarray) and X.dtype == np.float32
    assert posterior.n_rows(X) == 11
    assert posterior.sample(X, random_state=0).shape == (11, 20, 10)
    assert "MCDropout" not in repr(posterior) and "NeuralNetClassifier" in repr(posterior)
