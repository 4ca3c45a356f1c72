"""Pools on a Dask cluster: every strategy accepts a Dask pool.

Pass a ``dask.array.Array`` or a dask DataFrame as the pool of any skbal
strategy (``strategy(net, X_dask)``, ``strategy.select(net, X_dask)`` or
modAL's ``learner.query(X_dask)``) and the query runs on the current Dask
scheduler — the distributed ``Client`` if one is active:

- the fitted estimator is scattered to every worker once per query;
- each chunk is sampled (K MC-dropout passes) and scored where it lives,
  in blocks of 4096 rows, and reduced to a few candidates: its top k for
  top-k strategies, its k best Gumbel keys for PowerBALD / PowerEntropy, its
  ``max_candidates`` best points by BALD with their samples for BatchBALD;
- a tree of merge tasks reduces the candidates; only the final set reaches
  the client. Nothing materialises the (N, K, C) array; a worker holds its
  chunk and one block's samples.

The result is the one the same strategy returns on the same rows in memory,
with the same ``random_state``: in-memory pools go through the same blocks,
dropout masks and Gumbel noise depend on the seed and a row's global
position only, and candidate sets merge exactly (ties to the lower index).

BatchBALD needs ``max_candidates`` on a Dask pool (None would gather every
row's samples): it raises a ValueError otherwise. Strategies that only
implement ``_select`` (the whole array at once) raise too.

``import skbal`` does not import dask; this package imports it only when a
Dask pool arrives (install with ``pip install 'skbal[dask]'``). See the
"Dask" page of the documentation for running on an existing cluster.

Examples
--------
The synchronous scheduler stands in for a cluster here; with a
``distributed.Client`` active the same call runs on its workers.

>>> import dask
>>> import dask.array as da
>>> import numpy as np
>>> from sklearn.datasets import load_digits
>>> from sklearn.ensemble import RandomForestClassifier
>>> from skbal import BatchBALD, PowerBALD
>>> X, y = load_digits(return_X_y=True)
>>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:200], y[:200])
>>> pool = da.from_array(X[200:], chunks=(600, -1))
>>> strategy = PowerBALD(query_size=5, random_state=0)
>>> with dask.config.set(scheduler="synchronous"):
...     on_dask = strategy(forest, pool)
>>> bool((on_dask == strategy(forest, X[200:])).all())  # the same draw as in memory
True
>>> with dask.config.set(scheduler="synchronous"):
...     indices, gains = BatchBALD(query_size=3, max_candidates=100, random_state=0).select(forest, pool)
>>> indices.shape
(3,)
"""

from skbal.distributed._sampling import sample_log_proba

__all__ = ["sample_log_proba"]
