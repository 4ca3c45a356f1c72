"""Data sets for active-learning experiments, all built locally (no downloads).

- :func:`load_repeated_digits`: scikit-learn's embedded digits with every
  training image repeated several times under Gaussian noise, the small
  counterpart of the BatchBALD paper's Repeated MNIST;
- :func:`load_pool_file`: a user's own ``.npz`` or ``.csv`` file.

Both return a :class:`sklearn.utils.Bunch` with ``X_pool``, ``y_pool``,
``X_test`` and ``y_test``.
"""

from skbal.datasets._files import load_pool_file
from skbal.datasets._repeated import load_repeated_digits

__all__ = ["load_pool_file", "load_repeated_digits"]
