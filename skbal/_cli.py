"""The ``skbal`` command: compare query strategies by simulated active learning.

The default run is the main job of the project: random, BALD (with
consistent and with independent MC-dropout masks), PowerBALD, PowerEntropy
and BatchBALD on Repeated Digits, with a small MC-dropout MLP, 10 labels per
query. It prints the labels each strategy needs to reach given test
accuracies and writes a PNG of the learning curves.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

DEFAULT_STRATEGIES = (
    "random",
    "bald:dropout_masks=consistent",
    "bald",
    "power-bald",
    "power-entropy",
    "batchbald",
)


def parse_strategy(spec: str):
    """``"name[:param=value,...]"`` → a strategy (values parsed as numbers when they look like numbers)."""
    from skbal.simulation import get_strategy

    name, _, params = spec.partition(":")
    kwargs = {}
    for item in filter(None, params.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"strategy parameters are key=value pairs, got {item!r} in {spec!r}")
        kwargs[key.strip()] = _number_or_text(value.strip())
    try:
        strategy = get_strategy(name.strip(), **kwargs)
        strategy._validate_params()
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return strategy


def _number_or_text(value: str):
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def build_parser() -> argparse.ArgumentParser:
    from skbal.simulation import STRATEGY_NAMES

    parser = argparse.ArgumentParser(
        prog="skbal",
        description="Compare active-learning query strategies by simulation (labels as the oracle).",
        epilog=(
            f"Strategies: {', '.join(STRATEGY_NAMES)}; give parameters as "
            "name:key=value,... e.g. power-bald:temperature=2 or bald:dropout_masks=consistent."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data",
        default="repeated-digits",
        help="'repeated-digits', 'digits', or a path to an .npz (X, y[, X_test, y_test]) or .csv file",
    )
    data.add_argument("--label-column", default="label", help="label column of a .csv file (name or position)")
    data.add_argument("--copies", type=int, default=3, help="repeated-digits: copies of every pool image")
    data.add_argument("--noise", type=float, default=0.1, help="repeated-digits: noise std (in data std units)")
    run = parser.add_argument_group("simulation")
    run.add_argument("--strategies", nargs="+", type=parse_strategy, default=None, metavar="NAME[:K=V,...]",
                     help=f"strategies to compare (default: {' '.join(DEFAULT_STRATEGIES)})")
    run.add_argument("--n-initial", type=int, default=20, help="labels before the first query (balanced)")
    run.add_argument("--query-size", type=int, default=10, help="labels per query")
    run.add_argument("--budget", type=int, default=150, help="labels acquired after the initial set")
    run.add_argument("--n-repeats", type=int, default=4, help="runs (seeds) per strategy")
    run.add_argument("--n-jobs", type=int, default=-1, help="parallel runs (-1: every core)")
    run.add_argument("--random-state", type=int, default=0, help="seeds every run")
    model = parser.add_argument_group("model (an MC-dropout MLP)")
    model.add_argument("--hidden-units", type=int, nargs="+", default=[128])
    model.add_argument("--n-mc-samples", type=int, default=20, help="K, MC-dropout draws per query")
    model.add_argument("--max-epochs", type=int, default=100)
    out = parser.add_argument_group("output")
    out.add_argument("--accuracies", type=float, nargs="+", default=[0.85, 0.9],
                     help="report the labels needed to reach these test accuracies")
    out.add_argument("--plot", default="skbal_learning_curves.png", help="PNG to write ('' for none)")
    out.add_argument("--results", default="", help="CSV file for the tidy per-round results ('' for none)")
    noise = out.add_mutually_exclusive_group()
    noise.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    noise.add_argument("-v", "--verbose", action="count", default=0,
                       help="also each run's bars over rounds and long queries (best with --n-jobs 1)")
    return parser


def load_data(args):
    """The data set the arguments name, as a Bunch with X_pool, y_pool, X_test, y_test."""
    from skbal import datasets

    if args.data == "repeated-digits":
        return datasets.load_repeated_digits(n_repeats=args.copies, noise_std=args.noise, random_state=args.random_state)
    if args.data == "digits":
        return datasets.load_repeated_digits(n_repeats=1, noise_std=0.0, random_state=args.random_state)
    label_column = args.label_column
    if label_column.lstrip("-").isdigit():
        label_column = int(label_column)
    return datasets.load_pool_file(args.data, label_column=label_column, random_state=args.random_state)


def build_estimator(args, data, n_classes: int):
    """The MC-dropout MLP, behind a scaler when the data is not the embedded digits."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    from skbal.simulation import mc_dropout_mlp

    net = mc_dropout_mlp(
        data.X_pool.shape[1],
        n_classes,
        hidden_units=tuple(args.hidden_units),
        n_mc_samples=args.n_mc_samples,
        max_epochs=args.max_epochs,
    )
    if args.data in ("repeated-digits", "digits"):
        return net  # already scaled to [0, 1]
    return make_pipeline(StandardScaler(), FunctionTransformer(_to_float32), net)


def _to_float32(X):
    return np.asarray(X, dtype=np.float32)


def main(argv=None) -> int:
    """Run the comparison; return the exit status."""
    from sklearn.preprocessing import LabelEncoder

    from skbal.simulation import compare_strategies, format_summary, summarize

    parser = build_parser()
    args = parser.parse_args(argv)
    strategies = args.strategies or [parse_strategy(spec) for spec in DEFAULT_STRATEGIES]
    names = _names(strategies)
    try:
        data = load_data(args)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    encoder = LabelEncoder().fit(np.concatenate([data.y_pool, data.y_test]))
    y_pool, y_test = encoder.transform(data.y_pool), encoder.transform(data.y_test)
    estimator = build_estimator(args, data, len(encoder.classes_))

    print(data.DESCR)
    print(
        f"{len(names)} strategies x {args.n_repeats} runs: {args.n_initial} initial labels, "
        f"{args.budget} more in queries of {args.query_size}, K={args.n_mc_samples} MC-dropout draws\n"
    )
    start = time.perf_counter()
    try:
        results = compare_strategies(
            estimator,
            dict(zip(names, strategies)),
            data.X_pool,
            y_pool,
            data.X_test,
            y_test,
            n_initial=args.n_initial,
            query_size=args.query_size,
            budget=args.budget,
            n_repeats=args.n_repeats,
            n_jobs=args.n_jobs,
            verbose=0 if args.quiet else 1 + args.verbose,
            random_state=args.random_state,
        )
    except ValueError as exc:
        parser.error(str(exc))
    seconds = time.perf_counter() - start
    repeated = args.data == "repeated-digits" and args.copies > 1
    summary = summarize(results, args.accuracies, groups=data.source_index if repeated else None)
    print(format_summary(summary))
    print(f"\n{len(results)} rounds in {seconds:.0f} s. Medians over {args.n_repeats} runs (IQR: 25th-75th percentile).")
    if repeated:
        print("redundant labels: acquired copies of an image already acquired (repeated-digits only).")
    if args.results:
        _write_csv(results, args.results)
        print(f"per-round results: {args.results}")
    if args.plot:
        _write_plot(results, y_pool, args, data.DESCR.split(":")[0])
    return 0


def _names(strategies) -> list[str]:
    """Readable, distinct names: the class name plus the parameters that differ from its defaults."""
    names = []
    for strategy in strategies:
        defaults = type(strategy)().get_params(deep=False)
        changed = {k: v for k, v in strategy.get_params(deep=False).items() if defaults.get(k) != v}
        name = type(strategy).__name__
        if changed:
            name += " (" + ", ".join(f"{k}={v}" for k, v in changed.items()) + ")"
        while name in names:
            name += "'"
        names.append(name)
    return names


def _write_csv(results, path: str) -> None:
    import csv

    fields = [key for key in results[0] if key != "queried_indices"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(results)


def _write_plot(results, y_pool, args, data_name: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print('matplotlib is not installed: no plot (pip install "skbal[plot]").')
        return
    from skbal.plotting import plot_label_histogram, plot_learning_curves

    fig, (curves, histogram) = plt.subplots(2, 1, figsize=(8, 8.5), height_ratios=[2, 1])
    plot_learning_curves(
        results,
        ax=curves,
        title=f"{data_name}: {args.query_size} labels per query, median of {args.n_repeats} runs",
    )
    plot_label_histogram(results, y_pool, ax=histogram, title="labels acquired per class")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
    plt.close(fig)
    print(f"learning curves: {args.plot}")
