"""Summaries of learning curves: labels needed to reach an accuracy, and a table."""

from __future__ import annotations

import numpy as np

__all__ = ["as_records", "format_summary", "summarize"]


def as_records(results) -> list[dict]:
    """The records of :func:`compare_strategies`' results (a list of dicts or a DataFrame); never empty."""
    records = results.to_dict("records") if hasattr(results, "to_dict") else list(results)
    if not records:
        raise ValueError("results is empty.")
    return records


def summarize(results, accuracies=(0.8, 0.9), *, groups=None) -> list[dict]:
    """Per strategy: labels needed to reach each accuracy, final accuracy, query time.

    Parameters
    ----------
    results : list of dict or pandas.DataFrame
        What :func:`compare_strategies` returns.
    accuracies : sequence of float, default=(0.8, 0.9)
        Targets. For each run, the labels needed are those of the first round
        whose model reaches the target; the median over repeats is reported
        (NaN when fewer than half of the runs reach it).
    groups : array-like of shape (n_pool,), default=None
        A group id per pool row, e.g. ``source_index`` of
        :func:`skbal.datasets.load_repeated_digits` (copies of one image
        share it). Adds ``redundant_fraction``: the median over runs of the
        fraction of acquired labels whose group had already been acquired.

    Returns
    -------
    summary : list of dict
        One record per strategy, in the order of ``results``, with
        ``strategy``, ``n_repeats``, ``labels_to_<acc>`` per target,
        ``final_labels``, ``final_accuracy`` (median), ``final_accuracy_iqr``
        (25th and 75th percentiles), ``acquisition_seconds`` (median seconds
        per query over all rounds and runs) and ``training_seconds``
        (likewise per training); with ``groups``, ``redundant_fraction``.

    Examples
    --------
    >>> from skbal.simulation import summarize
    >>> results = [
    ...     {"strategy": "a", "repeat": r, "round": i, "n_labels": n, "accuracy": acc,
    ...      "training_seconds": 0.5, "acquisition_seconds": None if i == 0 else 0.1}
    ...     for r in range(2)
    ...     for i, (n, acc) in enumerate([(20, 0.6), (30, 0.8 + r / 20), (40, 0.9)])]
    >>> [(key, row[key]) for row in summarize(results, [0.85]) for key in ("labels_to_0.85", "final_accuracy")]
    [('labels_to_0.85', 35.0), ('final_accuracy', 0.9)]
    """
    records = as_records(results)
    if groups is not None:
        groups = np.asarray(groups)
    accuracies = [float(a) for a in accuracies]
    runs: dict[str, dict[int, list[dict]]] = {}
    for record in records:
        runs.setdefault(record["strategy"], {}).setdefault(record["repeat"], []).append(record)
    summary = []
    for strategy, by_repeat in runs.items():
        curves = [sorted(rows, key=lambda row: row["round"]) for rows in by_repeat.values()]
        row = {"strategy": strategy, "n_repeats": len(curves)}
        for target in accuracies:
            needed = [_first_reaching(curve, target) for curve in curves]
            row[f"labels_to_{target:g}"] = _median_or_nan(needed)
        finals = np.array([curve[-1]["accuracy"] for curve in curves], dtype=float)
        row["final_labels"] = int(np.median([curve[-1]["n_labels"] for curve in curves]))
        row["final_accuracy"] = float(np.median(finals))
        row["final_accuracy_iqr"] = tuple(float(q) for q in np.percentile(finals, [25, 75]))
        queries = [r["acquisition_seconds"] for curve in curves for r in curve if _present(r["acquisition_seconds"])]
        trainings = [r["training_seconds"] for curve in curves for r in curve]
        row["acquisition_seconds"] = float(np.median(queries)) if queries else float("nan")
        row["training_seconds"] = float(np.median(trainings))
        if groups is not None:
            row["redundant_fraction"] = float(np.median([_redundant_fraction(curve, groups) for curve in curves]))
        summary.append(row)
    return summary


def _present(value) -> bool:
    """Not missing: None in records, NaN once they went through a DataFrame."""
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def _first_reaching(curve: list[dict], target: float) -> float:
    for record in curve:
        if _present(record["accuracy"]) and record["accuracy"] >= target:
            return float(record["n_labels"])
    return float("inf")


def _redundant_fraction(curve: list[dict], groups: np.ndarray) -> float:
    acquired = [np.asarray(r["queried_indices"], dtype=np.int64) for r in curve]
    acquired = np.concatenate(acquired) if acquired else np.empty(0, dtype=np.int64)
    if not len(acquired):
        return 0.0
    return 1.0 - len(np.unique(groups[acquired])) / len(acquired)


def _median_or_nan(values: list[float]) -> float:
    median = float(np.median(values))  # inf when more than half never reach it
    return median if np.isfinite(median) else float("nan")


def format_summary(summary: list[dict]) -> str:
    """Render :func:`summarize`'s records as a Markdown table.

    Parameters
    ----------
    summary : list of dict
        What :func:`summarize` returns.

    Returns
    -------
    table : str
        Labels needed per target (``>N`` when the median run never got
        there within its N labels), final accuracy with its interquartile
        range, median seconds per query and, when summarised with
        ``groups``, the fraction of redundant labels.

    Examples
    --------
    >>> from skbal.simulation import format_summary
    >>> print(format_summary([{"strategy": "bald", "n_repeats": 3, "labels_to_0.9": float("nan"),
    ...     "final_labels": 120, "final_accuracy": 0.88, "final_accuracy_iqr": (0.87, 0.89),
    ...     "acquisition_seconds": 0.25, "training_seconds": 0.5}]))
    | strategy | labels to 90% | accuracy at 120 labels (IQR) | s / query |
    |---|---|---|---|
    | bald | >120 | 0.880 (0.870-0.890) | 0.25 |
    """
    if not summary:
        raise ValueError("summary is empty.")
    targets = [key for key in summary[0] if key.startswith("labels_to_")]
    final = summary[0]["final_labels"]
    header = ["strategy", *(f"labels to {float(key[len('labels_to_'):]):.0%}" for key in targets)]
    header += [f"accuracy at {final} labels (IQR)", "s / query"]
    redundant = "redundant_fraction" in summary[0]
    if redundant:
        header.append("redundant labels")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in summary:
        cells = [str(row["strategy"])]
        for key in targets:
            value = row[key]
            cells.append(f">{row['final_labels']}" if np.isnan(value) else f"{value:.0f}")
        low, high = row["final_accuracy_iqr"]
        cells.append(f"{row['final_accuracy']:.3f} ({low:.3f}-{high:.3f})")
        cells.append(f"{row['acquisition_seconds']:.2f}")
        if redundant:
            cells.append(f"{row['redundant_fraction']:.0%}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
