"""Block-wise queries: sample and score a pool in fixed blocks of global rows.

A pool is cut into blocks of :data:`BLOCK_ROWS` rows at global positions
``0, BLOCK_ROWS, 2 * BLOCK_ROWS, ...``. Each block is sampled on its own
(independent dropout masks get a seed derived from the block number;
consistent masks use one seed for every block, so draw k is one posterior
sample across the whole pool) and reduced at once to a small
:class:`Candidates` set: the rows that may still be selected. Candidate sets
of disjoint rows merge exactly (:meth:`Candidates.merge`), in any grouping.

The in-memory path (:func:`run_in_memory`) and the Dask path
(:mod:`skbal.distributed`) both go through these blocks, so a query computes
the same numbers, and returns the same indices, wherever the rows live.
Memory stays bounded by one block's (n, K, C) samples plus the candidates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from skbal.acquisition._selection import tiered_top_k
from skbal.utils._progress import progress_phase
from skbal.utils._random import derive_seed

__all__ = [
    "BLOCK_ROWS",
    "Candidates",
    "CandidateAccumulator",
    "Sampling",
    "block_ranges",
    "run_in_memory",
    "sample_in_memory",
    "take_rows",
]

#: Rows per sampling block. Part of the result: with independent dropout
#: masks, block b's masks are seeded by (seed, b). 4096 is a multiple of every
#: power-of-two minibatch size up to 4096, so a block is cut into the same
#: minibatches as the whole pool would be.
BLOCK_ROWS = 4096

# Domain tag of the per-block dropout seeds (keeps them apart from any other
# stream derived from the same seed).
_MASK_STREAM = 0x6D61736B


def block_ranges(start: int, stop: int) -> Iterator[tuple[int, int]]:
    """The global blocks of rows ``start..stop-1`` as ``(lo, hi)`` ranges.

    ``start`` must be a multiple of :data:`BLOCK_ROWS` (a block's first row).
    """
    if start % BLOCK_ROWS:
        raise ValueError(f"start={start} is not the first row of a block of {BLOCK_ROWS} rows.")
    for lo in range(start, stop, BLOCK_ROWS):
        yield lo, min(stop, lo + BLOCK_ROWS)


@dataclass(frozen=True)
class Sampling:
    """How one query samples the posterior: the same for every block.

    ``seed`` is the query's mask seed. Consistent masks use it for every
    block (one set of K masks across the whole pool, whichever process
    samples the block); independent masks derive block b's seed from
    ``(seed, b)``.
    """

    n_mc_samples: int
    dropout_masks: str
    seed: int

    def block_seed(self, block_start: int) -> int:
        if self.dropout_masks == "consistent":
            return self.seed
        return derive_seed(self.seed, _MASK_STREAM, block_start // BLOCK_ROWS)

    def sample(self, posterior, X_prepared, block_start: int) -> np.ndarray:
        """Posterior samples (n, K, C) of one prepared block."""
        return posterior.sample(
            X_prepared,
            self.n_mc_samples,
            random_state=self.block_seed(block_start),
            dropout_masks=self.dropout_masks,
        )


@dataclass(frozen=True)
class Candidates:
    """The rows of a set of pool rows that may still be selected.

    Rows are kept in ascending global ``index``; the best are those with
    ``first`` True (when given), then the highest ``key``, ties to the lower
    index — the rule of :func:`skbal.acquisition.top_k`. At most ``capacity``
    rows are kept (None: all). Because the order is total, the best
    ``capacity`` rows of a union are among the best ``capacity`` of each
    part: merging candidate sets is exact, whatever the grouping.

    Attributes
    ----------
    index : ndarray of shape (m,), int64
        Global row positions, ascending.
    key : ndarray of shape (m,), float64
        What the selection ranks by (a score, or a Gumbel-perturbed key).
    score : ndarray of shape (m,), float64
        What the strategy reports for a chosen row.
    first : ndarray of shape (m,), bool, or None
        Rows ranked before every row where it is False.
    payload : ndarray of shape (m, K, C) or None
        Per-row data the client needs (BatchBALD: the posterior samples).
    capacity : int or None
        How many rows a merge keeps.
    n_rows : int
        How many pool rows these candidates were chosen from; a finished
        query checks that it equals the pool size (no row lost or doubled).
    """

    index: np.ndarray
    key: np.ndarray
    score: np.ndarray
    first: np.ndarray | None
    payload: np.ndarray | None
    capacity: int | None
    n_rows: int

    @classmethod
    def from_block(cls, start: int, key, score, *, capacity, first=None, payload=None) -> Candidates:
        """The best ``capacity`` rows of one block whose first row is ``start``."""
        key = np.asarray(key, dtype=np.float64)
        n = key.size
        keep = None
        if capacity is not None and capacity < n:
            keep = np.sort(tiered_top_k(key, capacity, first))
        return cls(
            index=np.arange(start, start + n, dtype=np.int64) if keep is None else keep.astype(np.int64) + start,
            key=key if keep is None else key[keep],
            score=np.asarray(score, dtype=np.float64) if keep is None else np.asarray(score, np.float64)[keep],
            first=None if first is None else (first if keep is None else first[keep]),
            payload=None if payload is None else (payload if keep is None else payload[keep]),
            capacity=capacity,
            n_rows=n,
        )

    def __len__(self) -> int:
        return int(self.index.size)

    @staticmethod
    def merge(parts: Sequence[Candidates]) -> Candidates:
        """The candidates of the union of disjoint row sets."""
        parts = [part for part in parts if part is not None]
        if not parts:
            raise ValueError("No candidates to merge.")
        if len(parts) == 1:
            return parts[0]
        capacity = parts[0].capacity
        index = np.concatenate([part.index for part in parts])
        order = np.argsort(index, kind="stable")
        if index.size and np.any(np.diff(index[order]) == 0):
            raise ValueError("Candidate sets overlap: a pool row was scored twice.")
        key = np.concatenate([part.key for part in parts])[order]
        first = None if parts[0].first is None else np.concatenate([part.first for part in parts])[order]
        keep = order
        if capacity is not None and capacity < index.size:
            best = np.sort(tiered_top_k(key, capacity, first))
            keep, key = order[best], key[best]
            first = None if first is None else first[best]
        payload = None
        if parts[0].payload is not None:
            payload = np.concatenate([part.payload for part in parts])[keep]
        return Candidates(
            index=index[keep],
            key=key,
            score=np.concatenate([part.score for part in parts])[keep],
            first=first,
            payload=payload,
            capacity=capacity,
            n_rows=sum(part.n_rows for part in parts),
        )

    def best(self, k: int) -> np.ndarray:
        """Positions (into these candidates) of the best ``k`` rows, best first."""
        if k > len(self):
            raise ValueError(f"Asked for the best {k} of {len(self)} candidates.")
        return tiered_top_k(self.key, k, self.first)

    def take_best(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(index, score)`` of the best ``k`` rows, best first."""
        best = self.best(k)
        return self.index[best], self.score[best]


class CandidateAccumulator:
    """Merge candidate sets as they arrive, in linear time and bounded memory."""

    def __init__(self, capacity: int | None):
        self.capacity = capacity
        self._parts: list[Candidates] = []
        self._pending = 0

    def add(self, candidates: Candidates) -> None:
        self._parts.append(candidates)
        self._pending += len(candidates)
        if self.capacity is not None and self._pending > 4 * max(self.capacity, BLOCK_ROWS):
            self._parts = [Candidates.merge(self._parts)]
            self._pending = len(self._parts[0])

    def result(self) -> Candidates:
        return Candidates.merge(self._parts)


def take_rows(X, lo: int, hi: int):
    """Rows ``lo..hi-1`` of an array, tensor, sparse matrix, DataFrame or
    dict of those; None when ``X`` cannot be sliced by rows (e.g. a
    ``torch.utils.data.Dataset``)."""
    if isinstance(X, Mapping):
        parts = {name: take_rows(value, lo, hi) for name, value in X.items()}
        return None if any(part is None for part in parts.values()) else parts
    if hasattr(X, "iloc") and hasattr(X, "shape"):
        return X.iloc[lo:hi]
    if isinstance(X, np.ndarray) or sp.issparse(X):
        return X[lo:hi]
    if type(X).__module__.startswith("torch"):
        import torch

        if isinstance(X, torch.Tensor):
            return X[lo:hi]
    return None


def _blocks(X_prepared, n_rows: int) -> Iterator[tuple[int, int, object]]:
    """``(lo, hi, rows)`` of each global block; a pool that :func:`take_rows`
    cannot slice is one block."""
    if take_rows(X_prepared, 0, 1) is None:
        yield 0, n_rows, X_prepared
        return
    for lo, hi in block_ranges(0, n_rows):
        yield lo, hi, take_rows(X_prepared, lo, hi)


def run_in_memory(posterior, X_prepared, n_rows: int, sampling: Sampling, selector) -> Candidates:
    """Sample and score a validated in-memory pool block by block."""
    accumulator = CandidateAccumulator(selector.capacity)
    with progress_phase(n_rows, "MC sampling and scoring", "row") as update:
        for lo, hi, X_block in _blocks(X_prepared, n_rows):
            accumulator.add(selector.score_block(sampling.sample(posterior, X_block, lo), lo))
            update(hi - lo)
    return accumulator.result()


def sample_in_memory(posterior, X_prepared, n_rows: int, sampling: Sampling) -> np.ndarray:
    """The (N, K, C) posterior samples of a validated in-memory pool, drawn
    block by block (the same draws as :func:`run_in_memory` scores)."""
    samples_N_K_C = None
    with progress_phase(n_rows, "MC sampling", "row") as update:
        for lo, hi, X_block in _blocks(X_prepared, n_rows):
            block_n_K_C = sampling.sample(posterior, X_block, lo)
            if samples_N_K_C is None:
                if hi - lo == n_rows:
                    samples_N_K_C = block_n_K_C  # one block: no copy
                else:
                    samples_N_K_C = np.empty((n_rows,) + block_n_K_C.shape[1:], dtype=block_n_K_C.dtype)
            if samples_N_K_C is not block_n_K_C:
                samples_N_K_C[lo:hi] = block_n_K_C
            update(hi - lo)
    return samples_N_K_C
