"""``MCDropoutClassifier``: a skorch classifier that predicts with MC dropout."""

from __future__ import annotations

import numpy as np
from skorch import NeuralNetClassifier

from skbal.posterior._mc_dropout import (
    check_dropout_masks,
    check_n_mc_samples,
    check_net_input,
    mc_dropout_log_proba,
)

__all__ = ["MCDropoutClassifier"]


class MCDropoutClassifier(NeuralNetClassifier):
    r"""A skorch ``NeuralNetClassifier`` whose predictions average MC-dropout draws.

    Training is plain skorch (dropout on, as usual). At prediction time the
    net draws K dropout masks and averages the K predictive distributions:
    the Bayesian model average of MC dropout. Every other argument is passed
    to :class:`skorch.NeuralNetClassifier` (default criterion ``NLLLoss``:
    the module ends in a softmax; use ``criterion=torch.nn.CrossEntropyLoss``
    for a module that outputs logits).

    Parameters
    ----------
    module : torch.nn.Module class or instance
        Must contain ``torch.nn.Dropout`` (or ``Dropout1d``/``Dropout2d``/
        ``Dropout3d``) modules.
    n_mc_samples : int, default=20
        K, posterior draws per prediction.
    dropout_masks : {"consistent", "independent"}, default="consistent"
        ``"consistent"``: draw k uses the same mask for every row (K
        models; needed by BatchBALD). ``"independent"``: a new mask per row
        and draw.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the dropout masks. With an int, :meth:`predict_proba` and
        :meth:`sample_log_proba` return the same result at every call; with
        None every call draws new masks (fresh OS entropy, never the global
        RNG). It does not seed training.
    *args, **kwargs
        Passed to :class:`skorch.NeuralNetClassifier`.

    Attributes
    ----------
    module_, classes_, history_ ...
        As in :class:`skorch.NeuralNetClassifier`.

    Notes
    -----
    With draws :math:`\omega_k` from the approximate posterior (dropout
    masks), :meth:`predict_proba` returns
    :math:`\bar p(y \mid x) = \frac{1}{K} \sum_k p(y \mid x, \omega_k)`
    and :meth:`predict` its argmax. Sampling runs every module in eval mode
    (BatchNorm uses its running statistics) with skbal's own masks on the
    dropout modules, no gradients, the valid iterator, and K draws batched
    into one forward per chunk; see
    :func:`skbal.posterior.sample_log_proba`. ``net.forward`` and
    ``net.forward_iter`` are unchanged (deterministic eval outputs). The
    ``valid_acc`` that skorch computes during ``fit`` calls :meth:`predict`,
    hence K forward passes over the validation split each epoch.

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
    >>> from sklearn.datasets import load_digits
    >>> from skbal.posterior import MCDropoutClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = (X / 16).astype(np.float32)
    >>> module = torch.nn.Sequential(
    ...     torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Dropout(0.5),
    ...     torch.nn.Linear(32, 10), torch.nn.Softmax(dim=-1))
    >>> net = MCDropoutClassifier(module, n_mc_samples=8, random_state=0,
    ...                           max_epochs=2, train_split=None, verbose=0)
    >>> net = net.fit(X, y)
    >>> net.sample_log_proba(X[:5]).shape
    (5, 8, 10)
    >>> proba = net.predict_proba(X[:5])
    >>> proba.shape
    (5, 10)
    >>> bool(np.array_equal(proba, net.predict_proba(X[:5])))
    True
    """

    def __init__(
        self,
        module,
        *args,
        n_mc_samples: int = 20,
        dropout_masks: str = "consistent",
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
        **kwargs,
    ):
        super().__init__(module, *args, **kwargs)
        self.n_mc_samples = n_mc_samples
        self.dropout_masks = dropout_masks
        self.random_state = random_state

    def sample_log_proba(
        self,
        X,
        n_mc_samples: int | None = None,
        *,
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
        dropout_masks: str | None = None,
    ) -> np.ndarray:
        """Draw K MC-dropout posterior samples of the class log-probabilities.

        Parameters
        ----------
        X : array-like, DataFrame, torch.Tensor or scipy sparse matrix of shape (n_samples, ...)
            The pool. DataFrames become arrays, floats are cast to the
            module's dtype; NaN/inf and a wrong number of features raise a
            ``ValueError`` before sampling.
        n_mc_samples : int or None, default=None
            K; None uses ``self.n_mc_samples``.
        random_state : int, RandomState, Generator or None, default=None
            Seeds the masks; None uses ``self.random_state``.
        dropout_masks : {"consistent", "independent"} or None, default=None
            None uses ``self.dropout_masks``.

        Returns
        -------
        log_probs : ndarray of shape (n_samples, n_mc_samples, n_classes), float32
            Natural-log class probabilities; ``[:, k, :]`` is draw k.

        Notes
        -----
        See :func:`skbal.posterior.sample_log_proba` for the mask schemes.

        References
        ----------
        .. [1] Gal, Y. and Ghahramani, Z. (2016). Dropout as a Bayesian
           approximation. ICML.

        Examples
        --------
        >>> import numpy as np
        >>> import torch
        >>> from skbal.posterior import MCDropoutClassifier
        >>> module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5),
        ...                              torch.nn.Linear(8, 3), torch.nn.Softmax(dim=-1))
        >>> net = MCDropoutClassifier(module, random_state=0).initialize()
        >>> net.sample_log_proba(np.ones((2, 4)), n_mc_samples=5).shape
        (2, 5, 3)
        """
        self.check_is_fitted()
        n_mc_samples = check_n_mc_samples(self.n_mc_samples if n_mc_samples is None else n_mc_samples)
        dropout_masks = check_dropout_masks(self.dropout_masks if dropout_masks is None else dropout_masks)
        random_state = self.random_state if random_state is None else random_state
        X = check_net_input(self, X)
        return mc_dropout_log_proba(
            self, X, n_mc_samples, dropout_masks=dropout_masks, random_state=random_state
        )

    def predict_proba(self, X) -> np.ndarray:
        """Bayesian model average of the MC-dropout draws.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            As in :meth:`sample_log_proba`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float32
            The mean over ``n_mc_samples`` draws of the class probabilities.
            Reproducible when ``random_state`` is an int.

        Examples
        --------
        >>> import numpy as np
        >>> import torch
        >>> from skbal.posterior import MCDropoutClassifier
        >>> module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5),
        ...                              torch.nn.Linear(8, 3), torch.nn.Softmax(dim=-1))
        >>> net = MCDropoutClassifier(module, random_state=0).initialize()
        >>> net.predict_proba(np.ones((2, 4))).shape
        (2, 3)
        """
        log_probs_N_K_C = self.sample_log_proba(X)
        return np.exp(log_probs_N_K_C.astype(np.float64)).mean(axis=1).astype(np.float32)
