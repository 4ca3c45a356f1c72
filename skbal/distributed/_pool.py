"""A Dask pool seen as chunks of whole rows, and the task graph of a query.

:class:`DaskPool` takes a ``dask.array.Array`` or a dask DataFrame, learns
its chunk lengths, validates its first row on the client, and builds one task
per *aligned* chunk: skbal samples in blocks of ``BLOCK_ROWS`` global rows
(:mod:`skbal.strategies._blocks`), so each chunk boundary is moved down to a
block boundary. The rows between the two (fewer than ``BLOCK_ROWS`` per
boundary) are sliced where their chunk lives and sent to the neighbouring
task; everything else is sampled where it lives. The estimator is scattered
to the workers once per query; the chunk tasks return small candidate sets
that a tree of merge tasks reduces to one.
"""

from __future__ import annotations

import bisect
import math
import uuid

from skbal.distributed._tasks import merge_candidates, sample_chunk, score_chunk, slice_rows
from skbal.strategies._blocks import BLOCK_ROWS, Candidates

# How many candidate sets one merge task takes.
_MERGE_FAN_IN = 8


def _import_dask():
    try:
        import dask
    except ImportError as exc:  # pragma: no cover - only reachable without dask
        raise ImportError(
            "Dask pools need dask: pip install 'skbal[dask]' (dask[array,dataframe,distributed])."
        ) from exc
    return dask


def current_client():
    """The distributed Client that ``dask.compute`` would use now, or None."""
    import dask.base

    scheduler = dask.base.get_scheduler()
    owner = getattr(scheduler, "__self__", None)
    if owner is not None and type(owner).__module__.startswith("distributed"):
        return owner
    return None


class DaskPool:
    """A ``dask.array.Array`` or dask DataFrame pool, in chunks of whole rows.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, ...) or dask DataFrame
        Arrays are rechunked to one chunk along every axis but the first (a
        no-op when they already are). Unknown chunk lengths (a DataFrame's
        partitions, an array with NaN chunks) are computed first: persist
        the pool to avoid computing it twice.
    """

    def __init__(self, X):
        dask = _import_dask()
        self.collection = X
        if _is_dask_array(X):
            if X.ndim < 2:
                raise ValueError(
                    f"X_pool must have shape (n_samples, n_features, ...), got a dask array of shape {X.shape}."
                )
            if any(len(chunks) > 1 for chunks in X.chunks[1:]):
                X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})
            if any(math.isnan(length) for length in X.chunks[0]):
                X = X.compute_chunk_sizes()
            self.lengths = [int(length) for length in X.chunks[0]]
            self.chunks = list(X.to_delayed().reshape(-1))
        elif _is_dask_frame(X):
            self.lengths = [int(length) for length in X.map_partitions(len).compute()]
            self.chunks = list(X.to_delayed())
        else:
            raise TypeError(
                "A Dask pool must be a dask.array.Array or a dask DataFrame, got "
                f"{type(X).__module__}.{type(X).__name__}."
            )
        self.n_rows = sum(self.lengths)
        if self.n_rows < 1:
            raise ValueError("X_pool has no rows.")
        self._dask = dask

    def first_row(self):
        """The pool's first row, computed on the client (one chunk's slice)."""
        index = next(i for i, length in enumerate(self.lengths) if length > 0)
        (row,) = self._dask.compute(self._dask.delayed(slice_rows)(self.chunks[index], 0, 1))
        return row

    def check_input(self, posterior):
        """Validate the first row on the client: features, dtype, a dry forward.

        Every block is validated again where it is sampled (NaN/inf there
        raise with the block's global rows).
        """
        return posterior.check_input(self.first_row())

    def aligned_chunks(self):
        """``(lo, hi, parts)`` per task: rows lo..hi-1, lo a block start.

        ``parts`` are ``(chunk, a, b)`` triples (rows a..b-1 of a chunk) in
        row order. The chunk that holds most of the rows is passed whole, so
        the task runs where it lives; the others are sliced by tasks of
        their own, where they live, so only those few rows move.
        """
        bounds = [0]
        for length in self.lengths:
            bounds.append(bounds[-1] + length)
        cuts = sorted({(bound // BLOCK_ROWS) * BLOCK_ROWS for bound in bounds[1:-1]} | {0, self.n_rows})
        delayed = self._dask.delayed
        out = []
        for lo, hi in zip(cuts[:-1], cuts[1:]):
            first = bisect.bisect_right(bounds, lo) - 1  # the chunk that holds row lo
            overlaps = []
            for c in range(first, len(self.lengths)):
                if bounds[c] >= hi:
                    break
                if self.lengths[c]:
                    overlaps.append((c, max(lo, bounds[c]) - bounds[c], min(hi, bounds[c + 1]) - bounds[c]))
            main = max(overlaps, key=lambda overlap: overlap[2] - overlap[1])[0]
            parts = [
                (self.chunks[c], a, b) if c == main else (delayed(slice_rows, pure=True)(self.chunks[c], a, b), 0, b - a)
                for c, a, b in overlaps
            ]
            out.append((lo, hi, parts))
        return out

    def ship(self, obj):
        """``obj`` as a graph dependency: scattered once to every worker of
        the current distributed Client, else a single key in the graph."""
        client = current_client()
        if client is not None:
            return client.scatter(obj, broadcast=True, hash=False)
        return self._dask.delayed(obj, name=f"skbal-posterior-{uuid.uuid4().hex}")

    def run(self, posterior, sampling, selector) -> Candidates:
        """Sample and score every chunk where it lives; merge the candidates."""
        delayed = self._dask.delayed
        shipped = self.ship(posterior)
        level = [
            delayed(score_chunk, pure=False)(shipped, sampling, selector, parts, lo, hi)
            for lo, hi, parts in self.aligned_chunks()
        ]
        while len(level) > 1:
            level = [
                delayed(merge_candidates, pure=False)(*level[i : i + _MERGE_FAN_IN])
                for i in range(0, len(level), _MERGE_FAN_IN)
            ]
        (candidates,) = self._dask.compute(level[0])
        return candidates

    def sample(self, posterior, sampling, row_shape: tuple[int, int], dtype):
        """Lazy posterior samples, a dask array of shape (n_rows, K, C) = (n_rows,) + row_shape."""
        import dask.array as da

        delayed = self._dask.delayed
        shipped = self.ship(posterior)
        blocks = [
            da.from_delayed(
                delayed(sample_chunk, pure=False)(shipped, sampling, parts, lo, hi),
                shape=(hi - lo,) + tuple(row_shape),
                dtype=dtype,
            )
            for lo, hi, parts in self.aligned_chunks()
        ]
        return da.concatenate(blocks, axis=0)


def _is_dask_array(X) -> bool:
    import dask.array as da

    return isinstance(X, da.Array)


def _is_dask_frame(X) -> bool:
    return all(hasattr(X, name) for name in ("npartitions", "map_partitions", "to_delayed", "columns"))
