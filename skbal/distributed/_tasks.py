"""What runs on the Dask workers: sample and score the blocks of one chunk.

Plain functions of plain arguments (no dask import): a task gets the
scattered posterior, the query's :class:`~skbal.strategies._blocks.Sampling`
and selector, and the pieces of pool rows it covers, and returns a small
:class:`~skbal.strategies._blocks.Candidates` set (or, for
:func:`skbal.distributed.sample_log_proba`, the chunk's samples).
"""

from __future__ import annotations

import threading

import numpy as np
import scipy.sparse as sp

from skbal.strategies._blocks import CandidateAccumulator, Candidates, block_ranges, take_rows

# One forward at a time per process: a worker's threads share the scattered
# estimator, and MC sampling puts temporary hooks and mode flags on its
# modules (and saves/restores the global torch RNG state).
_SAMPLING_LOCK = threading.Lock()


def slice_rows(part, lo: int, hi: int):
    """Rows ``lo..hi-1`` of one chunk (run where the chunk lives)."""
    rows = take_rows(part, lo, hi)
    if rows is None:
        raise TypeError(f"Cannot take rows of a pool chunk of type {type(part).__name__}.")
    return rows


def gather_rows(parts, lo: int, hi: int):
    """Rows ``lo..hi-1`` of the concatenation of ``parts`` ((chunk, a, b) triples)."""
    pieces, offset = [], 0
    for part, a, b in parts:
        first, last = max(lo, offset), min(hi, offset + b - a)
        if first < last:
            pieces.append(slice_rows(part, a + first - offset, a + last - offset))
        offset += b - a
    if len(pieces) == 1:
        return pieces[0]
    return _concatenate(pieces)


def _concatenate(pieces):
    head = pieces[0]
    if hasattr(head, "iloc"):
        import pandas as pd

        return pd.concat(pieces, axis=0)
    if sp.issparse(head):
        return sp.vstack(pieces, format="csr")
    if type(head).__module__.startswith("torch"):
        import torch

        return torch.cat(pieces)
    return np.concatenate(pieces)


def sample_block(posterior, sampling, X_raw, lo: int, hi: int) -> np.ndarray:
    """Validate and sample the raw pool rows ``lo..hi-1`` (one block)."""
    with _SAMPLING_LOCK:
        try:
            X_block = posterior.check_input(X_raw)
        except (TypeError, ValueError) as exc:
            kind = TypeError if isinstance(exc, TypeError) else ValueError
            raise kind(f"Pool rows {lo}..{hi - 1} (row numbers below count from {lo}): {exc}") from exc
        return sampling.sample(posterior, X_block, lo)


def score_chunk(posterior, sampling, selector, parts, lo: int, hi: int) -> Candidates:
    """The candidates of pool rows ``lo..hi-1`` (``lo`` starts a block)."""
    accumulator = CandidateAccumulator(selector.capacity)
    for block_lo, block_hi in block_ranges(lo, hi):
        X_raw = gather_rows(parts, block_lo - lo, block_hi - lo)
        log_probs_n_K_C = sample_block(posterior, sampling, X_raw, block_lo, block_hi)
        accumulator.add(selector.score_block(log_probs_n_K_C, block_lo))
    return accumulator.result()


def sample_chunk(posterior, sampling, parts, lo: int, hi: int) -> np.ndarray:
    """Posterior samples (hi - lo, K, C) of pool rows ``lo..hi-1``."""
    out = None
    for block_lo, block_hi in block_ranges(lo, hi):
        X_raw = gather_rows(parts, block_lo - lo, block_hi - lo)
        log_probs_n_K_C = sample_block(posterior, sampling, X_raw, block_lo, block_hi)
        if out is None:
            out = np.empty((hi - lo,) + log_probs_n_K_C.shape[1:], dtype=log_probs_n_K_C.dtype)
        out[block_lo - lo : block_hi - lo] = log_probs_n_K_C
    return out


def merge_candidates(*parts: Candidates) -> Candidates:
    return Candidates.merge(parts)
