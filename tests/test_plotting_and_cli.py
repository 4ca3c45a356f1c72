"""skbal.plotting and the ``skbal`` command line."""

from __future__ import annotations

import csv
import subprocess
import sys
from importlib.metadata import entry_points

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skbal import _cli  # noqa: E402
from skbal.plotting import plot_label_histogram, plot_learning_curves  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _results():
    rng = np.random.default_rng(0)
    rows = []
    for strategy in ("random", "bald"):
        for repeat in range(5):
            for round_, n in enumerate((10, 20, 30)):
                rows.append(
                    {
                        "strategy": strategy,
                        "repeat": repeat,
                        "round": round_,
                        "n_labels": n,
                        "accuracy": float(rng.uniform()),
                        "queried_indices": rng.choice(40, size=3 if round_ else 0, replace=False),
                    }
                )
    return rows


def test_learning_curves_draw_the_median_and_the_quantile_band():
    results = _results()
    ax = plot_learning_curves(results, quantiles=(0.1, 0.9))
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["random", "bald"]
    for line, band in zip(lines, ax.collections):
        strategy = line.get_label()
        values = np.array([[r["accuracy"] for r in results if r["strategy"] == strategy and r["n_labels"] == n]
                           for n in (10, 20, 30)])
        np.testing.assert_array_equal(line.get_xdata(), [10, 20, 30])
        np.testing.assert_allclose(line.get_ydata(), np.median(values, axis=1))
        # The band's polygon spans the 10th to the 90th percentile at every x.
        ys = band.get_paths()[0].vertices[:, 1]
        np.testing.assert_allclose(ys.min(), np.quantile(values, 0.1, axis=1).min())
        np.testing.assert_allclose(ys.max(), np.quantile(values, 0.9, axis=1).max())


def test_label_histogram_counts_acquired_classes_per_run():
    results = _results()
    y_pool = np.arange(40) % 4
    ax = plot_label_histogram(results, y_pool)
    heights = np.array([bar.get_height() for bar in ax.patches]).reshape(2, 4)
    for row, strategy in zip(heights, ("random", "bald")):
        acquired = np.concatenate([r["queried_indices"] for r in results if r["strategy"] == strategy])
        np.testing.assert_allclose(row, np.bincount(y_pool[acquired], minlength=4) / 5)
    assert heights.sum() == pytest.approx(2 * 6)  # 6 labels per run


def test_plots_reject_empty_results():
    with pytest.raises(ValueError, match="empty"):
        plot_learning_curves([])


# ------------------------------------------------------------------ the CLI

SMALL = ["--budget", "10", "--n-repeats", "1", "--n-initial", "10", "--max-epochs", "5",
         "--hidden-units", "16", "--n-mc-samples", "4", "--n-jobs", "1", "-q"]


def test_cli_runs_a_comparison_and_writes_table_plot_and_csv(tmp_path, capsys):
    plot, table = tmp_path / "curves.png", tmp_path / "results.csv"
    status = _cli.main(
        [*SMALL, "--strategies", "random", "power-bald:temperature=2", "bald:dropout_masks=consistent",
         "--plot", str(plot), "--results", str(table), "--accuracies", "0.5"]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "Repeated Digits" in out and "| strategy | labels to 50% |" in out
    for name in ("| Random |", "| PowerBALD (temperature=2) |", "| BALD (dropout_masks=consistent) |"):
        assert name in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with table.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 * 2  # 3 strategies x 1 run x 2 rounds
    assert {row["strategy"] for row in rows} == {"Random", "PowerBALD (temperature=2)", "BALD (dropout_masks=consistent)"}


def test_cli_reads_a_csv_data_file(tmp_path, capsys, digits):
    X, y = digits
    path = tmp_path / "mine.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["digit", *(f"p{i}" for i in range(64))])
        for features, label in zip(X[:300] * 16, y[:300]):
            writer.writerow([f"d{label}", *features])
    status = _cli.main([*SMALL, "--data", str(path), "--label-column", "digit", "--strategies", "entropy", "--plot", ""])
    out = capsys.readouterr().out
    assert status == 0 and "mine.csv: 225 pool rows, 75 test rows, 64 features" in out
    assert "| Entropy |" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--strategies", "balds"], "Unknown strategy 'balds'"),
        (["--strategies", "power-bald:temperature"], "key=value"),
        (["--strategies", "power-bald:temperature=-1"], "temperature"),
        (["--data", "no/such/file.csv"], "No such data file"),
        (["--budget", "100000"], "must not exceed the pool size"),
    ],
)
def test_cli_reports_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _cli.main([*SMALL, *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_console_script_and_module_entry_points():
    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "skbal"]
    assert script.load() is _cli.main
    help_text = subprocess.run(
        [sys.executable, "-m", "skbal", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert help_text.startswith("usage: skbal") and "--strategies" in help_text
