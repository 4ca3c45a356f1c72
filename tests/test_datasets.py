"""skbal.datasets: Repeated Digits and the file loader."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skbal.datasets import load_pool_file, load_repeated_digits


@pytest.fixture(scope="module")
def raw_digits():
    digits = load_digits()
    return (digits.data / 16.0).astype(np.float32), digits.target


def test_repeated_digits_copies_every_pool_image(raw_digits):
    X, y = raw_digits
    data = load_repeated_digits(n_repeats=4, noise_std=0.0, random_state=3)
    counts = np.bincount(data.source_index, minlength=len(y))
    pool_sources = np.flatnonzero(counts)
    assert set(np.unique(counts)) == {0, 4}
    # With no noise, every copy is exactly its source image and keeps its label.
    np.testing.assert_array_equal(data.X_pool, X[data.source_index])
    np.testing.assert_array_equal(data.y_pool, y[data.source_index])
    # The test images are the others, clean and unrepeated.
    np.testing.assert_array_equal(np.sort(data.test_index), np.setdiff1d(np.arange(len(y)), pool_sources))
    np.testing.assert_array_equal(data.X_test, X[data.test_index])
    np.testing.assert_array_equal(data.y_test, y[data.test_index])
    assert data.X_pool.dtype == np.float32 and data.y_pool.dtype == np.int64


def test_repeated_digits_split_is_stratified_and_disjoint(raw_digits):
    X, y = raw_digits
    data = load_repeated_digits(n_repeats=2, test_size=0.3, random_state=0)
    assert not set(data.source_index) & set(data.test_index)
    assert len(data.test_index) == len(data.y_test) == np.ceil(0.3 * len(y))  # sklearn rounds the test size up
    # Stratified: every class's share of the test set is within one image of its share overall.
    for label in range(10):
        expected = 0.3 * (y == label).sum()
        assert abs((data.y_test == label).sum() - expected) <= 1


def test_repeated_digits_noise_has_the_stated_scale(raw_digits):
    X, _ = raw_digits
    data = load_repeated_digits(n_repeats=3, noise_std=0.2, random_state=0)
    noise = data.X_pool - X[data.source_index]
    expected = 0.2 * X.std()
    # ~680k draws: the sample std is within 0.5 % of the truth with overwhelming probability.
    assert abs(noise.std() / expected - 1) < 5e-3
    assert abs(noise.mean()) < 5 * expected / np.sqrt(noise.size)
    # Copies of one image differ from each other.
    first = np.flatnonzero(data.source_index == data.source_index[0])
    assert not np.array_equal(data.X_pool[first[0]], data.X_pool[first[1]])


def test_repeated_digits_is_reproducible_and_leaves_global_rng_alone():
    state = np.random.get_state()[1].copy()
    a = load_repeated_digits(random_state=5)
    b = load_repeated_digits(random_state=5)
    c = load_repeated_digits(random_state=6)
    np.testing.assert_array_equal(a.X_pool, b.X_pool)
    assert not np.array_equal(a.X_pool, c.X_pool)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_repeats": 0}, "n_repeats"),
        ({"n_repeats": 2.5}, "n_repeats"),
        ({"noise_std": -1.0}, "noise_std"),
        ({"noise_std": float("nan")}, "noise_std"),
        ({"test_size": 1.0}, "test_size"),
    ],
)
def test_repeated_digits_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_repeated_digits(**kwargs)


# --------------------------------------------------------------- load_pool_file


def test_npz_without_test_split_is_split_stratified(tmp_path, raw_digits):
    X, y = raw_digits
    path = tmp_path / "pool.npz"
    np.savez(path, X=X[:400].astype(np.float64), y=y[:400])
    data = load_pool_file(path, test_size=0.25, random_state=0)
    assert data.X_pool.shape == (300, 64) and data.X_test.shape == (100, 64)
    assert data.X_pool.dtype == np.float32
    # Every row comes back exactly once across the two splits.
    both = np.vstack([data.X_pool, data.X_test])
    assert sorted(map(bytes, both)) == sorted(map(bytes, X[:400]))
    again = load_pool_file(path, test_size=0.25, random_state=0)
    np.testing.assert_array_equal(data.y_test, again.y_test)


def test_npz_with_its_own_test_split(tmp_path, raw_digits):
    X, y = raw_digits
    path = tmp_path / "split.npz"
    np.savez(path, X=X[:100], y=y[:100], X_test=X[100:130], y_test=y[100:130])
    data = load_pool_file(path)
    np.testing.assert_array_equal(data.X_pool, X[:100])
    np.testing.assert_array_equal(data.y_test, y[100:130])


def _write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header), *(",".join(map(str, row)) for row in rows)]) + "\n")


def test_csv_with_text_labels_by_name_and_position(tmp_path):
    rows = [[i, i * 0.5, "cat" if i % 2 else "dog"] for i in range(40)]
    path = tmp_path / "animals.csv"
    _write_csv(path, ["a", "b", "kind"], rows)
    by_name = load_pool_file(path, label_column="kind", test_size=0.25)
    by_position = load_pool_file(path, label_column=-1, test_size=0.25)
    np.testing.assert_array_equal(by_name.X_pool, by_position.X_pool)
    assert by_name.feature_names == ["a", "b"]
    assert set(by_name.y_pool.tolist()) == {"cat", "dog"}
    # Features and labels stay together: odd first features are cats.
    for X, y in ((by_name.X_pool, by_name.y_pool), (by_name.X_test, by_name.y_test)):
        np.testing.assert_array_equal(X[:, 0] % 2 == 1, y == "cat")


def test_csv_label_column_in_the_middle_with_integer_labels(tmp_path):
    rows = [[i, i % 3, -i] for i in range(30)]
    path = tmp_path / "mid.csv"
    _write_csv(path, ["x", "label", "z"], rows)
    data = load_pool_file(path, test_size=0.2)
    assert data.y_pool.dtype == np.int64
    np.testing.assert_array_equal(data.X_pool[:, 0] % 3, data.y_pool)
    np.testing.assert_array_equal(data.X_pool[:, 1], -data.X_pool[:, 0])


@pytest.mark.parametrize(
    "name, content, kwargs, error, match",
    [
        ("a.txt", "x", {}, ValueError, r"\.npz or \.csv"),
        ("a.csv", "x,label\n1,a\n", {"label_column": "y"}, ValueError, "label_column 'y'"),
        ("a.csv", "x,label\n1,a\n", {"label_column": 5}, ValueError, "out of range"),
        ("a.csv", "x,label\nfoo,a\n", {}, ValueError, "line 2"),
        ("a.csv", "x,label\n1,a,3\n", {}, ValueError, "3 fields"),
        ("a.csv", "x,label\n", {}, ValueError, "at least one data row"),
        ("a.csv", "x,label\nnan,a\n", {}, ValueError, "NaN"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path, name, content, kwargs, error, match):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(error, match=match):
        load_pool_file(path, **kwargs)


def test_bad_npz_files_get_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such data file"):
        load_pool_file(tmp_path / "missing.npz")
    np.savez(tmp_path / "names.npz", features=np.ones((3, 2)), y=np.arange(3))
    with pytest.raises(ValueError, match="'X' and 'y'"):
        load_pool_file(tmp_path / "names.npz")
    np.savez(tmp_path / "lengths.npz", X=np.ones((3, 2)), y=np.arange(4))
    with pytest.raises(ValueError, match="3 labels"):
        load_pool_file(tmp_path / "lengths.npz")
    np.savez(tmp_path / "half.npz", X=np.ones((3, 2)), y=np.arange(3), X_test=np.ones((2, 2)))
    with pytest.raises(ValueError, match="both or neither"):
        load_pool_file(tmp_path / "half.npz")
    np.savez(tmp_path / "width.npz", X=np.ones((3, 2)), y=np.arange(3), X_test=np.ones((2, 3)), y_test=np.arange(2))
    with pytest.raises(ValueError, match="features"):
        load_pool_file(tmp_path / "width.npz")
