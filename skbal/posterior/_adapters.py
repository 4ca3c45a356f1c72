"""Dispatch over estimator kinds: (estimator, X) → posterior samples (N, K, C).

:func:`resolve_posterior` turns an estimator into a :class:`Posterior` that
validates a pool once (:meth:`Posterior.check_input`) and draws samples
(:meth:`Posterior.sample`); :func:`sample_log_proba` does both. Strategies
call the three steps separately so that bad input fails before any MC pass.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.base import is_classifier, is_regressor
from sklearn.ensemble import (
    AdaBoostClassifier,
    BaggingClassifier,
    BaseEnsemble,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet, NeuralNetBinaryClassifier, NeuralNetClassifier

from skbal.posterior._classifier import MCDropoutClassifier
from skbal.posterior._mc_dropout import (
    _as_array,
    _check_finite,
    _check_shape,
    _no_dropout_message,
    check_dropout_masks,
    check_n_mc_samples,
    check_net_input,
    dropout_modules,
    eval_log_proba,
    mc_dropout_log_proba,
    n_rows,
)
from skbal.utils import to_numpy

__all__ = ["Posterior", "resolve_posterior", "sample_log_proba"]

#: K of a plain skorch net when neither the caller nor the estimator says.
DEFAULT_N_MC_SAMPLES = 20

SUPPORTED_ESTIMATORS = (
    "skbal.posterior.MCDropoutClassifier; a fitted skorch NeuralNetClassifier (or "
    "NeuralNetBinaryClassifier) whose module contains torch.nn.Dropout/Dropout1d/Dropout2d/"
    "Dropout3d modules; an sklearn Pipeline ending in a supported estimator; an sklearn "
    "ensemble of classifiers with estimators_ (RandomForestClassifier, ExtraTreesClassifier, "
    "BaggingClassifier, VotingClassifier; each member is one draw); a modAL learner (its "
    ".estimator); a modAL Committee (each member is one draw)"
)

# Ensembles whose members are fitted on the label-encoded target: a member's
# classes_ are column indices into the ensemble's classes_.
_ENCODED_ENSEMBLES = (RandomForestClassifier, ExtraTreesClassifier, BaggingClassifier, VotingClassifier)
# Ensembles whose members are not exchangeable posterior draws.
_NOT_DRAW_ENSEMBLES = (AdaBoostClassifier, GradientBoostingClassifier, StackingClassifier)
_TINY = float(np.finfo(np.float32).tiny)


class Posterior:
    """Posterior samples from one estimator, for strategy authors.

    Made by :func:`resolve_posterior`; a strategy calls
    ``X = posterior.check_input(X_pool)`` (cheap validation, before any
    sampling), ``posterior.n_rows(X)`` and
    ``posterior.sample(X, n_mc_samples, random_state=...)``.

    Attributes
    ----------
    estimator : object
        The estimator the samples come from.
    default_n_mc_samples : int
        K when the caller gives none: ``MCDropoutClassifier.n_mc_samples``,
        20 for a plain skorch net, the number of members of an ensemble or
        committee, 1 for a deterministic classifier.
    deterministic : bool
        True when the samples are one deterministic ``predict_proba`` (K=1;
        only with ``allow_deterministic=True``).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbal.posterior import resolve_posterior
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    >>> posterior = resolve_posterior(forest)
    >>> X_pool = posterior.check_input(X[:3])
    >>> posterior.n_rows(X_pool), posterior.default_n_mc_samples
    (3, 5)
    >>> posterior.sample(X_pool).shape
    (3, 5, 10)
    """

    def __init__(self, estimator, *, default_n_mc_samples: int, deterministic: bool = False):
        self.estimator = estimator
        self.default_n_mc_samples = int(default_n_mc_samples)
        self.deterministic = bool(deterministic)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(estimator={type(self.estimator).__name__}, "
            f"default_n_mc_samples={self.default_n_mc_samples}, deterministic={self.deterministic})"
        )

    def check_input(self, X):
        """Validate and convert the pool; raise before any sampling.

        Parameters
        ----------
        X : array-like, DataFrame, torch.Tensor or scipy sparse matrix of shape (n_samples, ...)

        Returns
        -------
        X_prepared : object
            What :meth:`n_rows` and :meth:`sample` take. Treat it as opaque.
        """
        raise NotImplementedError

    def n_rows(self, X) -> int:
        """Number of pool rows of ``X`` (raw or prepared)."""
        return n_rows(X)

    def sample(
        self,
        X,
        n_mc_samples: int | None = None,
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
        *,
        dropout_masks: str | None = None,
    ) -> np.ndarray:
        """Draw posterior samples for a prepared pool.

        Parameters
        ----------
        X : object
            The output of :meth:`check_input`.
        n_mc_samples : int or None, default=None
            K; None uses :attr:`default_n_mc_samples`. Ignored (but
            validated) by ensembles, committees and deterministic
            classifiers, whose K is fixed.
        random_state : int, RandomState, Generator or None, default=None
            Seeds MC-dropout masks (None: the estimator's own
            ``random_state`` for an MCDropoutClassifier, else OS entropy).
        dropout_masks : {"consistent", "independent"} or None, default=None
            MC dropout only; None uses the estimator's own setting
            (``"consistent"`` for a plain skorch net).

        Returns
        -------
        log_probs : ndarray of shape (n_samples, n_mc_samples, n_classes), float32
            Natural-log class probabilities, normalised over classes.
        """
        raise NotImplementedError


class _NetPosterior(Posterior):
    """MC dropout on a skorch net (or one eval forward when deterministic)."""

    def __init__(self, net, *, deterministic: bool = False):
        if deterministic:
            default = 1
        elif isinstance(net, MCDropoutClassifier):
            default = check_n_mc_samples(net.n_mc_samples, name="n_mc_samples of the MCDropoutClassifier")
        else:
            default = DEFAULT_N_MC_SAMPLES
        super().__init__(net, default_n_mc_samples=default, deterministic=deterministic)

    def check_input(self, X):
        return check_net_input(self.estimator, X)

    def sample(self, X, n_mc_samples=None, random_state=None, *, dropout_masks=None):
        net = self.estimator
        n_mc_samples = self.default_n_mc_samples if n_mc_samples is None else check_n_mc_samples(n_mc_samples)
        if dropout_masks is None:
            dropout_masks = getattr(net, "dropout_masks", "consistent")
        dropout_masks = check_dropout_masks(dropout_masks)
        if self.deterministic:
            return eval_log_proba(net, X)
        if random_state is None:
            random_state = getattr(net, "random_state", None)
        return mc_dropout_log_proba(net, X, n_mc_samples, dropout_masks=dropout_masks, random_state=random_state)


class _PipelinePosterior(Posterior):
    """Transform with every step but the last, sample from the last."""

    def __init__(self, pipeline, transformers: list, final: Posterior):
        super().__init__(
            pipeline, default_n_mc_samples=final.default_n_mc_samples, deterministic=final.deterministic
        )
        self.transformers = transformers
        self.final = final

    def check_input(self, X):
        for transformer in self.transformers:
            X = transformer.transform(X)
        return self.final.check_input(X)

    def n_rows(self, X) -> int:
        return self.final.n_rows(X)

    def sample(self, X, n_mc_samples=None, random_state=None, *, dropout_masks=None):
        return self.final.sample(X, n_mc_samples, random_state, dropout_masks=dropout_masks)


class _ProbaPosterior(Posterior):
    """One draw: the log of a fitted classifier's ``predict_proba``."""

    def __init__(self, estimator, check: Callable):
        super().__init__(estimator, default_n_mc_samples=1, deterministic=True)
        self._check = check

    def check_input(self, X):
        return self._check(X)

    def sample(self, X, n_mc_samples=None, random_state=None, *, dropout_masks=None):
        _validate_ignored(n_mc_samples, dropout_masks)
        proba = np.asarray(self.estimator.predict_proba(X), dtype=np.float64)
        return _log_normalise(proba)[:, None, :]


class _EnsemblePosterior(Posterior):
    """Each member of a fitted ensemble is one draw."""

    def __init__(self, ensemble, members: list, columns: list, features: list | None, n_classes: int):
        super().__init__(ensemble, default_n_mc_samples=len(members))
        self.members = members
        self.columns = columns
        self.features = features
        self.n_classes = n_classes

    def check_input(self, X):
        return _check_sklearn_input(X, self.estimator)

    def sample(self, X, n_mc_samples=None, random_state=None, *, dropout_masks=None):
        _validate_ignored(n_mc_samples, dropout_masks)
        out = np.empty((n_rows(X), len(self.members), self.n_classes), dtype=np.float32)
        for k, member in enumerate(self.members):
            X_member = _member_input(member, X, None if self.features is None else self.features[k])
            proba = np.asarray(member.predict_proba(X_member), dtype=np.float64)
            out[:, k, :] = _log_normalise(_spread_columns(proba, self.columns[k], self.n_classes, member))
        return out


class _PerMember:
    """A pool prepared once per committee member."""

    def __init__(self, inputs: list, n_rows: int):
        self.inputs = inputs
        self.n_rows = n_rows


class _CommitteePosterior(Posterior):
    """Each member of a modAL Committee is one draw, on the committee's classes."""

    def __init__(self, committee, members: list[Posterior], member_classes: list, classes: np.ndarray):
        super().__init__(committee, default_n_mc_samples=len(members))
        self.members = members
        self.member_classes = member_classes
        self.classes = classes

    def check_input(self, X):
        inputs = [member.check_input(X) for member in self.members]
        return _PerMember(inputs, self.members[0].n_rows(inputs[0]))

    def n_rows(self, X) -> int:
        return X.n_rows if isinstance(X, _PerMember) else n_rows(X)

    def sample(self, X, n_mc_samples=None, random_state=None, *, dropout_masks=None):
        _validate_ignored(n_mc_samples, dropout_masks)
        if not isinstance(X, _PerMember):
            X = self.check_input(X)
        n_classes = len(self.classes)
        out = np.empty((X.n_rows, len(self.members), n_classes), dtype=np.float32)
        for k, (member, X_member) in enumerate(zip(self.members, X.inputs)):
            log_p = member.sample(X_member)[:, 0, :].astype(np.float64)
            columns = _label_columns(self.member_classes[k], self.classes, log_p.shape[1], member.estimator)
            out[:, k, :] = _log_normalise(_spread_columns(np.exp(log_p), columns, n_classes, member.estimator))
        return out


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _validate_ignored(n_mc_samples, dropout_masks) -> None:
    if n_mc_samples is not None:
        check_n_mc_samples(n_mc_samples)
    if dropout_masks is not None:
        check_dropout_masks(dropout_masks)


def _log_normalise(proba: np.ndarray) -> np.ndarray:
    """Probabilities (rows) → normalised natural-log probabilities, float32."""
    log_p = np.log(np.maximum(proba, _TINY))
    return (log_p - logsumexp(log_p, axis=-1, keepdims=True)).astype(np.float32)


def _spread_columns(proba: np.ndarray, columns: np.ndarray, n_classes: int, who) -> np.ndarray:
    if proba.ndim != 2 or proba.shape[1] != len(columns):
        raise ValueError(
            f"{type(who).__name__}.predict_proba returned shape {proba.shape}; expected "
            f"{len(columns)} columns (its classes_)."
        )
    full = np.zeros((proba.shape[0], n_classes))
    full[:, columns] = proba
    return full


def _label_columns(member_classes, classes: np.ndarray, n_columns: int, who) -> np.ndarray:
    """Positions of a member's classes among the committee's classes."""
    member_classes = np.asarray(member_classes)
    if n_columns != len(member_classes):
        if n_columns == len(classes):
            return np.arange(n_columns)
        raise ValueError(
            f"{type(who).__name__} predicts {n_columns} columns but has {len(member_classes)} "
            f"classes_ and the committee {len(classes)}; pass classes= to skorch nets."
        )
    index = {label: i for i, label in enumerate(classes.tolist())}
    try:
        return np.array([index[label] for label in member_classes.tolist()], dtype=np.intp)
    except KeyError as exc:
        raise ValueError(
            f"{type(who).__name__} has class {exc.args[0]!r}, which is not among the classes "
            f"{classes.tolist()}."
        ) from None


def _encoded_columns(member, n_classes: int) -> np.ndarray:
    columns = np.asarray(member.classes_)
    as_int = columns.astype(np.intp)
    if not np.array_equal(as_int, columns) or as_int.min() < 0 or as_int.max() >= n_classes:
        raise ValueError(f"Member {type(member).__name__} has classes_ {columns.tolist()}, not label indices.")
    return as_int


def _is_frame(X) -> bool:
    return hasattr(X, "iloc") and hasattr(X, "columns")


def _allow_nan(estimator) -> bool:
    try:
        from sklearn.utils import get_tags  # scikit-learn >= 1.6
    except ImportError:  # pragma: no cover - scikit-learn < 1.6
        try:
            return bool(estimator._get_tags().get("allow_nan", False))
        except Exception:
            return False
    try:
        return bool(get_tags(estimator).input_tags.allow_nan)
    except Exception:  # pragma: no cover - third-party estimators without tags
        return False


def _check_sklearn_input(X, estimator, name: str = "X"):
    """Shape, features and finiteness of a pool for a scikit-learn estimator."""
    if type(X).__module__.startswith("torch"):
        X = to_numpy(X, name=name)
    if sp.issparse(X):
        values = X
    elif _is_frame(X):
        names_in = getattr(estimator, "feature_names_in_", None)
        columns = [str(column) for column in X.columns]
        if names_in is not None and columns != [str(n) for n in names_in]:
            raise ValueError(
                f"The columns of {name} do not match the feature names {type(estimator).__name__} "
                f"was fitted with: expected {list(names_in)}, got {columns}."
            )
        try:
            values = _as_array(X, name)
        except ValueError:  # non-numeric frame: the estimator's own checks apply
            return X
    else:
        X = values = _as_array(X, name)
    _check_shape(values.shape, name)
    expected = getattr(estimator, "n_features_in_", None)
    if expected is not None and len(values.shape) == 2 and values.shape[1] != expected:
        raise ValueError(
            f"{name} has {values.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{expected} features as input."
        )
    if not _allow_nan(estimator):
        _check_finite(values, name)
    elif np.isinf(values.data if sp.issparse(values) else values).any():
        raise ValueError(f"{name} contains infinity.")
    return X


def _member_input(member, X, features):
    if _is_frame(X) and getattr(member, "feature_names_in_", None) is None:
        X = X.to_numpy()
    if features is not None:
        X = X.iloc[:, features] if _is_frame(X) else X[:, features]
    return X


def _is_committee(estimator) -> bool:
    return hasattr(estimator, "learner_list") and not isinstance(estimator, type)


def _is_modal_learner(estimator) -> bool:
    return (
        not isinstance(estimator, type)
        and hasattr(estimator, "estimator")
        and callable(getattr(estimator, "query", None))
    )


def _unsupported(estimator, allow_deterministic: bool, reason: str = "") -> TypeError:
    message = (
        f"Cannot draw posterior samples from {type(estimator).__name__}{reason}. Supported: "
        f"{SUPPORTED_ESTIMATORS}"
    )
    if allow_deterministic:
        message += "; or any fitted classifier with predict_proba."
    else:
        message += (
            ". Strategies that need no posterior (Entropy, Margin, LeastConfidence) also accept "
            "any fitted classifier with predict_proba (allow_deterministic=True)."
        )
    return TypeError(message)


def _check_net_is_classifier(net) -> None:
    if not isinstance(net, (NeuralNetClassifier, NeuralNetBinaryClassifier)):
        raise TypeError(
            f"{type(net).__name__} is a skorch net but not a classifier; posterior samples need "
            f"class probabilities. Supported: {SUPPORTED_ESTIMATORS}."
        )


def _net_posterior(net, allow_deterministic: bool) -> Posterior:
    _check_net_is_classifier(net)
    net.check_is_fitted()
    try:
        modules = dropout_modules(net)
    except ValueError:
        if allow_deterministic:
            return _NetPosterior(net, deterministic=True)
        raise
    if modules:
        return _NetPosterior(net)
    if allow_deterministic:
        return _NetPosterior(net, deterministic=True)
    raise ValueError(_no_dropout_message(net))


def _member_posterior(estimator) -> Posterior:
    """One deterministic draw per estimator (committee members, allow_deterministic)."""
    if isinstance(estimator, MCDropoutClassifier):
        estimator.check_is_fitted()
        return _ProbaPosterior(estimator, partial(check_net_input, estimator))
    if isinstance(estimator, NeuralNet):
        _check_net_is_classifier(estimator)
        estimator.check_is_fitted()
        return _NetPosterior(estimator, deterministic=True)
    if isinstance(estimator, Pipeline):
        check_is_fitted(estimator.steps[-1][1])
        return _ProbaPosterior(estimator, lambda X: X)
    if not hasattr(estimator, "predict_proba"):
        raise _unsupported(estimator, True, " (it has no predict_proba)")
    check_is_fitted(estimator)
    return _ProbaPosterior(estimator, partial(_check_sklearn_input, estimator=estimator))


def _committee_posterior(committee) -> Posterior:
    learners = list(committee.learner_list)
    if not learners:
        raise ValueError("The committee has no learners.")
    estimators = [getattr(learner, "estimator", learner) for learner in learners]
    members = [_member_posterior(estimator) for estimator in estimators]
    member_classes = [np.asarray(estimator.classes_) for estimator in estimators]
    classes = getattr(committee, "classes_", None)
    if classes is None:
        classes = np.unique(np.concatenate(member_classes))
    return _CommitteePosterior(committee, members, member_classes, np.asarray(classes))


def _ensemble_posterior(ensemble, allow_deterministic: bool) -> Posterior | None:
    """A member posterior, or None when the members cannot be draws."""
    check_is_fitted(ensemble)
    members = getattr(ensemble, "estimators_", None)
    if members is None or isinstance(members, np.ndarray) and members.ndim != 1:
        return None
    members = list(members)
    if not members or not all(hasattr(member, "predict_proba") for member in members):
        return None
    if getattr(ensemble, "n_outputs_", 1) != 1 or isinstance(ensemble.classes_, list):
        raise ValueError(f"Multi-output {type(ensemble).__name__} is not supported: classes_ must be one array.")
    classes = np.asarray(ensemble.classes_)
    if isinstance(ensemble, _ENCODED_ENSEMBLES):
        columns = [_encoded_columns(member, len(classes)) for member in members]
    else:
        columns = [
            _label_columns(member.classes_, classes, len(member.classes_), member) for member in members
        ]
    features = getattr(ensemble, "estimators_features_", None)
    features = None if features is None else [np.asarray(f) for f in features]
    return _EnsemblePosterior(ensemble, members, columns, features, len(classes))


def _safe_tag_check(check: Callable, estimator) -> bool:
    try:
        return bool(check(estimator))
    except Exception:  # objects without scikit-learn tags
        return False


def _is_ensemble(estimator) -> bool:
    if isinstance(estimator, type) or not hasattr(estimator, "fit"):
        return False
    if isinstance(estimator, _NOT_DRAW_ENSEMBLES) or _safe_tag_check(is_regressor, estimator):
        return False
    if not (_safe_tag_check(is_classifier, estimator) or hasattr(estimator, "classes_")):
        return False
    return isinstance(estimator, (BaseEnsemble, VotingClassifier)) or hasattr(estimator, "estimators_")


def resolve_posterior(estimator, *, allow_deterministic: bool = False) -> Posterior:
    """The :class:`Posterior` of an estimator, for strategy authors.

    Cheap: checks the kind and the fitted state, touches no data.

    Parameters
    ----------
    estimator : object
        One of: a fitted :class:`~skbal.posterior.MCDropoutClassifier`; a
        fitted skorch ``NeuralNetClassifier`` (or
        ``NeuralNetBinaryClassifier``) whose module contains dropout modules;
        an sklearn ``Pipeline`` ending in a supported estimator; a fitted
        sklearn ensemble of classifiers with ``estimators_``
        (RandomForest, ExtraTrees, Bagging, Voting; each member one draw); a
        modAL learner (anything with ``.estimator`` and a ``query`` method:
        its estimator is used); a modAL Committee (anything with
        ``learner_list``: each member's ``predict_proba`` is one draw, mapped
        onto the committee's classes).
    allow_deterministic : bool, default=False
        Also accept any fitted classifier with ``predict_proba`` (and skorch
        nets without dropout): one deterministic draw, K=1. For strategies
        that need no posterior (Entropy, Margin, LeastConfidence).

    Returns
    -------
    Posterior

    Raises
    ------
    TypeError
        The estimator cannot produce posterior samples (the message lists
        what is supported).
    ValueError
        A skorch net without dropout modules (unless
        ``allow_deterministic``), or with ``AlphaDropout``.
    sklearn.exceptions.NotFittedError
        The estimator (or a committee member) is not fitted.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from skbal.posterior import resolve_posterior
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = GaussianNB().fit(X / 16, y)
    >>> posterior = resolve_posterior(clf, allow_deterministic=True)
    >>> posterior.default_n_mc_samples, posterior.deterministic
    (1, True)
    >>> posterior.sample(posterior.check_input(X[:4] / 16)).shape
    (4, 1, 10)
    """
    if _is_committee(estimator):
        return _committee_posterior(estimator)
    if _is_modal_learner(estimator):
        return resolve_posterior(estimator.estimator, allow_deterministic=allow_deterministic)
    if isinstance(estimator, Pipeline):
        steps = [step for _, step in estimator.steps]
        if not steps or steps[-1] is None or (isinstance(steps[-1], str) and steps[-1] == "passthrough"):
            raise _unsupported(estimator, allow_deterministic, " (its last step is not an estimator)")
        final = resolve_posterior(steps[-1], allow_deterministic=allow_deterministic)
        transformers = [
            step for step in steps[:-1] if step is not None and not (isinstance(step, str) and step == "passthrough")
        ]
        return _PipelinePosterior(estimator, transformers, final)
    if isinstance(estimator, NeuralNet):
        return _net_posterior(estimator, allow_deterministic)
    if _is_ensemble(estimator):
        posterior = _ensemble_posterior(estimator, allow_deterministic)
        if posterior is not None:
            return posterior
        if not allow_deterministic:
            raise _unsupported(estimator, False, " (its members have no predict_proba)")
    if allow_deterministic and hasattr(estimator, "predict_proba") and not isinstance(estimator, type):
        return _member_posterior(estimator)
    raise _unsupported(estimator, allow_deterministic)


def sample_log_proba(
    estimator,
    X,
    n_mc_samples: int | None = None,
    *,
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
    dropout_masks: str | None = None,
) -> np.ndarray:
    r"""Posterior samples of the class log-probabilities of a pool.

    Parameters
    ----------
    estimator : object
        A fitted MCDropoutClassifier, a fitted skorch classifier with dropout
        modules, a Pipeline ending in one, an sklearn ensemble with
        ``estimators_``, a modAL learner or Committee; see
        :func:`resolve_posterior`.
    X : array-like, DataFrame, torch.Tensor or scipy sparse matrix of shape (n_samples, ...)
        The pool. Never modified. DataFrames become arrays and floats are
        cast to the module's dtype for skorch nets.
    n_mc_samples : int or None, default=None
        K. None: ``n_mc_samples`` of an MCDropoutClassifier, 20 for a plain
        skorch net. Ignored by ensembles and committees, where K is the
        number of members.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the dropout masks (never the global RNG). None: the
        MCDropoutClassifier's own ``random_state``, else fresh OS entropy.
    dropout_masks : {"consistent", "independent"} or None, default=None
        None: the MCDropoutClassifier's own setting, else ``"consistent"``.

    Returns
    -------
    log_probs : ndarray of shape (n_samples, n_mc_samples, n_classes), float32
        Natural-log class probabilities, normalised over classes;
        ``[:, k, :]`` is draw k, shared by every row.

    Raises
    ------
    TypeError
        Unsupported estimator (the message lists what is supported).
    ValueError
        NaN/inf in ``X``, a wrong number of features, a net without
        dropout: all before sampling.
    sklearn.exceptions.NotFittedError
        The estimator is not fitted.

    Notes
    -----
    MC dropout (Gal and Ghahramani, 2016) reads each dropout mask ω_k as a
    draw from an approximate posterior; draw k is
    :math:`\log p(y \mid x, \omega_k)`. Every module runs in eval mode
    (BatchNorm statistics unchanged, modes restored afterwards) and skbal
    multiplies each dropout module's output by its own mask
    ``Bernoulli(1 - p) / (1 - p)`` (channel-wise for Dropout1d/2d/3d), from
    generators seeded by ``random_state``. With ``"consistent"`` masks, draw
    k uses the same masks for every row whatever the minibatch layout, as
    BatchBALD needs (Kirsch et al., 2019); with ``"independent"`` masks each
    row gets its own, as in train-mode dropout (reproducible for a fixed
    ``random_state`` and batch layout). The K draws of a minibatch run in
    one forward (chunked to bound memory) under ``torch.inference_mode``.
    The global torch RNG state is saved and restored around the passes
    (torch's ``DataLoader`` draws a seed from it even without shuffling).
    The temporary hooks live on the user's modules during the call: do not
    run the same net from another thread meanwhile. Dropout written as
    ``F.dropout`` inside ``forward`` is not sampled; nets built with
    ``compile=True`` are untested.

    The module's output follows the criterion: ``CrossEntropyLoss`` →
    logits (``log_softmax``); ``NLLLoss`` (skorch's default) → probabilities
    (logged after checking that rows sum to 1); ``BCEWithLogitsLoss`` → one
    logit per row; otherwise skorch's ``predict_nonlinearity`` must give
    probabilities. Probabilities of exactly 0 become ``log(tiny)`` ≈ -87.3,
    so the result is finite.

    For ensembles (Gal et al., 2017 compare them with MC dropout) and
    committees each member's ``predict_proba`` is one draw, its columns
    mapped onto the ensemble's ``classes_``; Bagging's feature subsets are
    applied.

    References
    ----------
    .. [1] Gal, Y. and Ghahramani, Z. (2016). Dropout as a Bayesian
       approximation: representing model uncertainty in deep learning. ICML.
    .. [2] Gal, Y., Islam, R. and Ghahramani, Z. (2017). Deep Bayesian active
       learning with image data. ICML.
    .. [3] Kirsch, A., van Amersfoort, J. and Gal, Y. (2019). BatchBALD:
       efficient and diverse batch acquisition for deep Bayesian active
       learning. NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sklearn.datasets import load_digits
    >>> from skorch import NeuralNetClassifier
    >>> from skbal.posterior import sample_log_proba
    >>> X, y = load_digits(return_X_y=True)
    >>> module = torch.nn.Sequential(
    ...     torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Dropout(0.5),
    ...     torch.nn.Linear(32, 10))
    >>> net = NeuralNetClassifier(module, criterion=torch.nn.CrossEntropyLoss,
    ...                           max_epochs=1, train_split=None, verbose=0)
    >>> net = net.fit((X / 16).astype(np.float32), y)
    >>> log_probs = sample_log_proba(net, X[:4] / 16, n_mc_samples=6, random_state=0)
    >>> log_probs.shape, log_probs.dtype
    ((4, 6, 10), dtype('float32'))
    >>> bool(np.allclose(np.exp(log_probs).sum(axis=-1), 1, atol=1e-5))
    True
    """
    if n_mc_samples is not None:
        check_n_mc_samples(n_mc_samples)
    if dropout_masks is not None:
        check_dropout_masks(dropout_masks)
    posterior = resolve_posterior(estimator)
    X_prepared = posterior.check_input(X)
    return posterior.sample(X_prepared, n_mc_samples, random_state, dropout_masks=dropout_masks)
