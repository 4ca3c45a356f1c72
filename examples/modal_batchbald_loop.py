"""
BatchBALD in a modAL loop on digits
===================================

An :class:`~modAL.models.ActiveLearner` around a skorch MC-dropout net queries
10 digits per round with ``skbal.batchbald`` and prints the test accuracy
after each round. Needs ``pip install "skbal[modal]"`` (modAL's ``teach``
needs scikit-learn < 1.8).

Run it with ``python examples/modal_batchbald_loop.py [--rounds N]``.
"""

# %%
import argparse

import numpy as np
import torch
from modAL.models import ActiveLearner
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

import skbal

parser = argparse.ArgumentParser()
parser.add_argument("--rounds", type=int, default=8)
parser.add_argument("--query-size", type=int, default=10)
args = parser.parse_args()

# %%
# Data: 20 labelled digits (two per class), the rest of the training split is
# the unlabelled pool; the oracle is ``y_pool``.
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
initial = np.concatenate([np.flatnonzero(y_pool == c)[:2] for c in range(10)])

# %%
# A small MLP with dropout. ``classes`` is given because the first labelled
# set may miss classes; the net is retrained from scratch at every teach.
torch.manual_seed(0)
net = skbal.MCDropoutClassifier(
    nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10)),
    criterion=nn.CrossEntropyLoss,
    classes=np.arange(10),
    max_epochs=60,
    lr=0.05,
    train_split=None,
    verbose=0,
    n_mc_samples=20,
    random_state=0,
)
learner = ActiveLearner(
    estimator=net,
    query_strategy=skbal.BatchBALD(n_joint_samples=2_000, random_state=0),
    X_training=X_pool[initial],
    y_training=y_pool[initial],
)
X_pool, y_pool = np.delete(X_pool, initial, axis=0), np.delete(y_pool, initial)

# %%
# The loop: query, ask the oracle, teach.
print("round  labels  test accuracy")
print(f"{0:>5}  {len(initial):>6}  {learner.score(X_test, y_test):.3f}")
for round_ in range(1, args.rounds + 1):
    indices, rows = learner.query(X_pool, n_instances=args.query_size)
    learner.teach(rows, y_pool[indices])
    X_pool, y_pool = np.delete(X_pool, indices, axis=0), np.delete(y_pool, indices)
    n_labels = len(initial) + round_ * args.query_size
    print(f"{round_:>5}  {n_labels:>6}  {learner.score(X_test, y_test):.3f}")
