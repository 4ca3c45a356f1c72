"""
Top-k BALD against batch-aware strategies on Repeated Digits
============================================================

Every pool image of Repeated Digits has three noisy copies. A top-k
strategy that ranks points one by one takes the copies of the most
informative image together and wastes labels; BatchBALD scores the batch
jointly, and PowerBALD samples it, so both spread their labels.

This is the project's main comparison (``skbal`` on the command line runs
the full-size version) on a small budget, so that it runs in seconds.
"""

# %%
# The pool and the model: a small MLP with dropout, sampled K = 20 times per
# query with MC dropout. Every run retrains it from scratch each round.
import matplotlib.pyplot as plt

import skbal
from skbal.datasets import load_repeated_digits
from skbal.plotting import plot_label_histogram, plot_learning_curves
from skbal.simulation import compare_strategies, format_summary, mc_dropout_mlp, summarize

data = load_repeated_digits(n_repeats=3, random_state=0)
net = mc_dropout_mlp(n_features=64, n_classes=10, hidden_units=(128,), n_mc_samples=20)
print(data.DESCR)

# %%
# The strategies. BALD is scored on the same K shared draws as BatchBALD
# here (consistent masks): that is the top-k baseline of the BatchBALD paper.
strategies = {
    "random": skbal.Random(),
    "BALD (top-k)": skbal.BALD(dropout_masks="consistent"),
    "PowerBALD": skbal.PowerBALD(),
    "BatchBALD": skbal.BatchBALD(),
}
results = compare_strategies(
    net,
    strategies,
    data.X_pool,
    data.y_pool,
    data.X_test,
    data.y_test,
    n_initial=20,
    query_size=10,
    budget=40,
    n_repeats=2,
    n_jobs=-1,  # one process per core; each trains with one thread
    verbose=0,
    random_state=0,
)

# %%
# Labels needed and redundant labels (copies of an image already acquired).
print(format_summary(summarize(results, accuracies=[0.8], groups=data.source_index)))

# %%
# Learning curves (median and interquartile band over runs) and the classes
# each strategy asked for.
fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 7))
plot_learning_curves(results, ax=top)
plot_label_histogram(results, data.y_pool, ax=bottom)
fig.tight_layout()
plt.show()
