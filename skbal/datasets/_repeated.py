"""Repeated Digits: the embedded digits, each pool image repeated under noise."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from skbal.utils import check_random_state, spawn_seed

__all__ = ["load_repeated_digits"]


def load_repeated_digits(
    *, n_repeats: int = 3, noise_std: float = 0.1, test_size: float = 0.3, random_state=0
) -> Bunch:
    r"""Load Repeated Digits, a pool full of near-duplicates.

    scikit-learn's embedded 8×8 digits (1,797 images, no download) are
    scaled to [0, 1] and split, stratified, into a pool and a test set. Every
    pool image is then repeated ``n_repeats`` times, each copy with its own
    isotropic Gaussian noise, as in the Repeated MNIST experiment of
    Kirsch et al. (2019). The test set is not repeated and has no noise.

    Top-k strategies pick the same informative image several times on such
    a pool and waste labels; batch-aware strategies (BatchBALD, PowerBALD)
    do not.

    Parameters
    ----------
    n_repeats : int, default=3
        Copies of every pool image (1 gives plain digits with noise).
    noise_std : float, default=0.1
        Standard deviation of the noise added to every copy, in units of the
        standard deviation of the pixel values (0.38 on the [0, 1] scale), as
        the paper adds N(0, 0.1²) to standardised MNIST. 0 gives exact
        duplicates.
    test_size : float, default=0.3
        Fraction of the 1,797 images held out for the test set (0 < value < 1).
    random_state : int, RandomState, Generator or None, default=0
        Seeds the split and the noise. The global RNGs are never used.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``X_pool`` (float32, shape (n_repeats * n_pool_images, 64)),
        ``y_pool`` (int64), ``X_test``, ``y_test``, ``source_index`` (for
        each pool row, the position in ``load_digits()`` of the image it
        copies), ``test_index`` (the same for the test rows), ``feature_names``, ``target_names`` and ``DESCR``.

    References
    ----------
    .. [1] Kirsch, A., van Amersfoort, J. and Gal, Y. (2019). BatchBALD:
       efficient and diverse batch acquisition for deep Bayesian active
       learning. NeurIPS.

    Examples
    --------
    >>> from skbal.datasets import load_repeated_digits
    >>> data = load_repeated_digits(n_repeats=3)
    >>> data.X_pool.shape, data.X_test.shape
    ((3771, 64), (540, 64))
    >>> int((data.source_index == data.source_index[0]).sum())
    3
    """
    if not isinstance(n_repeats, numbers.Integral) or isinstance(n_repeats, bool) or n_repeats < 1:
        raise ValueError(f"n_repeats must be an int >= 1, got {n_repeats!r}.")
    if not isinstance(noise_std, numbers.Real) or not np.isfinite(noise_std) or noise_std < 0:
        raise ValueError(f"noise_std must be a finite float >= 0, got {noise_std!r}.")
    if not isinstance(test_size, numbers.Real) or not 0 < test_size < 1:
        raise ValueError(f"test_size must be a float strictly between 0 and 1, got {test_size!r}.")
    rng = check_random_state(random_state)

    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    index = np.arange(len(y))
    index_pool, index_test = train_test_split(
        index, test_size=test_size, stratify=y, random_state=spawn_seed(rng) % 2**32
    )
    source_index = np.repeat(index_pool, n_repeats)
    scale = noise_std * float(X.std())
    noise = rng.normal(0.0, scale, size=(len(source_index), X.shape[1])).astype(np.float32)
    X_pool = X[source_index] + noise
    return Bunch(
        X_pool=X_pool,
        y_pool=y[source_index],
        X_test=X[index_test],
        y_test=y[index_test],
        source_index=source_index,
        test_index=index_test,
        feature_names=list(digits.feature_names),
        target_names=digits.target_names,
        DESCR=(
            f"Repeated Digits: {len(index_pool)} digits images repeated {n_repeats} times with "
            f"N(0, ({noise_std} * {X.std():.3f})^2) noise ({len(source_index)} pool rows); {len(index_test)} clean test images."
        ),
    )
