"""A small MC-dropout MLP, the default model of the experiments."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["mc_dropout_mlp"]


class MLP(nn.Sequential):
    """Linear -> ReLU -> Dropout per hidden layer, then a linear layer of logits.

    A class, not an instance, is handed to skorch, so every ``fit`` of a clone
    builds fresh weights from the (seeded) global torch RNG.
    """

    def __init__(self, n_features: int, n_classes: int, hidden_units=(128,), dropout: float = 0.5):
        layers, width = [], int(n_features)
        for units in hidden_units:
            layers += [nn.Linear(width, int(units)), nn.ReLU(), nn.Dropout(dropout)]
            width = int(units)
        super().__init__(*layers, nn.Linear(width, int(n_classes)))


def mc_dropout_mlp(
    n_features: int,
    n_classes: int,
    *,
    hidden_units=(128,),
    dropout: float = 0.5,
    n_mc_samples: int = 20,
    max_epochs: int = 100,
    lr: float = 1e-2,
    batch_size: int = 64,
    random_state=None,
    **kwargs,
):
    """Build an unfitted :class:`~skbal.MCDropoutClassifier` MLP for tabular data.

    Linear → ReLU → Dropout for every hidden layer, then a linear output of
    logits (``CrossEntropyLoss``), trained with Adam without a validation
    split. The module is given to skorch as a class, so each ``fit`` (of
    each clone) initialises new weights from the global torch RNG, which
    :class:`ActiveLearningSimulator` seeds per round. A model for experiments and demos on small data sets such as
    digits; bring your own module for real work.

    Parameters
    ----------
    n_features : int
        Input width (the data must be float32).
    n_classes : int
        Number of classes; labels must be ``0 .. n_classes - 1``.
    hidden_units : sequence of int, default=(128,)
        Width of each hidden layer.
    dropout : float, default=0.5
        Dropout probability after every hidden layer (0 < dropout < 1).
    n_mc_samples : int, default=20
        K, MC-dropout draws per prediction and per query.
    max_epochs : int, default=100
        Epochs of Adam per fit.
    lr : float, default=1e-2
        Adam's learning rate.
    batch_size : int, default=64
        Minibatch size, for training and inference.
    random_state : int or None, default=None
        Seeds the dropout masks at prediction time (training is seeded by
        the caller, e.g. :class:`ActiveLearningSimulator`).
    **kwargs
        Passed on to :class:`~skbal.MCDropoutClassifier`.

    Returns
    -------
    net : skbal.MCDropoutClassifier
        Unfitted.

    Examples
    --------
    >>> from skbal.simulation import mc_dropout_mlp
    >>> net = mc_dropout_mlp(64, 10, hidden_units=(32,))
    >>> net.initialize().module_
    MLP(
      (0): Linear(in_features=64, out_features=32, bias=True)
      (1): ReLU()
      (2): Dropout(p=0.5, inplace=False)
      (3): Linear(in_features=32, out_features=10, bias=True)
    )
    """
    from skbal.posterior import MCDropoutClassifier

    if not 0 < dropout < 1:
        raise ValueError(f"dropout must be strictly between 0 and 1, got {dropout!r}.")
    options = {
        "module__n_features": int(n_features),
        "module__n_classes": int(n_classes),
        "module__hidden_units": tuple(int(units) for units in hidden_units),
        "module__dropout": float(dropout),
        "criterion": nn.CrossEntropyLoss,
        "optimizer": torch.optim.Adam,
        "classes": np.arange(n_classes),
        "max_epochs": max_epochs,
        "lr": lr,
        "batch_size": batch_size,
        "train_split": None,
        "verbose": 0,
        "iterator_train__shuffle": True,
        "n_mc_samples": n_mc_samples,
        "random_state": random_state,
    }
    options.update(kwargs)
    return MCDropoutClassifier(MLP, **options)
