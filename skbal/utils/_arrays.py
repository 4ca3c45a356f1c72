"""Array conversion at the boundary: numpy or torch in, numpy out."""

from __future__ import annotations

import numpy as np


def n_rows(X) -> int:
    """Rows of an array, tensor, sparse matrix, DataFrame or sequence.

    Examples
    --------
    >>> import numpy as np
    >>> from skbal.utils import n_rows
    >>> n_rows(np.zeros((3, 2))), n_rows([[1], [2]])
    (3, 2)
    """
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) >= 1:
        return int(shape[0])
    return len(X)


def to_numpy(array, *, name: str = "array") -> np.ndarray:
    """Return ``array`` as a numpy array without copying when possible.

    torch tensors are detached and moved to the CPU; numpy arrays are
    returned as they are (never written to by skbal).

    Parameters
    ----------
    array : array-like or torch.Tensor
    name : str
        The argument's name, for error messages.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import torch
    >>> from skbal.utils import to_numpy
    >>> to_numpy(torch.tensor([1.0, 2.0]))
    array([1., 2.], dtype=float32)
    """
    if type(array).__module__.startswith("torch"):
        import torch

        if isinstance(array, torch.Tensor):
            if array.dtype == torch.bfloat16:
                array = array.float()
            return array.detach().cpu().numpy()
    try:
        return np.asarray(array)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise TypeError(f"{name} must be array-like, got {type(array).__name__}.") from exc
