"""
Tuning PowerBALD's temperature with GridSearchCV
================================================

:class:`~skbal.simulation.ActiveLearningSimulator` is a scikit-learn
classifier whose ``fit`` runs a whole active-learning simulation (the labels
act as the oracle) and whose ``score`` is the accuracy of the final model.
Grid search therefore compares temperatures by the model each one leads to,
on held-out folds, before any real label is bought.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold

import skbal
from skbal.datasets import load_repeated_digits
from skbal.simulation import ActiveLearningSimulator, mc_dropout_mlp

data = load_repeated_digits(random_state=0)
simulator = ActiveLearningSimulator(
    mc_dropout_mlp(64, 10, hidden_units=(64,), max_epochs=60, n_mc_samples=10),
    skbal.PowerBALD(),
    n_initial=20,
    query_size=10,
    budget=30,
    random_state=0,
)

# %%
# Temperature T samples points with probability proportional to
# BALD^(1/T): small T is nearly top-k, large T nearly random. Every
# candidate runs on the same folds with the same seeds.
grid = {"query_strategy__temperature": [0.1, 1.0, 10.0]}
search = GridSearchCV(simulator, grid, cv=StratifiedKFold(3, shuffle=True, random_state=0), n_jobs=-1)
search.fit(data.X_pool, data.y_pool)
print("best:", search.best_params_, f"cv accuracy {search.best_score_:.3f}")
print("test accuracy of the refitted simulation:", round(search.score(data.X_test, data.y_test), 3))

# %%
temperatures = np.array(grid["query_strategy__temperature"])
mean, std = search.cv_results_["mean_test_score"], search.cv_results_["std_test_score"]
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.errorbar(temperatures, mean, yerr=std, marker="o", capsize=3)
ax.set_xscale("log")
ax.set_xlabel("PowerBALD temperature")
ax.set_ylabel("accuracy after 50 labels")
fig.tight_layout()
plt.show()
