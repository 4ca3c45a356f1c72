"""Functional MC-dropout core: posterior samples from a fitted skorch net.

Everything here works on a *fitted* skorch classifier without changing it:

- every module is put in eval mode (BatchNorm uses its running statistics,
  which stay unchanged) and every module's ``training`` flag is restored in a
  ``finally``;
- dropout stays off inside torch; skbal multiplies the output of each
  ``torch.nn.Dropout``/``Dropout1d``/``Dropout2d``/``Dropout3d`` module by its
  own mask through a temporary forward hook (removed in a ``finally``). The
  masks come from ``torch.Generator`` objects seeded from ``random_state``:
  the global torch RNG is never used;
- the rows of each minibatch of the net's *valid* iterator
  (``net.get_iterator(net.get_dataset(X), training=False)``) are repeated K
  times along the batch dimension (draw-major) and sent through
  ``net.infer`` in one forward per chunk, under ``torch.inference_mode()``;
- outputs become natural-log probabilities following the net's criterion and
  move to the CPU chunk by chunk.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Callable, Iterator, Mapping
from functools import partial

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from skorch import NeuralNet
from skorch.dataset import Dataset, unpack_data
from skorch.utils import is_dataset, to_tensor
from torch import nn
from torch.utils.data import DataLoader

from skbal.utils import check_random_state, spawn_seed

__all__ = [
    "DROPOUT_MASKS",
    "MAX_FORWARD_ELEMENTS",
    "check_dropout_masks",
    "check_n_mc_samples",
    "check_net_input",
    "dropout_modules",
    "mc_dropout_log_proba",
    "n_rows",
]

#: The two dropout-mask schemes (see :func:`mc_dropout_log_proba`).
DROPOUT_MASKS = ("consistent", "independent")

#: Memory budget of one forward pass, in input elements: a minibatch repeated
#: K times is split into chunks of at most this many elements (rows x the
#: number of input values per row); at least one row goes into each forward.
MAX_FORWARD_ELEMENTS = 2**21

_SUPPORTED_DROPOUT = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)
_CHANNEL_DROPOUT = (nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)
_UNSUPPORTED_DROPOUT = (nn.AlphaDropout, nn.FeatureAlphaDropout)
_TINY = float(np.finfo(np.float32).tiny)
# Tolerance on the row sums of the probabilities a module outputs.
_PROBA_SUM_ATOL = 1e-3


# --------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------


def check_n_mc_samples(n_mc_samples, *, name: str = "n_mc_samples") -> int:
    """Return ``n_mc_samples`` as an int >= 1 or raise.

    Examples
    --------
    >>> from skbal.posterior._mc_dropout import check_n_mc_samples
    >>> check_n_mc_samples(8)
    8
    """
    if isinstance(n_mc_samples, bool) or not isinstance(n_mc_samples, numbers.Integral):
        raise TypeError(f"{name} must be an int >= 1, got {n_mc_samples!r} of type {type(n_mc_samples).__name__}.")
    if n_mc_samples < 1:
        raise ValueError(f"{name} must be an int >= 1, got {n_mc_samples}.")
    return int(n_mc_samples)


def check_dropout_masks(dropout_masks) -> str:
    """Return ``dropout_masks`` if it is ``"consistent"`` or ``"independent"``.

    Examples
    --------
    >>> from skbal.posterior._mc_dropout import check_dropout_masks
    >>> check_dropout_masks("consistent")
    'consistent'
    """
    if not isinstance(dropout_masks, str) or dropout_masks not in DROPOUT_MASKS:
        raise ValueError(f"dropout_masks must be one of {DROPOUT_MASKS}, got {dropout_masks!r}.")
    return dropout_masks


# --------------------------------------------------------------------------
# the net's modules
# --------------------------------------------------------------------------


def _root_modules(net) -> list[nn.Module]:
    """The net's initialised torch modules (``module_`` and any other in ``_modules``)."""
    names = list(getattr(net, "_modules", None) or ["module"])
    roots, seen = [], set()
    for name in names:
        module = getattr(net, name + "_", None)
        if isinstance(module, nn.Module) and id(module) not in seen:
            seen.add(id(module))
            roots.append(module)
    return roots


def _named_submodules(net) -> list[tuple[str, nn.Module]]:
    """Every submodule of the net's modules once, in a deterministic order."""
    names = list(getattr(net, "_modules", None) or ["module"])
    out, seen = [], set()
    for root_name, root in zip(names, _root_modules(net)):
        for sub_name, module in root.named_modules():
            if id(module) not in seen:
                seen.add(id(module))
                out.append((f"{root_name}_.{sub_name}" if sub_name else f"{root_name}_", module))
    return out


def dropout_modules(net) -> list[tuple[str, nn.Module]]:
    """The dropout modules of a fitted skorch net that MC dropout will sample.

    Parameters
    ----------
    net : skorch.NeuralNet
        A fitted (initialised) net.

    Returns
    -------
    list of (str, torch.nn.Module)
        ``(name, module)`` for every ``Dropout``, ``Dropout1d``, ``Dropout2d``
        and ``Dropout3d`` (and subclasses), in ``named_modules`` order. Their
        position in this list seeds their masks.

    Raises
    ------
    ValueError
        If the net contains ``AlphaDropout`` or ``FeatureAlphaDropout``,
        whose masks skbal cannot reproduce with multiplicative masks.

    Examples
    --------
    >>> import torch
    >>> from skorch import NeuralNetClassifier
    >>> from skbal.posterior._mc_dropout import dropout_modules
    >>> module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Dropout(0.2),
    ...                              torch.nn.Softmax(dim=-1))
    >>> net = NeuralNetClassifier(module).initialize()
    >>> [name for name, _ in dropout_modules(net)]
    ['module_.1']
    """
    found, unsupported = [], []
    for name, module in _named_submodules(net):
        if isinstance(module, _UNSUPPORTED_DROPOUT):
            unsupported.append(f"{name} ({type(module).__name__})")
        elif isinstance(module, _SUPPORTED_DROPOUT):
            found.append((name, module))
    if unsupported:
        raise ValueError(
            "MC dropout cannot sample AlphaDropout/FeatureAlphaDropout (their masks also shift "
            f"and rescale the activations): {', '.join(unsupported)}. Use torch.nn.Dropout "
            "(or Dropout1d/2d/3d) in the module."
        )
    return found


def _module_dtype(net) -> torch.dtype:
    for root in _root_modules(net):
        for tensor in list(root.parameters()) + list(root.buffers()):
            if tensor.is_floating_point():
                return tensor.dtype
    return torch.float32


def _first_linear_in_features(net) -> int | None:
    for _, module in _named_submodules(net):
        if isinstance(module, nn.Linear):
            return int(module.in_features)
        if any(True for _ in module.parameters(recurse=False)):
            return None
    return None


@contextlib.contextmanager
def _inference_context(net) -> Iterator[None]:
    """Eval mode for every module, inference mode, global torch RNG untouched.

    Every module's ``training`` flag is set to False and restored, one by one,
    in a ``finally``. The global torch RNG state is saved and restored too:
    torch's ``DataLoader`` draws its base seed from it at every iteration
    (even without shuffling), and any ``F.dropout(..., training=True)`` in a
    forward would consume it.
    """
    flags = [(module, module.training) for _, module in _named_submodules(net)]
    rng_state = torch.get_rng_state()
    try:
        for module, _ in flags:
            module.training = False
        with torch.inference_mode():
            yield
    finally:
        for module, flag in flags:
            module.training = flag
        torch.set_rng_state(rng_state)


# --------------------------------------------------------------------------
# output nonlinearity
# --------------------------------------------------------------------------


def _single_criterion(net):
    names = list(getattr(net, "_criteria", None) or ["criterion"])
    if len(names) != 1:
        return None
    criterion = getattr(net, names[0] + "_", None)
    return getattr(criterion, "_orig_mod", criterion)


def _logits_to_log_proba(y: torch.Tensor) -> torch.Tensor:
    if y.ndim != 2:
        raise ValueError(
            f"The module must return logits of shape (batch, n_classes), got shape {tuple(y.shape)}."
        )
    return F.log_softmax(y.float(), dim=-1)


def _binary_logits_to_log_proba(y: torch.Tensor) -> torch.Tensor:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"With BCEWithLogitsLoss the module must return one logit per row, got shape {tuple(y.shape)}."
        )
    z = y.float()
    return torch.stack([F.logsigmoid(-z), F.logsigmoid(z)], dim=-1)


def _proba_to_log_proba(y: torch.Tensor, *, nonlin: Callable, criterion_name: str) -> torch.Tensor:
    p = nonlin(y)
    if p.ndim != 2:
        raise ValueError(
            f"The net's predicted probabilities must have shape (batch, n_classes), got shape {tuple(p.shape)}."
        )
    p = p.float()
    finite = bool(torch.isfinite(p).all())
    sums = p.sum(dim=-1)
    if not finite or bool((p < -1e-6).any()) or bool(((sums - 1).abs() > _PROBA_SUM_ATOL).any()):
        raise ValueError(
            "The net's module outputs are not probabilities (rows must be >= 0 and sum to 1; "
            f"got row sums in [{float(sums.min()):.4g}, {float(sums.max()):.4g}]"
            f"{'' if finite else ' and non-finite values'}), but with criterion {criterion_name} and "
            "its predict_nonlinearity skorch treats them as probabilities. End the module in "
            "softmax, or output logits and use criterion=torch.nn.CrossEntropyLoss."
        )
    log_p = torch.log(p.clamp_min(_TINY))
    return log_p - torch.logsumexp(log_p, dim=-1, keepdim=True)


def _output_to_log_proba(net) -> Callable[[torch.Tensor], torch.Tensor]:
    """How this net's module output becomes natural-log class probabilities.

    With ``predict_nonlinearity="auto"`` (skorch's default): a
    ``CrossEntropyLoss`` net outputs logits (``log_softmax``), a
    ``BCEWithLogitsLoss`` net one logit per row (``logsigmoid``). Otherwise
    skorch's own ``predict_nonlinearity`` (identity for ``NLLLoss``: the module
    outputs probabilities) gives probabilities, checked and then logged.
    """
    criterion = _single_criterion(net)
    if isinstance(net.predict_nonlinearity, str) and net.predict_nonlinearity == "auto":
        if isinstance(criterion, nn.CrossEntropyLoss):
            return _logits_to_log_proba
        if isinstance(criterion, nn.BCEWithLogitsLoss):
            return _binary_logits_to_log_proba
    nonlin = net._get_predict_nonlinearity()
    return partial(_proba_to_log_proba, nonlin=nonlin, criterion_name=type(criterion).__name__)


# --------------------------------------------------------------------------
# dropout masks
# --------------------------------------------------------------------------


def _derive_seed(seed: int, *keys: int) -> int:
    state = np.random.SeedSequence([seed, *keys]).generate_state(1, dtype=np.uint64)[0]
    return int(state) & (2**63 - 1)


def _mask_shape(module: nn.Module, feature_shape: tuple[int, ...]) -> tuple[int, ...]:
    """One row's mask: element-wise, or channel-wise (C, 1, ..., 1) for Dropout1d/2d/3d."""
    if isinstance(module, _CHANNEL_DROPOUT) and len(feature_shape) >= 2:
        return (feature_shape[0],) + (1,) * (len(feature_shape) - 1)
    return tuple(feature_shape)


def _bernoulli_bytes(bit_generator: np.random.PCG64, size: int, keep: float) -> np.ndarray:
    """``size`` independent Bernoulli(``keep``) draws as uint8 0/1.

    From raw bits of numpy's PCG64, several times faster than torch's CPU
    ``bernoulli_``: a draw is 1 when a b-bit random integer is below
    keep 2**b, with b the fewest of 1, 8, 16 bits that make keep 2**b an
    integer (exact: 1 bit a draw for keep = 0.5), else 32 bits (keep
    rounded to a multiple of 2**-32).
    """
    for n_bits, dtype in ((1, None), (8, np.uint8), (16, np.uint16), (32, np.uint32)):
        threshold = keep * 2**n_bits
        if threshold == int(threshold) or n_bits == 32:
            break
    threshold = round(threshold)
    if threshold >= 2**n_bits:
        return np.ones(size, dtype=np.uint8)
    n_words = -(-size * n_bits // 64)
    raw = bit_generator.random_raw(n_words)
    if n_bits == 1:  # keep = 0.5 (threshold 1) or 0 (threshold 0)
        bits = np.unpackbits(raw.view(np.uint8), count=size)
        return bits if threshold == 1 else np.zeros(size, dtype=np.uint8)
    return (raw.view(dtype)[:size] < threshold).view(np.uint8)


def _device_generator(seed: int, device: torch.device) -> torch.Generator:
    try:
        generator = torch.Generator(device=device)
    except RuntimeError:  # pragma: no cover - devices without their own generator
        generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


class _DropoutMasks:
    """The forward hooks that apply skbal's dropout masks.

    A mask is keyed by (position of the dropout module, how many times that
    module has already run in the current forward), so a module applied twice
    in one forward gets two masks. Each key has its own generator seeded from
    (seed, position, call).
    """

    def __init__(self, modules: list[tuple[str, nn.Module]], n_mc_samples: int, mode: str, seed: int):
        self.names = [name for name, _ in modules]
        self.n_mc_samples = n_mc_samples
        self.mode = mode
        self.seed = seed
        self._calls = [0] * len(modules)
        self._consistent: dict[tuple[int, int], tuple[tuple[int, ...], torch.Tensor, dict]] = {}
        self._generators: dict[tuple[int, int], torch.Generator | np.random.PCG64] = {}
        self._k0 = self._k1 = self._n_rows = 0

    def start_forward(self, k0: int, k1: int, n_rows: int) -> None:
        """The next forward holds draws k0..k1-1 of ``n_rows`` pool rows, draw-major."""
        self._calls = [0] * len(self._calls)
        self._k0, self._k1, self._n_rows = k0, k1, n_rows

    def hook(self, index: int) -> Callable:
        return partial(self._apply, index)

    def _apply(self, index: int, module: nn.Module, inputs, output):
        call = self._calls[index]
        self._calls[index] += 1
        p = float(module.p)
        if p == 0.0:
            return None
        if not isinstance(output, torch.Tensor):
            raise TypeError(f"Dropout module {self.names[index]} returned {type(output).__name__}, not a tensor.")
        scale = 0.0 if p >= 1.0 else 1.0 / (1.0 - p)
        if self.mode == "independent":
            return self._independent(index, call, module, output, p, scale)
        return self._consistent_apply(index, call, module, output, p, scale)

    def _independent(self, index, call, module, output, p, scale):
        key = (index, call)
        shape = (output.shape[0],) + _mask_shape(module, tuple(output.shape[1:])) if output.ndim else ()
        if output.device.type == "cpu":
            bit_generator = self._generators.get(key)
            if bit_generator is None:
                bit_generator = np.random.PCG64(_derive_seed(self.seed, index, call))
                self._generators[key] = bit_generator
            keep = torch.from_numpy(_bernoulli_bytes(bit_generator, int(np.prod(shape, dtype=np.int64)), 1.0 - p))
            keep = keep.reshape(shape)
        else:
            generator = self._generators.get(key)
            if generator is None:
                generator = _device_generator(_derive_seed(self.seed, index, call), output.device)
                self._generators[key] = generator
            keep = torch.empty(shape, dtype=torch.float32, device=generator.device)
            keep = keep.bernoulli_(1.0 - p, generator=generator).to(output.device)
        masked = output * keep
        return masked.mul_(scale)

    def _consistent_apply(self, index, call, module, output, p, scale):
        n_draws, n_rows = self._k1 - self._k0, self._n_rows
        if output.ndim == 0 or output.shape[0] != n_draws * n_rows:
            raise ValueError(
                f"Dropout module {self.names[index]} received a tensor of shape {tuple(output.shape)} "
                f"in a forward of {n_draws * n_rows} rows: consistent masks need the batch "
                "dimension first. Use dropout_masks='independent' for this module."
            )
        feature_shape = tuple(output.shape[1:])
        masks = self._consistent_masks(index, call, _mask_shape(module, feature_shape), p, scale, output)
        mask = masks[self._k0 : self._k1].unsqueeze(1)
        return (output.reshape((n_draws, n_rows) + feature_shape) * mask).reshape(output.shape)

    def _consistent_masks(self, index, call, shape, p, scale, output) -> torch.Tensor:
        key = (index, call)
        entry = self._consistent.get(key)
        if entry is None:
            # Drawn once per call on the CPU, all K draws at once: the masks do
            # not depend on chunking, batch layout or device.
            generator = torch.Generator()
            generator.manual_seed(_derive_seed(self.seed, index, call))
            keep = torch.empty((self.n_mc_samples,) + shape, dtype=torch.float32)
            keep.bernoulli_(1.0 - p, generator=generator)
            entry = (shape, keep * scale, {})
            self._consistent[key] = entry
        drawn_shape, masks, converted = entry
        if drawn_shape != shape:
            raise ValueError(
                f"Dropout module {self.names[index]} saw rows of feature shape {shape} after {drawn_shape}: "
                "consistent masks need the same shape for every row. Pad the inputs to one "
                "shape or use dropout_masks='independent'."
            )
        cache_key = (output.device, output.dtype)
        if cache_key not in converted:
            converted[cache_key] = masks.to(device=output.device, dtype=output.dtype)
        return converted[cache_key]


# --------------------------------------------------------------------------
# batches
# --------------------------------------------------------------------------


def _leaves(Xi) -> list[torch.Tensor]:
    if isinstance(Xi, torch.Tensor):
        return [Xi]
    if isinstance(Xi, Mapping):
        return [leaf for value in Xi.values() for leaf in _leaves(value)]
    if isinstance(Xi, (list, tuple)):
        return [leaf for value in Xi for leaf in _leaves(value)]
    raise TypeError(
        f"skbal can repeat minibatches made of tensors, dicts or lists of tensors; the net's "
        f"iterator yielded {type(Xi).__name__}."
    )


def _repeat_rows(Xi, b0: int, b1: int, n_repeats: int):
    """Rows b0..b1-1 of the minibatch, repeated ``n_repeats`` times (draw-major)."""
    if isinstance(Xi, torch.Tensor):
        part = Xi if (b0 == 0 and b1 == Xi.shape[0]) else Xi[b0:b1]
        if n_repeats == 1:
            return part
        return part.repeat((n_repeats,) + (1,) * (part.ndim - 1))
    if isinstance(Xi, Mapping):
        return {key: _repeat_rows(value, b0, b1, n_repeats) for key, value in Xi.items()}
    return type(Xi)(_repeat_rows(value, b0, b1, n_repeats) for value in Xi)


def _chunks(n_rows: int, n_draws: int, row_elements: int, max_elements: int):
    """(b0, b1, k0, k1) blocks: all draws of as many rows as fit in the budget."""
    per_forward = max(1, max_elements // max(1, row_elements))
    if n_rows * n_draws <= per_forward:
        yield 0, n_rows, 0, n_draws
    elif n_draws <= per_forward:
        step = per_forward // n_draws
        for b0 in range(0, n_rows, step):
            yield b0, min(n_rows, b0 + step), 0, n_draws
    else:  # K copies of one row do not fit: split the draws too
        for b0 in range(n_rows):
            for k0 in range(0, n_draws, per_forward):
                yield b0, b0 + 1, k0, min(n_draws, k0 + per_forward)


# Keyword arguments of the valid iterator that do not change which rows a
# minibatch holds or how they are collated.
_PLAIN_ITERATOR_PARAMS = {"batch_size", "num_workers", "pin_memory", "persistent_workers", "prefetch_factor"}


def _plain_batch_size(net, X) -> int | None:
    """The valid iterator's batch size, if its minibatches of ``X`` are just
    consecutive rows of ``X`` as tensors (else None).

    True for an array, tensor or CSR matrix with skorch's own ``get_dataset``,
    ``get_iterator``, ``Dataset`` and ``DataLoader`` and no collate, sampler
    or dataset arguments. Such minibatches are sliced directly: skorch's
    per-row ``Dataset`` and collate would give the same tensors, slower.
    """
    if not isinstance(X, (np.ndarray, torch.Tensor)) and not sp.isspmatrix_csr(X):
        return None
    if isinstance(X, np.ndarray) and X.dtype.kind not in "biuf":
        return None
    cls = type(net)
    if getattr(cls, "get_dataset", None) is not NeuralNet.get_dataset:
        return None
    if getattr(cls, "get_iterator", None) is not NeuralNet.get_iterator:
        return None
    if net.dataset is not Dataset or net.get_params_for("dataset"):
        return None
    if net.iterator_valid is not DataLoader:
        return None
    kwargs = net.get_params_for("iterator_valid")
    if set(kwargs) - _PLAIN_ITERATOR_PARAMS:
        return None
    batch_size = kwargs.get("batch_size", net.batch_size)
    if batch_size == -1:
        return max(1, X.shape[0])
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        return None  # let the DataLoader report it
    return int(batch_size)


def _iter_batches(net, X):
    """The net's valid minibatches of ``X``, as tensors on the net's device."""
    batch_size = _plain_batch_size(net, X)
    if batch_size is None:
        dataset = net.get_dataset(X)
        for batch in net.get_iterator(dataset, training=False):
            Xi, _ = unpack_data(batch)
            yield to_tensor(Xi, device=net.device)
        return
    # Each minibatch is a copy, as skorch's collate makes one: a module that
    # works in place on its input must not write to the caller's pool.
    for start in range(0, X.shape[0], batch_size):
        rows = X[start : start + batch_size]
        if sp.issparse(rows):
            yield torch.from_numpy(rows.toarray()).to(net.device)
        elif isinstance(rows, np.ndarray):
            yield torch.from_numpy(np.array(rows, order="C")).to(net.device)
        else:
            yield rows.to(net.device, copy=True)


def _total_rows(X) -> int | None:
    try:
        return n_rows(X)
    except TypeError:
        return None


def _forward_log_proba(net, X, n_draws: int, masks: _DropoutMasks | None, max_elements: int) -> np.ndarray:
    """(N, K, C) float32 log-probabilities, written chunk by chunk into one array."""
    to_log_proba = _output_to_log_proba(net)
    total = _total_rows(X)
    out_N_K_C = out_t = None
    filled = 0
    for Xi in _iter_batches(net, X):
        leaves = _leaves(Xi)
        if not leaves or leaves[0].ndim == 0:
            raise ValueError("The net's iterator yielded an empty minibatch.")
        batch_rows = int(leaves[0].shape[0])
        row_elements = sum(leaf.numel() for leaf in leaves) // max(1, batch_rows)
        for b0, b1, k0, k1 in _chunks(batch_rows, n_draws, row_elements, max_elements):
            n_k, n_b = k1 - k0, b1 - b0
            if masks is not None:
                masks.start_forward(k0, k1, n_b)
            y = net.infer(_repeat_rows(Xi, b0, b1, n_k))
            if isinstance(y, tuple):
                y = y[0]
            log_p = to_log_proba(y)
            if log_p.shape[0] != n_k * n_b:
                raise ValueError(
                    f"The module returned {log_p.shape[0]} rows for an input of {n_k * n_b} rows."
                )
            n_classes = log_p.shape[1]
            if out_N_K_C is None:
                out_N_K_C = np.empty((total if total is not None else batch_rows, n_draws, n_classes), np.float32)
                out_t = torch.from_numpy(out_N_K_C)
            elif out_N_K_C.shape[2] != n_classes:
                raise ValueError(f"The module returned {n_classes} classes after {out_N_K_C.shape[2]}.")
            if filled + batch_rows > out_N_K_C.shape[0]:
                if total is not None:
                    raise ValueError(f"The net's iterator yielded more than the {total} rows of X.")
                out_N_K_C = np.concatenate([out_N_K_C, np.empty_like(out_N_K_C)])  # unknown length: grow
                out_t = torch.from_numpy(out_N_K_C)
            # draw-major forward rows -> (rows, draws, classes), one strided copy
            out_t[filled + b0 : filled + b1, k0:k1] = log_p.reshape(n_k, n_b, n_classes).transpose(0, 1)
        filled += batch_rows
    if out_N_K_C is None:
        raise ValueError("X has no rows.")
    if total is not None and filled != total:
        raise ValueError(f"The net's iterator yielded {filled} rows for the {total} rows of X.")
    return out_N_K_C[:filled]


def mc_dropout_log_proba(
    net,
    X,
    n_mc_samples: int,
    *,
    dropout_masks: str = "consistent",
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
    max_forward_elements: int = MAX_FORWARD_ELEMENTS,
) -> np.ndarray:
    r"""MC-dropout posterior samples from a fitted skorch classifier.

    The functional core behind :class:`~skbal.posterior.MCDropoutClassifier`
    and :func:`~skbal.posterior.sample_log_proba`. ``X`` is used as given:
    validate it with :func:`check_net_input` first.

    Parameters
    ----------
    net : skorch.NeuralNetClassifier
        A fitted net whose module contains ``torch.nn.Dropout`` (or
        ``Dropout1d``/``Dropout2d``/``Dropout3d``) modules.
    X : array-like of shape (n_samples, ...)
        Anything the net's dataset accepts.
    n_mc_samples : int
        K, the number of posterior draws.
    dropout_masks : {"consistent", "independent"}, default="consistent"
        ``"consistent"``: draw k uses one mask per dropout module for every
        row (K models, needed by BatchBALD). ``"independent"``: a new mask
        per row and draw, as train-mode dropout does.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the masks; None draws fresh OS entropy. Never the global RNG.
    max_forward_elements : int, default=MAX_FORWARD_ELEMENTS
        Memory budget of one forward, in input elements.

    Returns
    -------
    log_probs : ndarray of shape (n_samples, n_mc_samples, n_classes), float32
        Natural-log class probabilities; ``log_probs[:, k, :]`` is draw k.

    Notes
    -----
    Gal and Ghahramani (2016) read dropout at test time as sampling weights
    ω_k from an approximate posterior q(ω): the draws are
    :math:`\log p(y \mid x, \omega_k)`, and the predictive distribution is
    their mean probability.

    Masks are multiplicative, ``keep / (1 - p)`` with ``keep ~ Bernoulli(1 - p)``,
    applied by a forward hook to the (eval-mode, so identity) output of each
    dropout module; channel-wise (one value per channel) for
    ``Dropout1d``/``Dropout2d``/``Dropout3d``. Consistent masks are drawn for
    all K draws at once, per (module, call within the forward), from a
    generator seeded by ``(seed, module position, call)``, and broadcast over
    the rows: the result depends neither on the minibatch layout nor on
    chunking, and repeats exactly for a fixed ``random_state``. Independent
    masks come from per-(module, call) generators on the net's device,
    consumed batch after batch: reproducible for a fixed ``random_state`` and
    batch layout; otherwise only their distribution is fixed.

    Dropout written as ``F.dropout(x, training=self.training)`` inside
    ``forward`` is *not* sampled (the module is in eval mode): use dropout
    modules. ``AlphaDropout`` raises.

    References
    ----------
    .. [1] Gal, Y. and Ghahramani, Z. (2016). Dropout as a Bayesian
       approximation: representing model uncertainty in deep learning. ICML.
    .. [2] Gal, Y., Islam, R. and Ghahramani, Z. (2017). Deep Bayesian active
       learning with image data. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skorch import NeuralNetClassifier
    >>> from skbal.posterior._mc_dropout import mc_dropout_log_proba
    >>> module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5),
    ...                              torch.nn.Linear(8, 3), torch.nn.Softmax(dim=-1))
    >>> net = NeuralNetClassifier(module).initialize()
    >>> X = np.ones((5, 4), dtype=np.float32)
    >>> mc_dropout_log_proba(net, X, 6, random_state=0).shape
    (5, 6, 3)
    """
    n_mc_samples = check_n_mc_samples(n_mc_samples)
    mode = check_dropout_masks(dropout_masks)
    net.check_is_fitted()
    modules = dropout_modules(net)
    if not modules:
        raise ValueError(_no_dropout_message(net))
    masks = _DropoutMasks(modules, n_mc_samples, mode, spawn_seed(check_random_state(random_state)))
    handles = []
    with _inference_context(net):
        try:
            for index, (_, module) in enumerate(modules):
                handles.append(module.register_forward_hook(masks.hook(index)))
            return _forward_log_proba(net, X, n_mc_samples, masks, max_forward_elements)
        finally:
            for handle in handles:
                handle.remove()


def eval_log_proba(net, X, *, max_forward_elements: int = MAX_FORWARD_ELEMENTS) -> np.ndarray:
    """One deterministic draw: the eval-mode forward as log-probabilities.

    Returns an array of shape (n_samples, 1, n_classes); same safety as
    :func:`mc_dropout_log_proba` (modes and global RNG restored).

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skorch import NeuralNetClassifier
    >>> from skbal.posterior._mc_dropout import eval_log_proba
    >>> module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Softmax(dim=-1))
    >>> net = NeuralNetClassifier(module).initialize()
    >>> eval_log_proba(net, np.ones((5, 4), dtype=np.float32)).shape
    (5, 1, 3)
    """
    net.check_is_fitted()
    with _inference_context(net):
        return _forward_log_proba(net, X, 1, None, max_forward_elements)


def _no_dropout_message(net) -> str:
    return (
        f"The module of this {type(net).__name__} contains no torch.nn.Dropout, Dropout1d, "
        "Dropout2d or Dropout3d module, so MC dropout would give K identical draws. Add "
        "dropout modules (functional F.dropout inside forward is not sampled), or use an "
        "ensemble."
    )


# --------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------


def n_rows(X) -> int:
    """Number of rows (pool points) of ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from skbal.posterior._mc_dropout import n_rows
    >>> n_rows(np.zeros((7, 3)))
    7
    """
    if is_dataset(X):
        return len(X)
    if isinstance(X, Mapping):
        return n_rows(next(iter(X.values())))
    shape = getattr(X, "shape", None)
    if shape is not None:
        return int(shape[0])
    return len(X)


def _as_array(X, name: str = "X") -> np.ndarray:
    """DataFrame/Series/list → numpy (never mutated; object dtype made numeric)."""
    if hasattr(X, "to_numpy") and hasattr(X, "iloc"):
        X = X.to_numpy()
    X = np.asarray(X)
    if X.dtype == object:
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric; got an array of dtype object that is not.") from exc
    return X


def _check_finite(values, name: str = "X") -> None:
    if isinstance(values, torch.Tensor):
        if values.is_floating_point() or values.is_complex():
            bad = ~torch.isfinite(values)
            if bool(bad.any()):
                row = int(bad.reshape(bad.shape[0], -1).any(dim=1).nonzero()[0, 0]) if bad.ndim else 0
                raise ValueError(f"{name} contains NaN or infinity (first in row {row}).")
        return
    if sp.issparse(values):
        data = values.data
        if data.dtype.kind in "fc" and not np.isfinite(data).all():
            raise ValueError(f"{name} contains NaN or infinity.")
        return
    if values.dtype.kind in "fc":
        # In row chunks of about 2**20 values: no pool-sized temporaries.
        step = max(1, 2**20 // max(1, values[:1].size))
        for start in range(0, values.shape[0], step):
            finite = np.isfinite(values[start : start + step])
            if not finite.all():
                row = start + int(np.flatnonzero(~finite.reshape(finite.shape[0], -1).all(axis=1))[0])
                raise ValueError(f"{name} contains NaN or infinity (first in row {row}).")


def _check_shape(shape, name: str = "X") -> None:
    if len(shape) < 2:
        raise ValueError(
            f"{name} must have shape (n_samples, n_features, ...), got shape {tuple(shape)}; "
            "reshape a single row with X.reshape(1, -1)."
        )
    if shape[0] < 1:
        raise ValueError(f"{name} has no rows (shape {tuple(shape)}).")


def check_net_input(net, X, *, name: str = "X"):
    """Validate and convert a pool for a fitted skorch net, before any MC pass.

    Parameters
    ----------
    net : skorch.NeuralNet
        A fitted net.
    X : array-like, DataFrame, torch.Tensor or scipy sparse matrix
        The pool, of shape (n_samples, ...). A skorch/torch ``Dataset`` or a
        dict of arrays (multi-input modules) is passed through unchecked.
    name : str, default="X"
        The argument's name, for error messages.

    Returns
    -------
    X_prepared : ndarray, torch.Tensor, scipy sparse matrix or as given
        DataFrames become numpy arrays (skorch would pass their columns as
        keyword arguments); floating values are cast to the module's dtype
        (a copy; ``X`` is never modified).

    Raises
    ------
    ValueError
        NaN/inf, fewer than 2 dimensions, no rows, or rows the module cannot
        process: a one-row dry forward (eval mode, inference mode) is run and a
        failure is reported with the expected number of features when the
        module's first layer is a ``Linear``.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skorch import NeuralNetClassifier
    >>> from skbal.posterior._mc_dropout import check_net_input
    >>> module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Softmax(dim=-1))
    >>> net = NeuralNetClassifier(module).initialize()
    >>> check_net_input(net, np.ones((2, 4))).dtype
    dtype('float32')
    """
    if is_dataset(X) or isinstance(X, Mapping):
        return X
    dtype = _module_dtype(net)
    if isinstance(X, torch.Tensor):
        if X.layout != torch.strided:
            raise TypeError(f"{name}: sparse torch tensors are not supported; pass a scipy CSR matrix.")
        _check_shape(X.shape, name)
        _check_finite(X, name)
        if X.is_floating_point() and X.dtype != dtype:
            X = X.to(dtype)
    elif sp.issparse(X):
        _check_shape(X.shape, name)
        X = X.tocsr()
        _check_finite(X, name)
        np_dtype = _numpy_dtype(dtype)
        if X.dtype.kind == "f" and np_dtype is not None and X.dtype != np_dtype:
            X = X.astype(np_dtype)
    else:
        X = _as_array(X, name)
        _check_shape(X.shape, name)
        _check_finite(X, name)
        np_dtype = _numpy_dtype(dtype)
        if X.dtype.kind == "f" and X.dtype != np_dtype:
            X = X.astype(np_dtype) if np_dtype is not None else torch.from_numpy(X).to(dtype)
    _dry_forward(net, X, name)
    return X


def _numpy_dtype(dtype: torch.dtype):
    try:
        return torch.empty((), dtype=dtype).numpy().dtype
    except (TypeError, RuntimeError):  # bfloat16 has no numpy dtype
        return None


def _dry_forward(net, X, name: str) -> None:
    row = X[:1]
    if sp.issparse(row):
        row = row.toarray()
    try:
        with _inference_context(net):
            for Xi in _iter_batches(net, row):
                y = net.infer(Xi)
                _output_to_log_proba(net)(y[0] if isinstance(y, tuple) else y)
    except RuntimeError as exc:
        n_features = X.shape[1] if len(X.shape) == 2 else None
        expected = _first_linear_in_features(net)
        if expected is not None and len(X.shape) == 2 and expected != X.shape[1]:
            message = (
                f"{name} has {n_features} features, but {type(net).__name__} is expecting "
                f"{expected} features as input (in_features of its first Linear layer)."
            )
        else:
            message = (
                f"The module of this {type(net).__name__} cannot process one row of {name} "
                f"(rows of shape {tuple(X.shape[1:])}, dtype {X.dtype})"
            )
        raise ValueError(f"{message} [{type(exc).__name__}: {exc}]") from exc
