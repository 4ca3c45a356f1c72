"""Load a user's own pool from an ``.npz`` or ``.csv`` file."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from skbal.utils import check_random_state, spawn_seed

__all__ = ["load_pool_file"]


def load_pool_file(path, *, label_column="label", test_size: float = 0.25, random_state=0) -> Bunch:
    """Load features and labels from an ``.npz`` or ``.csv`` file.

    - ``.npz``: arrays ``X`` and ``y``; with ``X_test`` and ``y_test`` too
      the file's own test split is used, otherwise one is drawn.
    - ``.csv``: a header row, numeric feature columns and one label column
      (any text or numbers), comma separated.

    Parameters
    ----------
    path : str or os.PathLike
        The file; its suffix (``.npz`` or ``.csv``) picks the format.
    label_column : str or int, default="label"
        For ``.csv``: the name of the label column, or its position
        (negative counts from the end, so -1 is the last column).
    test_size : float, default=0.25
        Fraction held out (stratified) as the test set when the file has no
        test split of its own.
    random_state : int, RandomState, Generator or None, default=0
        Seeds the split.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``X_pool``, ``y_pool``, ``X_test``, ``y_test`` (features as float32),
        ``feature_names`` (csv only, else None) and ``DESCR``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skbal.datasets import load_pool_file
    >>> path = os.path.join(tempfile.mkdtemp(), "toy.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("a,b,label\\n" + "".join(f"{i},{i % 3},{'xy'[i % 2]}\\n" for i in range(20)))
    >>> data = load_pool_file(path, test_size=0.2)
    >>> data.X_pool.shape, data.X_test.shape, data.y_pool.dtype.kind, sorted(set(data.y_pool.tolist()))
    ((16, 2), (4, 2), 'U', ['x', 'y'])
    """
    path = Path(os.fspath(path))
    if not path.is_file():
        raise FileNotFoundError(f"No such data file: {str(path)!r}.")
    suffix = path.suffix.lower()
    feature_names = None
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            missing = {"X", "y"} - set(archive.files)
            if missing:
                raise ValueError(
                    f"{path.name} must hold arrays named 'X' and 'y' (and optionally 'X_test', 'y_test'); "
                    f"it has {sorted(archive.files)}."
                )
            arrays = {name: archive[name] for name in archive.files}
    elif suffix == ".csv":
        X, y, feature_names = _read_csv(path, label_column)
        arrays = {"X": X, "y": y}
    else:
        raise ValueError(f"The data file must end in .npz or .csv, got {path.name!r}.")

    X = _features(arrays["X"], "X", path)
    y = _labels(arrays["y"], len(X), "y", path)
    if "X_test" in arrays or "y_test" in arrays:
        if not {"X_test", "y_test"} <= set(arrays):
            raise ValueError(f"{path.name} has only one of 'X_test' and 'y_test'; give both or neither.")
        X_pool, y_pool = X, y
        X_test = _features(arrays["X_test"], "X_test", path)
        y_test = _labels(arrays["y_test"], len(X_test), "y_test", path)
        if X_test.shape[1] != X.shape[1]:
            raise ValueError(f"X_test has {X_test.shape[1]} features but X has {X.shape[1]} in {path.name}.")
    else:
        if not 0 < test_size < 1:
            raise ValueError(f"test_size must be strictly between 0 and 1, got {test_size!r}.")
        seed = spawn_seed(check_random_state(random_state)) % 2**32
        X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)
    return Bunch(
        X_pool=X_pool,
        y_pool=y_pool,
        X_test=X_test,
        y_test=y_test,
        feature_names=feature_names,
        DESCR=f"{path.name}: {len(X_pool)} pool rows, {len(X_test)} test rows, {X.shape[1]} features.",
    )


def _read_csv(path: Path, label_column):
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if len(rows) < 2:
        raise ValueError(f"{path.name} needs a header row and at least one data row.")
    header, body = [name.strip() for name in rows[0]], rows[1:]
    if isinstance(label_column, str):
        if label_column not in header:
            raise ValueError(f"label_column {label_column!r} is not a column of {path.name}; columns: {header}.")
        label_at = header.index(label_column)
    else:
        label_at = int(label_column)
        if not -len(header) <= label_at < len(header):
            raise ValueError(f"label_column={label_column} is out of range for {len(header)} columns.")
        label_at %= len(header)
    labels, features = [], []
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(f"{path.name}, line {line}: {len(row)} fields, the header has {len(header)}.")
        labels.append(row[label_at].strip())
        try:
            features.append([float(value) for at, value in enumerate(row) if at != label_at])
        except ValueError as exc:
            raise ValueError(f"{path.name}, line {line}: feature columns must be numbers ({exc}).") from None
    y = np.asarray(labels)
    try:  # integer-looking labels become integers
        y = y.astype(np.int64)
    except ValueError:
        pass
    names = [name for at, name in enumerate(header) if at != label_at]
    return np.asarray(features, dtype=np.float64), y, names


def _features(X, name: str, path: Path) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} in {path.name} must be a non-empty 2-D array, got shape {X.shape}.")
    if not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"{name} in {path.name} must be numeric, got dtype {X.dtype}.")
    X = X.astype(np.float32)
    if not np.isfinite(X).all():
        raise ValueError(f"{name} in {path.name} contains NaN or infinite values.")
    return X


def _labels(y, n_rows: int, name: str, path: Path) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n_rows:
        raise ValueError(f"{name} in {path.name} must be 1-D with {n_rows} labels, got shape {y.shape}.")
    return y
