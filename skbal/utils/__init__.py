"""Helpers shared by skbal's layers: random state and array conversion."""

from skbal.utils._arrays import n_rows, to_numpy
from skbal.utils._random import check_random_state, spawn_seed

__all__ = ["check_random_state", "n_rows", "spawn_seed", "to_numpy"]
