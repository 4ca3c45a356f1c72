"""Shared fixtures, in the style of ``skorch/tests/conftest.py``.

- ``_seed_global_rngs`` (autouse): every test starts from seeded global numpy
  and torch RNGs, and their previous states come back afterwards.
- ``no_sampling``: fails the test if an MC pass starts (for errors that
  must come before any heavy work).
- ``digits``: the digits data set, X scaled to [0, 1] as float32.
- Tiny fitted nets on digits, module-scoped so that each test module trains
  each one once (well under a second each): ``mlp_net`` (softmax output,
  skorch's default ``NLLLoss``), ``ce_net`` (logits, ``CrossEntropyLoss``),
  ``bn_net`` (``BatchNorm1d`` + ``Dropout``), ``conv_net`` (``Dropout2d``)
  and ``mc_net`` (an :class:`~skbal.posterior.MCDropoutClassifier`).
  Tests that change a fixture net's state must restore it.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from skorch import NeuralNetClassifier
from torch import nn

import skbal
from skbal.posterior import MCDropoutClassifier


@contextlib.contextmanager
def seeded(seed: int = 0):
    """Seed the global numpy and torch RNGs; restore their states on exit."""
    np_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)


@pytest.fixture(autouse=True)
def _seed_global_rngs():
    with seeded(0):
        yield


@pytest.fixture
def no_sampling(monkeypatch):
    """Fails the test if an MC pass starts (a one-row dry run to check features is fine)."""
    calls = []
    monkeypatch.setattr(skbal.posterior._adapters, "mc_dropout_log_proba", lambda *a, **k: calls.append(1))
    yield
    assert calls == [], "an MC pass ran before the error"


@pytest.fixture(scope="session")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y


class MLP(nn.Module):
    """Linear → [BatchNorm1d] → Dropout → ReLU → Linear [→ Softmax] on 64 features.

    Dropout sits before the ReLU (the same function, since masks are >= 0)
    so that tests can read a mask as (output / input) of the dropout module.
    """

    def __init__(self, hidden: int = 32, p: float = 0.5, logits: bool = False, batchnorm: bool = False):
        super().__init__()
        self.hidden = nn.Linear(64, hidden)
        self.norm = nn.BatchNorm1d(hidden) if batchnorm else nn.Identity()
        self.dropout = nn.Dropout(p)
        self.relu = nn.ReLU()
        self.out = nn.Linear(hidden, 10)
        self.logits = logits

    def forward(self, X):
        X = self.relu(self.dropout(self.norm(self.hidden(X))))
        X = self.out(X)
        return X if self.logits else torch.softmax(X, dim=-1)


class TinyConvNet(nn.Module):
    """Conv2d → Dropout2d → ReLU → Linear → Softmax on the 8x8 digit images."""

    def __init__(self, channels: int = 4, p: float = 0.5):
        super().__init__()
        self.conv = nn.Conv2d(1, channels, kernel_size=3, padding=1)
        self.dropout = nn.Dropout2d(p)
        self.relu = nn.ReLU()
        self.out = nn.Linear(channels * 64, 10)

    def forward(self, X):
        X = self.relu(self.dropout(self.conv(X.reshape(-1, 1, 8, 8))))
        return torch.softmax(self.out(X.flatten(1)), dim=-1)


NET_KWARGS = dict(max_epochs=2, optimizer=torch.optim.Adam, lr=0.02, batch_size=128, train_split=None, verbose=0)


def fit_seeded(net, X, y, seed: int = 0):
    """Fit with seeded global RNGs (skorch initialises and shuffles with them)."""
    with seeded(seed):
        return net.fit(X, y)


@pytest.fixture(scope="module")
def mlp_net(digits):
    return fit_seeded(NeuralNetClassifier(MLP, **NET_KWARGS), *digits)


@pytest.fixture(scope="module")
def ce_net(digits):
    net = NeuralNetClassifier(MLP, module__logits=True, criterion=nn.CrossEntropyLoss, **NET_KWARGS)
    return fit_seeded(net, *digits)


@pytest.fixture(scope="module")
def bn_net(digits):
    return fit_seeded(NeuralNetClassifier(MLP, module__batchnorm=True, **NET_KWARGS), *digits)


@pytest.fixture(scope="module")
def conv_net(digits):
    return fit_seeded(NeuralNetClassifier(TinyConvNet, **NET_KWARGS), *digits)


@pytest.fixture(scope="module")
def mc_net(digits):
    net = MCDropoutClassifier(MLP, n_mc_samples=8, random_state=0, **NET_KWARGS)
    return fit_seeded(net, *digits)


@pytest.fixture(scope="session")
def toy():
    """The toy module classes and helpers, for tests that build their own nets.

    (Importing from ``conftest`` is fragile: tests/modal has its own.)
    """
    import types

    return types.SimpleNamespace(
        MLP=MLP, TinyConvNet=TinyConvNet, NET_KWARGS=dict(NET_KWARGS), seeded=seeded, fit_seeded=fit_seeded
    )
