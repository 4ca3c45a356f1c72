"""``ActiveLearningSimulator``: a pool-based active-learning run as an estimator."""

from __future__ import annotations

import numbers
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from skbal.simulation._seeding import INITIAL, QUERY, TRAINING, derived_seed, root_seed, seeded_global_rngs
from skbal.utils import n_rows as count_rows

__all__ = ["ActiveLearningSimulator", "check_run_sizes"]


class ActiveLearningSimulator(ClassifierMixin, BaseEstimator):
    """Simulate pool-based active learning, with the labels as the oracle.

    ``fit(X, y)`` treats ``X`` as the unlabelled pool and ``y`` as the
    answers of the human annotator. It labels a class-balanced initial set,
    then repeats: train a fresh clone of ``estimator`` on the labelled rows,
    ask ``query_strategy`` for ``query_size`` rows of the rest, reveal their
    labels, until ``budget`` labels have been acquired; the model trained on
    all of them is kept. ``predict``, ``predict_proba`` and ``score`` use it,
    so :class:`~sklearn.model_selection.GridSearchCV` can tune a strategy:
    ``GridSearchCV(sim, {"query_strategy__temperature": [0.5, 1, 2]})``
    scores each temperature by the test-fold accuracy of the model it
    leads to.

    Parameters
    ----------
    estimator : classifier
        Not fitted; cloned and trained from scratch every round (e.g.
        :class:`skbal.MCDropoutClassifier`, a Pipeline, a random forest).
        Give a skorch net its module as a class (with ``module__*``
        arguments), not an instance: skorch uses an instance's weights as
        they are, so every round would start from the same, unseeded
        weights.
    query_strategy : skbal strategy or callable
        A skbal strategy (its ``select`` is used), or any callable with
        modAL's signature ``strategy(estimator, X_pool, n_instances=n)``
        returning indices or ``(indices, ...)``.
    n_initial : int, default=20
        Labels before the first query, spread as evenly as possible over
        the classes (the BatchBALD paper starts with 2 per class).
    query_size : int, default=10
        Labels acquired per round (the last round takes what is left of
        ``budget``).
    budget : int, default=100
        Labels acquired in all, beyond the initial set.
    verbose : int, default=0
        1 shows a progress bar over rounds (``tqdm.auto``, so it renders in
        notebooks); 2 also prints one line per round. A skbal strategy whose
        own ``verbose`` is 0 runs with this one, so a query that takes more
        than a second shows bars over its MC sampling and BatchBALD steps.
    random_state : int, RandomState, Generator or None, default=None
        Seeds everything random in the run: the initial set, the training of
        every round (the global Python, numpy and torch RNGs are seeded
        inside ``fit`` and restored afterwards), each ``random_state``
        parameter left at None in the estimator, and the strategy's
        ``random_state`` when it is None. Two simulators with the same int
        draw the same initial set and train with the same seeds, whatever
        their strategies: comparisons are paired.

    Attributes
    ----------
    estimator_ : classifier
        The model trained on every acquired label.
    classes_ : ndarray of shape (n_classes,)
        The labels of ``y``.
    initial_indices_ : ndarray of shape (n_initial,)
        Rows of ``X`` labelled before the first query.
    queried_indices_ : list of ndarray
        Rows of ``X`` acquired in each round, in the strategy's order.
    n_labels_ : ndarray of shape (n_rounds + 1,)
        Labels the model of each round was trained on.
    validation_scores_ : ndarray of shape (n_rounds + 1,) or None
        The score (accuracy) of each round's model on ``(X_val, y_val)``,
        when given to ``fit``: the learning curve.
    training_seconds_ : ndarray of shape (n_rounds + 1,)
        Wall time of each round's training.
    acquisition_seconds_ : ndarray of shape (n_rounds,)
        Wall time of each query (posterior sampling and selection).
    history_ : list of dict
        One record per round (``round``, ``n_labels``, ``validation_score``,
        ``training_seconds``, ``acquisition_seconds``, ``queried_indices``),
        ready for ``pandas.DataFrame(sim.history_)``.

    See Also
    --------
    skbal.simulation.compare_strategies : several strategies and seeds at once.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbal import BALD
    >>> from skbal.simulation import ActiveLearningSimulator
    >>> X, y = load_digits(return_X_y=True)
    >>> sim = ActiveLearningSimulator(
    ...     RandomForestClassifier(n_estimators=10), BALD(),
    ...     n_initial=20, query_size=5, budget=10, random_state=0)
    >>> sim = sim.fit(X[:1000], y[:1000], X_val=X[1000:], y_val=y[1000:])
    >>> sim.n_labels_.tolist(), len(sim.queried_indices_)
    ([20, 25, 30], 2)
    >>> bool(sim.score(X[1000:], y[1000:]) == sim.validation_scores_[-1])
    True
    """

    def __init__(
        self,
        estimator,
        query_strategy,
        *,
        n_initial: int = 20,
        query_size: int = 10,
        budget: int = 100,
        verbose: int = 0,
        random_state=None,
    ):
        self.estimator = estimator
        self.query_strategy = query_strategy
        self.n_initial = n_initial
        self.query_size = query_size
        self.budget = budget
        self.verbose = verbose
        self.random_state = random_state

    def fit(self, X, y, X_val=None, y_val=None):
        """Run the active-learning simulation on the pool ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The pool (numpy, pandas, scipy sparse or torch; never modified).
        y : array-like of shape (n_samples,)
            The oracle: the label of every pool row, revealed when acquired.
        X_val, y_val : array-like, default=None
            Held-out data to score each round's model on; gives
            ``validation_scores_``. (Inside ``GridSearchCV``, a fit parameter
            with as many rows as ``X`` is split with ``X``: give validation
            data of another size.)

        Returns
        -------
        self : ActiveLearningSimulator
        """
        y = np.asarray(y)
        n_rows = count_rows(X)
        if y.ndim != 1 or len(y) != n_rows:
            raise ValueError(f"y must be 1-D with one label per row of X ({n_rows}), got shape {y.shape}.")
        if (X_val is None) != (y_val is None):
            raise ValueError("Give both X_val and y_val, or neither.")
        n_initial, query_size, budget = check_run_sizes(self.n_initial, self.query_size, self.budget, n_rows)
        if self.estimator is None or not hasattr(self.estimator, "fit"):
            raise TypeError(f"estimator must be a scikit-learn style classifier, got {self.estimator!r}.")
        if not (hasattr(self.query_strategy, "select") or callable(self.query_strategy)):
            raise TypeError(
                "query_strategy must be a skbal strategy or a callable "
                f"strategy(estimator, X_pool, n_instances=n); got {self.query_strategy!r}."
            )

        root = root_seed(self.random_state)
        self.classes_ = np.unique(y)
        labelled = _balanced_initial(y, n_initial, np.random.default_rng(derived_seed(root, INITIAL)))
        is_labelled = np.zeros(n_rows, dtype=bool)
        is_labelled[labelled] = True
        sizes = [query_size] * (budget // query_size) + ([budget % query_size] if budget % query_size else [])

        self.initial_indices_ = labelled.copy()
        self.queried_indices_, self.n_labels_ = [], []
        self.training_seconds_, self.acquisition_seconds_ = [], []
        scores = [] if X_val is not None else None
        self.history_ = []
        bar = _progress(len(sizes) + 1, self.verbose, type(self).__name__)
        try:
            for round_, size in enumerate([0, *sizes]):
                acquisition_seconds = None
                if size:
                    pool = np.flatnonzero(~is_labelled)
                    strategy = _round_strategy(self.query_strategy, derived_seed(root, QUERY, round_), self.verbose)
                    start = time.perf_counter()
                    chosen = _query(strategy, model, _take_rows(X, pool), size)
                    acquisition_seconds = time.perf_counter() - start
                    chosen = pool[chosen]
                    is_labelled[chosen] = True
                    labelled = np.concatenate([labelled, chosen])
                    self.queried_indices_.append(chosen)
                    self.acquisition_seconds_.append(acquisition_seconds)

                start = time.perf_counter()
                model = _fit_seeded(self.estimator, _take_rows(X, labelled), y[labelled], derived_seed(root, TRAINING, round_))
                self.training_seconds_.append(time.perf_counter() - start)
                self.n_labels_.append(len(labelled))
                score = None
                if scores is not None:
                    score = float(model.score(X_val, y_val))
                    scores.append(score)
                self.history_.append(
                    {
                        "round": round_,
                        "n_labels": len(labelled),
                        "validation_score": score,
                        "training_seconds": self.training_seconds_[-1],
                        "acquisition_seconds": acquisition_seconds,
                        "queried_indices": self.queried_indices_[-1] if size else np.empty(0, dtype=np.int64),
                    }
                )
                _report(bar, self.verbose, self.history_[-1])
        finally:
            if bar is not None:
                bar.close()
        self.estimator_ = model
        self.n_labels_ = np.asarray(self.n_labels_)
        self.validation_scores_ = None if scores is None else np.asarray(scores)
        self.training_seconds_ = np.asarray(self.training_seconds_)
        self.acquisition_seconds_ = np.asarray(self.acquisition_seconds_)
        return self

    def predict(self, X):
        """Predict with the model trained on all acquired labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        """Class probabilities of the model trained on all acquired labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "estimator_")


def check_run_sizes(n_initial, query_size, budget, n_rows: int) -> tuple[int, int, int]:
    """Validate a run's label counts against a pool of ``n_rows`` rows."""
    checked = []
    for value, name, minimum in ((n_initial, "n_initial", 1), (query_size, "query_size", 1), (budget, "budget", 0)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
            raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
        checked.append(int(value))
    if checked[0] + checked[2] > n_rows:
        raise ValueError(
            f"n_initial + budget must not exceed the pool size: {checked[0]} + {checked[2]} > {n_rows} rows."
        )
    return tuple(checked)


def _take_rows(X, rows: np.ndarray):
    """``X[rows]`` for numpy, scipy sparse, pandas and torch inputs."""
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    if type(X).__module__.startswith("torch"):
        import torch

        return X[torch.as_tensor(rows, device=X.device)]
    if hasattr(X, "shape"):
        return X[rows]
    return [X[row] for row in rows]


def _balanced_initial(y: np.ndarray, n_initial: int, rng: np.random.Generator) -> np.ndarray:
    """``n_initial`` distinct rows, as evenly spread over the classes as ``y`` allows."""
    classes, y_index = np.unique(y, return_inverse=True)
    by_class = [rng.permutation(np.flatnonzero(y_index == c)) for c in range(len(classes))]
    quota = np.full(len(classes), n_initial // len(classes))
    quota[rng.permutation(len(classes))[: n_initial % len(classes)]] += 1
    chosen = [members[: min(q, len(members))] for members, q in zip(by_class, quota)]
    chosen = np.concatenate(chosen)
    missing = n_initial - len(chosen)
    if missing:  # some classes are too small: fill up at random
        rest = np.setdiff1d(np.arange(len(y)), chosen)
        chosen = np.concatenate([chosen, rng.choice(rest, size=missing, replace=False)])
    return rng.permutation(chosen).astype(np.int64)


def _with_seeds(estimator, seed: int):
    """A clone whose ``random_state`` parameters left at None get ``seed``."""
    estimator = clone(estimator)
    unset = {
        name: seed
        for name, value in estimator.get_params(deep=True).items()
        if (name == "random_state" or name.endswith("__random_state")) and value is None
    }
    return estimator.set_params(**unset) if unset else estimator


def _fit_seeded(estimator, X, y, seed: int):
    model = _with_seeds(estimator, seed)
    with seeded_global_rngs(seed):
        return model.fit(X, y)


def _round_strategy(strategy, seed: int, verbose: int):
    """The strategy of one round: a clone with ``seed`` for its unset
    ``random_state`` and the simulator's ``verbose`` for its unset (0) one."""
    if not hasattr(strategy, "get_params"):
        return strategy  # a plain callable
    params = strategy.get_params(deep=False)
    if "random_state" in params:
        strategy = _with_seeds(strategy, seed)
    if verbose and params.get("verbose") == 0:
        strategy = clone(strategy).set_params(verbose=verbose)
    return strategy


def _query(strategy, model, X_pool, size: int) -> np.ndarray:
    if hasattr(strategy, "select"):
        indices = strategy.select(model, X_pool, size)[0]
    else:
        indices = strategy(model, X_pool, n_instances=size)
        if isinstance(indices, tuple):
            indices = indices[0]
    indices = np.asarray(indices).reshape(-1)
    n_pool = count_rows(X_pool)
    if (
        len(indices) != size
        or not np.issubdtype(indices.dtype, np.integer)
        or indices.min() < 0
        or indices.max() >= n_pool
        or len(np.unique(indices)) != size
    ):
        raise ValueError(
            f"query_strategy must return {size} distinct integer positions in a pool of {n_pool} rows; "
            f"got {indices!r}."
        )
    return indices.astype(np.int64)


def _progress(total: int, verbose: int, name: str):
    if not verbose:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=name, unit="round", leave=False)


def _report(bar, verbose: int, record: dict) -> None:
    if bar is None:
        return
    bar.update(1)
    if record["validation_score"] is not None:
        bar.set_postfix(labels=record["n_labels"], score=f"{record['validation_score']:.3f}")
    if verbose >= 2:
        seconds = record["acquisition_seconds"]
        bar.write(
            f"round {record['round']:>3}  labels {record['n_labels']:>5}  "
            f"score {record['validation_score'] if record['validation_score'] is not None else float('nan'):.4f}  "
            f"train {record['training_seconds']:.2f} s  query {0.0 if seconds is None else seconds:.2f} s"
        )
