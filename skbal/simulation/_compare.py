"""Run several strategies × several seeds and collect tidy learning curves."""

from __future__ import annotations

import numbers
import time

from sklearn.base import clone

from skbal.simulation._seeding import REPEATS, derived_seed, root_seed
from skbal.simulation._simulator import ActiveLearningSimulator, check_run_sizes
from skbal.utils import n_rows as count_rows

__all__ = ["STRATEGY_NAMES", "compare_strategies", "get_strategy"]

#: Names accepted by :func:`get_strategy` and :func:`compare_strategies`.
STRATEGY_NAMES = (
    "random",
    "entropy",
    "margin",
    "least-confidence",
    "variation-ratios",
    "mean-std",
    "bald",
    "power-bald",
    "power-entropy",
    "batchbald",
)


def get_strategy(name: str, **params):
    """Make a skbal strategy from its name.

    Parameters
    ----------
    name : str
        One of :data:`STRATEGY_NAMES`; case, ``-`` and ``_`` are ignored
        (``"PowerBALD"``, ``"power_bald"`` and ``"power-bald"`` are the same).
    **params
        Passed to the strategy's constructor.

    Returns
    -------
    strategy : BaseQueryStrategy

    Examples
    --------
    >>> from skbal.simulation import get_strategy
    >>> get_strategy("PowerBALD", temperature=2.0)
    PowerBALD(temperature=2.0)
    """
    import skbal

    classes = {
        "random": skbal.Random,
        "entropy": skbal.Entropy,
        "margin": skbal.Margin,
        "leastconfidence": skbal.LeastConfidence,
        "variationratios": skbal.VariationRatios,
        "meanstd": skbal.MeanSTD,
        "bald": skbal.BALD,
        "powerbald": skbal.PowerBALD,
        "powerentropy": skbal.PowerEntropy,
        "batchbald": skbal.BatchBALD,
    }
    key = str(name).lower().replace("-", "").replace("_", "")
    if key not in classes:
        raise ValueError(f"Unknown strategy {name!r}; choose from {', '.join(STRATEGY_NAMES)}.")
    return classes[key](**params)


def compare_strategies(
    estimator,
    strategies,
    X_pool,
    y_pool,
    X_test,
    y_test,
    *,
    n_initial: int = 20,
    query_size: int = 10,
    budget: int = 100,
    n_repeats: int = 3,
    n_jobs=None,
    verbose: int = 1,
    random_state=0,
    as_frame: bool = False,
):
    """Simulate active learning with every strategy, ``n_repeats`` times each.

    Every (strategy, repeat) pair is one :class:`ActiveLearningSimulator`
    run on the same pool and test set; the runs execute in parallel with
    joblib. Repeat r of every strategy uses the same seed, hence the same
    initial labels and the same training seeds: the comparison is paired.

    Parameters
    ----------
    estimator : classifier
        Unfitted; cloned for every round of every run.
    strategies : dict of {str: strategy} or sequence of str or strategy
        The strategies, by name (see :func:`get_strategy`) or as instances;
        a dict names them for the results.
    X_pool : array-like of shape (n_pool, ...)
        The unlabelled pool.
    y_pool : array-like of shape (n_pool,)
        The oracle's labels of the pool.
    X_test, y_test : array-like
        Held-out data; every round's model is scored (accuracy) on it.
    n_initial, query_size, budget : int, default=20, 10, 100
        As in :class:`ActiveLearningSimulator`.
    n_repeats : int, default=3
        Runs (seeds) per strategy.
    n_jobs : int or None, default=None
        Parallel runs (joblib; -1 uses every core). Works with any joblib
        backend, e.g. ``with joblib.parallel_backend("dask"):``.
    verbose : int, default=1
        1: a progress bar over runs (``tqdm.auto``, so it renders in
        notebooks). 2 or more: also each run's own bars (rounds, and long
        queries: see :class:`ActiveLearningSimulator`), run with
        ``verbose - 1``; best with ``n_jobs=1``, as bars drawn in worker
        processes print to the terminal, not to the notebook. 0: silent.
    random_state : int, RandomState, Generator or None, default=0
        Seeds all runs.
    as_frame : bool, default=False
        Return a pandas DataFrame (needs pandas) instead of a list of dicts.

    Returns
    -------
    results : list of dict or pandas.DataFrame
        Tidy: one record per (strategy, repeat, round) with ``strategy``,
        ``repeat``, ``round``, ``n_labels``, ``accuracy`` (on the test set),
        ``training_seconds``, ``acquisition_seconds`` (None in round 0,
        which acquires nothing) and ``queried_indices`` (the pool rows
        acquired in that round). Sorted by strategy (in the given order),
        repeat and round.

    See Also
    --------
    summarize : labels needed to reach given accuracies, per strategy.
    skbal.plotting.plot_learning_curves : median and interquartile band.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbal.simulation import compare_strategies
    >>> X, y = load_digits(return_X_y=True)
    >>> results = compare_strategies(
    ...     RandomForestClassifier(n_estimators=10), ["random", "bald"],
    ...     X[:1000], y[:1000], X[1000:], y[1000:],
    ...     n_initial=20, query_size=10, budget=20, n_repeats=2, verbose=0)
    >>> len(results)  # 2 strategies x 2 repeats x 3 rounds
    12
    >>> sorted(results[0])
    ['accuracy', 'acquisition_seconds', 'n_labels', 'queried_indices', 'repeat', 'round', 'strategy', 'training_seconds']
    """
    from joblib import Parallel, delayed

    named = _named_strategies(strategies)
    if not isinstance(n_repeats, numbers.Integral) or isinstance(n_repeats, bool) or n_repeats < 1:
        raise ValueError(f"n_repeats must be an int >= 1, got {n_repeats!r}.")
    if as_frame:
        _require_pandas()
    n_rows = count_rows(X_pool)
    if len(y_pool) != n_rows:  # fail before any parallel work
        raise ValueError(f"y_pool has {len(y_pool)} labels for {n_rows} pool rows.")
    check_run_sizes(n_initial, query_size, budget, n_rows)
    simulator = ActiveLearningSimulator(
        estimator, None, n_initial=n_initial, query_size=query_size, budget=budget, verbose=max(0, verbose - 1)
    )
    root = root_seed(random_state)
    jobs = [
        (name, repeat, clone(simulator).set_params(query_strategy=strategy, random_state=derived_seed(root, REPEATS, repeat)))
        for name, strategy in named.items()
        for repeat in range(n_repeats)
    ]
    results = {}
    bar = None
    if verbose:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="active-learning runs", unit="run")
    try:
        runs = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(_run)(name, repeat, sim, X_pool, y_pool, X_test, y_test) for name, repeat, sim in jobs
        )
        for name, repeat, records, seconds in runs:
            results[name, repeat] = records
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"{name} #{repeat}: {seconds:.0f} s")
    finally:
        if bar is not None:
            bar.close()
    rows = [row for name in named for repeat in range(n_repeats) for row in results[name, repeat]]
    if as_frame:
        import pandas as pd

        return pd.DataFrame(rows)
    return rows


def _run(name, repeat, simulator, X_pool, y_pool, X_test, y_test):
    start = time.perf_counter()
    simulator.fit(X_pool, y_pool, X_val=X_test, y_val=y_test)
    records = [
        {
            "strategy": name,
            "repeat": repeat,
            "round": record["round"],
            "n_labels": record["n_labels"],
            "accuracy": record["validation_score"],
            "training_seconds": record["training_seconds"],
            "acquisition_seconds": record["acquisition_seconds"],
            "queried_indices": record["queried_indices"],
        }
        for record in simulator.history_
    ]
    return name, repeat, records, time.perf_counter() - start


def _named_strategies(strategies) -> dict:
    if isinstance(strategies, (str, bytes)) or strategies is None:
        raise TypeError(f"strategies must be a dict or a sequence of names or strategies, got {strategies!r}.")
    if isinstance(strategies, dict):
        items = list(strategies.items())
    else:
        items = [(s if isinstance(s, str) else type(s).__name__, s) for s in strategies]
    if not items:
        raise ValueError("strategies is empty.")
    named = {}
    for name, strategy in items:
        if name in named:
            raise ValueError(f"Two strategies are named {name!r}; pass a dict to name them apart.")
        named[str(name)] = get_strategy(strategy) if isinstance(strategy, str) else strategy
    return named


def _require_pandas():
    try:
        import pandas  # noqa: F401
    except ImportError as exc:  # pragma: no cover - pandas is in the dev extra
        raise ImportError("as_frame=True needs pandas: pip install pandas") from exc
