"""``python -m skbal``: score and select from the embedded digits data set.

Trains a small MC-dropout net on 100 labelled digits, draws K = 20 posterior
samples for the unlabelled pool once, and shows what each strategy would ask
to label next, with the time each took. Runs in seconds on a laptop CPU.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _build_net(n_features: int, n_classes: int, random_state: int):
    import torch
    from torch import nn

    from skbal import MCDropoutClassifier

    torch.manual_seed(random_state)  # the demo owns its process: seeding is fine here
    module = nn.Sequential(
        nn.Linear(n_features, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, n_classes)
    )
    return MCDropoutClassifier(
        module,
        criterion=nn.CrossEntropyLoss,
        classes=np.arange(n_classes),
        max_epochs=60,
        lr=0.05,
        batch_size=32,
        train_split=None,
        verbose=0,
        n_mc_samples=20,
        random_state=random_state,
    )


def main(argv=None) -> None:
    import skbal
    from skbal import acquisition

    parser = argparse.ArgumentParser(prog="python -m skbal", description=__doc__.splitlines()[0])
    parser.add_argument("--n-labelled", type=int, default=100)
    parser.add_argument("--query-size", type=int, default=10)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.25, random_state=args.random_state)
    rng = np.random.default_rng(args.random_state)
    labelled = rng.choice(len(X_pool), size=args.n_labelled, replace=False)
    unlabelled = np.setdiff1d(np.arange(len(X_pool)), labelled)

    net = _build_net(X.shape[1], 10, args.random_state).fit(X_pool[labelled], y_pool[labelled])
    print(f"MC-dropout net on {args.n_labelled} labelled digits: test accuracy {net.score(X_test, y_test):.3f}")

    start = time.perf_counter()
    log_probs = skbal.sample_log_proba(net, X_pool[unlabelled], random_state=args.random_state)
    print(f"posterior samples {log_probs.shape} (pool, K, classes) in {time.perf_counter() - start:.2f} s\n")

    bald_scores = acquisition.bald(log_probs)
    choices = {
        "random": lambda: np.random.default_rng(args.random_state).choice(
            len(unlabelled), args.query_size, replace=False
        ),
        "entropy (top-k)": lambda: acquisition.top_k(acquisition.predictive_entropy(log_probs), args.query_size),
        "BALD (top-k)": lambda: acquisition.top_k(acquisition.bald(log_probs), args.query_size),
        "PowerBALD (T=1)": lambda: acquisition.stochastic_top_k(
            acquisition.bald(log_probs), args.query_size, random_state=args.random_state
        ),
        "BatchBALD": lambda: acquisition.batchbald(log_probs, args.query_size, random_state=args.random_state)[0],
    }
    print(f"{'strategy':<18} {'seconds':>8} {'sum BALD':>9} {'joint MI':>9}  labels of the chosen digits")
    expected = acquisition.expected_entropy(log_probs)
    for name, choose in choices.items():
        start = time.perf_counter()
        chosen = choose()
        seconds = time.perf_counter() - start
        joint_mi = acquisition.joint_entropy(log_probs[chosen], random_state=0) - expected[chosen].sum()
        labels = " ".join(str(label) for label in y_pool[unlabelled][chosen])
        print(f"{name:<18} {seconds:>8.3f} {bald_scores[chosen].sum():>9.3f} {joint_mi:>9.3f}  {labels}")
    print(
        "\nsum BALD counts redundant points twice; the joint mutual information of the"
        "\nbatch does not. BatchBALD maximises the latter greedily."
    )


if __name__ == "__main__":
    main()
