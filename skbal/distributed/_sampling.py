"""Lazy posterior samples of a Dask pool."""

from __future__ import annotations

import numbers

import numpy as np

from skbal.posterior import resolve_posterior
from skbal.posterior._mc_dropout import check_dropout_masks, check_n_mc_samples
from skbal.strategies._blocks import Sampling
from skbal.utils import check_random_state, spawn_seed


def sample_log_proba(
    estimator,
    X,
    n_mc_samples: int | None = None,
    *,
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
    dropout_masks: str = "consistent",
):
    r"""Posterior samples of a Dask pool, as a lazy dask array.

    The Dask counterpart of :func:`skbal.sample_log_proba`: each chunk of
    ``X`` is sampled where it lives, in blocks of
    ``skbal.strategies._blocks.BLOCK_ROWS`` (4096) rows, from the estimator
    scattered once to the workers. Use it to compute your own scores on a
    cluster; the strategies do not need it (they reduce each chunk to a few
    candidates instead of keeping its samples).

    Parameters
    ----------
    estimator : object
        Fitted; anything :func:`skbal.sample_log_proba` supports.
    X : dask.array.Array or dask DataFrame of shape (n_samples, ...)
        The pool. Its first row is computed and checked on the client now
        (features, dtype, a one-row forward); every block is checked where it
        is sampled.
    n_mc_samples : int or None, default=None
        K. None: the estimator's own (see :func:`skbal.sample_log_proba`).
    random_state : int, RandomState, Generator or None, default=None
        The query's mask seed. An int is used as is, so with consistent
        masks the samples equal ``skbal.sample_log_proba(estimator,
        X.compute(), random_state=that_int, dropout_masks="consistent")``.
        None draws fresh OS entropy (unlike :func:`skbal.sample_log_proba`,
        it does not fall back to the estimator's own ``random_state``).
    dropout_masks : {"consistent", "independent"}, default="consistent"
        "consistent": draw k uses one set of masks for every row of the
        pool, on every worker (K models across the cluster). "independent":
        each block of 4096 rows has its own mask stream, seeded by the seed
        and the block's global position: reproducible whatever the chunking.

    Returns
    -------
    log_probs : dask.array.Array of shape (n_samples, n_mc_samples, n_classes)
        Lazy, float32 for nets and ensembles; chunked along the rows at
        multiples of 4096 rows.

    Notes
    -----
    With a distributed ``Client`` active the estimator is scattered to every
    worker when this function is called; the graph holds that future.
    Otherwise (threaded or synchronous scheduler) it is one key of the graph.

    Examples
    --------
    >>> import dask
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbal.distributed import sample_log_proba
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=4, random_state=0).fit(X, y)
    >>> pool = da.from_array(X, chunks=(500, -1))
    >>> log_probs = sample_log_proba(forest, pool)
    >>> log_probs.shape
    (1797, 4, 10)
    >>> with dask.config.set(scheduler="synchronous"):
    ...     computed = log_probs.compute()
    >>> bool(np.allclose(np.exp(computed).sum(axis=-1), 1, atol=1e-5))
    True
    """
    from skbal.distributed._pool import DaskPool

    if n_mc_samples is not None:
        check_n_mc_samples(n_mc_samples)
    dropout_masks = check_dropout_masks(dropout_masks)
    posterior = resolve_posterior(estimator)
    pool = DaskPool(X)
    first_row = pool.check_input(posterior)
    n_mc_samples = posterior.default_n_mc_samples if n_mc_samples is None else n_mc_samples
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) and random_state >= 0:
        seed = int(random_state)
    else:
        seed = spawn_seed(check_random_state(random_state))
    sampling = Sampling(n_mc_samples, dropout_masks, seed)
    first = sampling.sample(posterior, first_row, 0)  # the shape of the output, and a dry run
    return pool.sample(posterior, sampling, first.shape[1:], first.dtype)
