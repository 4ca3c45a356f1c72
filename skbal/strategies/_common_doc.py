"""Docstring pieces shared by the strategies (one wording, one place)."""

PARAMS = {
    "query_size": """query_size : int, default=10
        How many points to choose when the caller gives no ``n_instances``
        (modAL's ``learner.query(X_pool, n_instances=...)`` overrides it).""",
    "n_mc_samples": """n_mc_samples : int, default=None
        K, the posterior draws per query. None uses the estimator's own
        (``MCDropoutClassifier.n_mc_samples``, 20 for a plain skorch net, the
        number of members for an ensemble or committee).""",
    "dropout_masks": """dropout_masks : {{"consistent", "independent"}}, default="{default}"
        MC-dropout masks. "consistent": draw k uses one mask for every pool
        row (K well-defined models). "independent": a new mask per row, whose
        extra noise breaks ties between near-duplicates.""",
    "random_state": """random_state : int, RandomState, Generator or None, default=None
        Seeds the dropout masks (and the sampling, where the strategy
        samples). None draws fresh OS entropy; the global RNGs are never
        used or changed.""",
    "verbose": """verbose : int, default=0
        Positive: a query that runs longer than a second shows progress
        bars (``tqdm.auto``, so they render in notebooks) over its MC
        sampling and, for BatchBALD, its greedy steps. A Dask pool's
        sampling reports through Dask's own progress tools instead.""",
    "n_joint_samples": """n_joint_samples : int, default=10_000
        M: the label configurations of the chosen points are enumerated
        while there are at most M, and M of them are sampled beyond.""",
    "temperature": """temperature : float, default=1.0
        T > 0: points are drawn without replacement with probability
        ∝ score^(1/T). T → 0 is top-k; large T is uniform.""",
}

REFERENCES = {
    "houlsby": """Houlsby, Huszár, Ghahramani, Lengyel. "Bayesian Active Learning
       for Classification and Preference Learning." arXiv:1112.5745, 2011.""",
    "gal": """Gal, Islam, Ghahramani. "Deep Bayesian Active Learning with Image
       Data." ICML 2017.""",
    "kirsch2019": """Kirsch, van Amersfoort, Gal. "BatchBALD: Efficient and Diverse
       Batch Acquisition for Deep Bayesian Active Learning." NeurIPS 2019.""",
    "kirsch2023": """Kirsch, Farquhar, Atighehchian, Jesson, Branchaud-Charron, Gal.
       "Stochastic Batch Acquisition: A Simple Baseline for Deep Active
       Learning." TMLR 2023.""",
}


def parameters(*names: str, masks: str = "independent") -> str:
    """The numpydoc Parameters section for the named constructor arguments."""
    body = "\n    ".join(PARAMS[name].format(default=masks) for name in names)
    return "Parameters\n    ----------\n    " + body


def references(*keys: str) -> str:
    items = "\n    ".join(f".. [{i}] {REFERENCES[key]}" for i, key in enumerate(keys, 1))
    return "References\n    ----------\n    " + items
