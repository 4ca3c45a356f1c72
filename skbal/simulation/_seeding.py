"""Seeds for simulated runs: reproducible, and the caller's RNGs left as they were."""

from __future__ import annotations

import contextlib
import random

import numpy as np

from skbal.utils import check_random_state

# Streams of one run's seeds. Fixed numbers, so that two runs with the same
# random_state draw the same initial set and the same weights whatever the
# strategy (a paired comparison).
INITIAL, TRAINING, QUERY = 0, 1, 2
# The stream of the repeats of compare_strategies, one seed per repeat.
REPEATS = 3


def root_seed(random_state) -> int:
    """One integer from which every seed of a run derives."""
    return int(check_random_state(random_state).integers(0, 2**63 - 1))


def derived_seed(root: int, stream: int, index: int = 0) -> int:
    """A 32-bit seed for (stream, index) of the run with ``root``."""
    return int(np.random.default_rng([root, stream, index]).integers(0, 2**32 - 1))


@contextlib.contextmanager
def seeded_global_rngs(seed: int):
    """Seed Python's, numpy's and torch's global RNGs inside, restore them after.

    Training code that draws from the global RNGs (weight initialisation,
    DataLoader shuffling, skorch's validation split) becomes reproducible,
    and the caller's RNG states are unchanged afterwards.
    """
    import torch

    python_state = random.getstate()
    numpy_state = np.random.get_state()
    with torch.random.fork_rng():
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)
