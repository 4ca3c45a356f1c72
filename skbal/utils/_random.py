"""Random-state handling that never touches the global RNGs."""

from __future__ import annotations

import numbers

import numpy as np

RandomStateLike = "int | np.random.RandomState | np.random.Generator | None"


def check_random_state(random_state=None) -> np.random.Generator:
    """Turn ``random_state`` into a fresh :class:`numpy.random.Generator`.

    Unlike :func:`sklearn.utils.check_random_state`, ``None`` does **not**
    use numpy's global ``RandomState``: it gives a generator seeded from the
    operating system, so the global numpy state is never read or advanced.

    Parameters
    ----------
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None
        ``None``: fresh OS entropy. int: a reproducible seed.
        ``RandomState``: one seed is drawn from it (it advances, as in
        scikit-learn). ``Generator``: used as is.

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> from skbal.utils import check_random_state
    >>> a = check_random_state(0).integers(100, size=3)
    >>> b = check_random_state(0).integers(100, size=3)
    >>> bool((a == b).all())
    True
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}.")
        return np.random.default_rng(int(random_state))
    raise TypeError(
        "random_state must be None, an int, a numpy RandomState or a numpy "
        f"Generator; got {type(random_state).__name__}."
    )


def spawn_seed(rng: np.random.Generator) -> int:
    """Draw an independent 63-bit seed from ``rng`` (for torch generators).

    Examples
    --------
    >>> import numpy as np
    >>> from skbal.utils import spawn_seed
    >>> spawn_seed(np.random.default_rng(0)) == spawn_seed(np.random.default_rng(0))
    True
    """
    return int(rng.integers(0, 2**63 - 1))


def derive_seed(seed: int, *keys: int) -> int:
    """A 63-bit seed derived from ``seed`` and integer ``keys`` (counter-based).

    The same ``(seed, *keys)`` gives the same result in every process and on
    every machine, and distinct keys give statistically independent streams
    (:class:`numpy.random.SeedSequence` hashes them together). skbal uses it
    to give each fixed-size block of pool rows its own random stream, so that
    a draw depends on a row's global position, not on how the pool is split
    into chunks.

    Parameters
    ----------
    seed : int
        A non-negative seed, e.g. from :func:`spawn_seed`.
    *keys : int
        Non-negative integers, e.g. a block number.

    Returns
    -------
    int
        In ``[0, 2**63)``.

    Examples
    --------
    >>> from skbal.utils._random import derive_seed
    >>> derive_seed(7, 0) == derive_seed(7, 0), derive_seed(7, 0) == derive_seed(7, 1)
    (True, False)
    """
    state = np.random.SeedSequence([int(seed), *(int(key) for key in keys)]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31 | int(state[1]) >> 1) & (2**63 - 1)
