"""Plots of active-learning experiments (needs matplotlib: ``pip install "skbal[plot]"``).

- :func:`plot_learning_curves`: accuracy against labels, the median over
  repeats with the interquartile band, one line per strategy (as in the
  BatchBALD paper's figures);
- :func:`plot_label_histogram`: how many labels of each class each strategy
  acquired.

Both take the results of :func:`skbal.simulation.compare_strategies` (a list
of dicts or a DataFrame) and return the matplotlib ``Axes``.
"""

from __future__ import annotations

import numpy as np

from skbal.simulation._summary import as_records

__all__ = ["plot_label_histogram", "plot_learning_curves"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError('skbal.plotting needs matplotlib: pip install "skbal[plot]"') from exc
    return plt


def _strategies(records: list[dict]) -> list[str]:
    return list(dict.fromkeys(record["strategy"] for record in records))


def plot_learning_curves(results, *, ax=None, metric: str = "accuracy", quantiles=(0.25, 0.75), title=None):
    """Plot the median learning curve of every strategy with a quantile band.

    Parameters
    ----------
    results : list of dict or pandas.DataFrame
        What :func:`skbal.simulation.compare_strategies` returns.
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new figure.
    metric : str, default="accuracy"
        The record field on the y axis.
    quantiles : (float, float), default=(0.25, 0.75)
        The band drawn around the median, over repeats.
    title : str, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skbal.plotting import plot_learning_curves
    >>> results = [{"strategy": s, "repeat": r, "n_labels": n, "accuracy": a + r / 100}
    ...            for s, a in [("random", 0.5), ("bald", 0.6)] for r in range(3)
    ...            for n in (20, 30, 40)]
    >>> ax = plot_learning_curves(results)
    >>> [line.get_label() for line in ax.get_lines()]
    ['random', 'bald']
    """
    plt = _pyplot()
    records = as_records(results)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    low_q, high_q = quantiles
    for strategy in _strategies(records):
        rows = [r for r in records if r["strategy"] == strategy and r[metric] is not None and r[metric] == r[metric]]
        labels = np.array(sorted({r["n_labels"] for r in rows}))
        values = [np.array([r[metric] for r in rows if r["n_labels"] == n], dtype=float) for n in labels]
        median = np.array([np.median(v) for v in values])
        low = np.array([np.quantile(v, low_q) for v in values])
        high = np.array([np.quantile(v, high_q) for v in values])
        (line,) = ax.plot(labels, median, label=strategy, linewidth=1.8)
        ax.fill_between(labels, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("labelled points")
    ax.set_ylabel(f"{metric} (median, {low_q:.0%}-{high_q:.0%} band)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    if title:
        ax.set_title(title)
    return ax


def plot_label_histogram(results, y_pool, *, ax=None, title=None):
    """Bar chart of the classes each strategy acquired (mean per repeat).

    Parameters
    ----------
    results : list of dict or pandas.DataFrame
        What :func:`skbal.simulation.compare_strategies` returns (it records
        the pool rows acquired in every round).
    y_pool : array-like of shape (n_pool,)
        The labels of the pool the runs acquired from.
    ax : matplotlib Axes, default=None
    title : str, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skbal.plotting import plot_label_histogram
    >>> results = [{"strategy": "bald", "repeat": 0, "queried_indices": np.array([0, 1, 2])}]
    >>> ax = plot_label_histogram(results, y_pool=["a", "b", "b", "c"])
    >>> [float(bar.get_height()) for bar in ax.patches]
    [1.0, 2.0, 0.0]
    """
    plt = _pyplot()
    records = as_records(results)
    y_pool = np.asarray(y_pool)
    classes = np.unique(y_pool)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    strategies = _strategies(records)
    width = 0.8 / len(strategies)
    for at, strategy in enumerate(strategies):
        rows = [r for r in records if r["strategy"] == strategy]
        n_repeats = len({r["repeat"] for r in rows})
        acquired = np.concatenate([np.asarray(r["queried_indices"], dtype=np.int64) for r in rows])
        counts = np.array([(y_pool[acquired] == c).sum() for c in classes]) / n_repeats
        ax.bar(np.arange(len(classes)) + (at - (len(strategies) - 1) / 2) * width, counts, width, label=strategy)
    ax.set_xticks(np.arange(len(classes)), [str(c) for c in classes])
    ax.set_xlabel("class")
    ax.set_ylabel("labels acquired (mean per run)")
    ax.legend(fontsize="small", ncol=min(len(strategies), 3))
    if title:
        ax.set_title(title)
    return ax
