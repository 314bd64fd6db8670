"""skfastgrnn._datafiles: reading CSV and .npz files into checked arrays, and writing outputs (no command line)."""

import os
import warnings

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfastgrnn import FastGRNNClassifier, FastGRNNRegressor, SequenceScaler
from skfastgrnn._datacolumns import (
    MAX_AUTO_CLASSES,
    accepts_any_length,
    check_values,
    choose_task,
    final_estimator,
    model_input,
    numeric_columns,
    parse_labels,
    raw_labels,
    split_steps,
    target_column,
    training_data,
    true_labels,
    true_targets,
    true_values,
)
from skfastgrnn._datafiles import (
    DataFile,
    DataFileError,
    check_model_writable,
    check_readable,
    check_writable,
    join_names,
    make_output_dir,
    metrics_path_for,
    npz_feature_names,
    one_line,
    read_csv,
    read_data,
    read_npz,
    write_csv,
    write_json,
)


def text_file(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def csv_data(text, path="a.csv"):
    """A DataFile of CSV text without touching the disk (lines numbered from 2, after the header)."""
    header, *rows = [line.split(",") for line in text.strip().splitlines()]
    return DataFile(path, header=header, rows=rows, lines=list(range(2, len(rows) + 2)))


def npz_data(X, path="a.npz", **arrays):
    X = np.asarray(X, dtype=np.float64)
    return DataFile(path, X=X, arrays={"X": X, **arrays})


def fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tiny runs learn nothing: ConvergenceWarning
        return model.fit(X, y)


@pytest.fixture(scope="module")
def models():
    """Tiny fitted models: one-step rows, 2 steps x 3 features (StandardScaler, SequenceScaler, channels first)."""
    rng = np.random.RandomState(0)
    y = np.arange(20) % 2
    rows = rng.normal(size=(20, 3))
    seq = rng.normal(size=(20, 2, 3))

    def clf(**kw):
        return FastGRNNClassifier(hidden_dim=2, epochs=1, random_state=0, **kw)

    named = fit(make_pipeline(StandardScaler(), clf()), rows, y)
    named[0].feature_names_in_ = np.array(["a", "b", "c"], dtype=object)  # as the train command sets it
    return {
        "rows": fit(clf(), rows, y),
        "named": named,
        "std_seq": fit(make_pipeline(StandardScaler(), clf(n_timesteps=2)), seq.reshape(20, 6), y),
        "seq": fit(make_pipeline(SequenceScaler(n_timesteps=2), clf(n_timesteps=2)), seq.reshape(20, 6), y),
        "seq_cf": fit(make_pipeline(SequenceScaler(channels_first=True), clf()), np.swapaxes(seq, 1, 2), y),
    }


# --------------------------------------------------------------------- text helpers


def test_join_names_cuts_long_lists():
    assert join_names(["a", 1]) == "a, 1"
    assert join_names(range(10)) == "0, 1, 2, 3, 4, 5, 6, 7, ... (10 in all)"
    assert join_names(range(3), limit=3) == "0, 1, 2"


def test_one_line_collapses_whitespace():
    assert one_line(ValueError("a\n  b\tc ")) == "a b c"


# --------------------------------------------------------------------- DataFile


def test_data_file_csv_and_npz():
    data = csv_data("x,label\n1,0\n2,1")
    assert data.is_csv and not data.is_3d and len(data) == 2 and data.where(1) == "a.csv line 3"
    npz = npz_data(np.zeros((3, 4, 2)))
    assert not npz.is_csv and npz.is_3d and len(npz) == 3 and npz.where(2) == "a.npz: X[2]"
    assert npz.shape_text() == "X has shape (3, 4, 2), read as (n_samples, n_timesteps, n_features)"
    npz.channels_first = True
    assert npz.shape_text() == (
        "X has shape (3, 2, 4), read as (n_samples, n_features, n_timesteps) (--channels-first)"
    )


# --------------------------------------------------------------------- reading files


def test_check_readable(tmp_path):
    with pytest.raises(DataFileError, match="^nope.csv: no such file$"):
        check_readable("nope.csv")
    with pytest.raises(DataFileError, match="is a directory, expected a file"):
        check_readable(str(tmp_path))
    check_readable(text_file(tmp_path, "a.csv", "x\n1\n"))


def test_read_csv_skips_blank_lines_and_numbers_the_lines(tmp_path):
    path = text_file(tmp_path, "a.csv", "\ufeff a ,b,label\n\n1,2,yes\n , ,\n3,4,no\n\n")
    data = read_csv(path)
    assert data.header == ["a", "b", "label"]  # BOM and spaces stripped from the names
    assert data.rows == [["1", "2", "yes"], ["3", "4", "no"]] and data.lines == [3, 5]


def test_read_csv_reads_tsv_tab_separated(tmp_path):
    data = read_csv(text_file(tmp_path, "a.tsv", "a\tb\n1,5\t2\n"))
    assert data.header == ["a", "b"] and data.rows == [["1,5", "2"]]


@pytest.mark.parametrize(
    "content, message",
    [
        ("a,b\n1,2\n3\n", "a.csv line 3: 1 fields, but the header has 2"),
        ("", "a.csv: empty file (expected a header line and data rows)"),
        ("a,b\n", "a.csv: no data rows after the header"),
        ("a,a,b,b,c\n1,2,3,4,5\n", "a.csv: duplicate column names in the header: 'a', 'b'"),
        (b"\xff\xfe\x00\x81garbage", "a.csv: not a UTF-8 text file"),
        ("a\n" + "x" * 200_000 + "\n", "a.csv: not a valid CSV file (field larger than field limit"),
    ],
)
def test_read_csv_mistakes(tmp_path, content, message):
    path = text_file(tmp_path, "a.csv", content)
    with pytest.raises(DataFileError) as info:
        read_csv(path)
    assert str(info.value).startswith(path[: -len("a.csv")] + message)


def test_read_npz_converts_x_to_float64(tmp_path):
    np.savez(tmp_path / "a.npz", X=np.arange(6, dtype=np.int32).reshape(3, 2), y=np.array([0, 1, 0]))
    data = read_npz(str(tmp_path / "a.npz"))
    assert data.X.dtype == np.float64 and data.X.tolist() == [[0, 1], [2, 3], [4, 5]]
    assert sorted(data.arrays) == ["X", "y"] and data.header is None and not data.channels_first


@pytest.mark.parametrize(
    "arrays, message",
    [
        (dict(Z=np.zeros((2, 2))), "no array 'X' (arrays in the file: Z)"),
        (dict(X=np.array([["a", "b"]])), "array 'X' must be numeric, got dtype <U1"),
        (dict(X=np.zeros(3)), "array 'X' must have shape (n_samples, width) or"),
        (dict(X=np.zeros((0, 3))), "none of them 0; got (0, 3)"),
        (dict(X=np.array([[1.0], [-np.inf]])), "X[1] contains infinity"),
        (dict(X=np.array([[1, None]], dtype=object)), "cannot read the .npz file"),
    ],
)
def test_read_npz_mistakes(tmp_path, arrays, message):
    path = str(tmp_path / "a.npz")
    np.savez(path, **arrays)
    with pytest.raises(DataFileError) as info:
        read_npz(path)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)


def test_read_npz_refuses_files_that_are_not_zip_archives(tmp_path):
    path = text_file(tmp_path, "a.npz", "plain text")
    with pytest.raises(DataFileError, match="not a valid .npz file \\(expected a zip archive"):
        read_npz(path)


def test_read_data_picks_the_format_by_extension(tmp_path):
    assert read_data(text_file(tmp_path, "a.csv", "x,y\n1,0\n")).is_csv
    with open(tmp_path / "b.NPZ", "wb") as f:
        np.savez(f, X=np.zeros((2, 3)))
    assert not read_data(str(tmp_path / "b.NPZ")).is_csv


def test_read_data_channels_first_transposes_3d_x(tmp_path):
    X = np.arange(24.0).reshape(2, 3, 4)  # (n, D=3, T=4)
    np.savez(tmp_path / "cf.npz", X=X)
    data = read_data(str(tmp_path / "cf.npz"), channels_first=True)
    assert data.channels_first and data.X.shape == (2, 4, 3) and data.X.flags.c_contiguous
    np.testing.assert_array_equal(data.X, np.swapaxes(X, 1, 2))
    assert data.arrays["X"].shape == (2, 3, 4)  # the arrays as stored


def test_read_data_channels_first_needs_a_3d_npz(tmp_path):
    np.savez(tmp_path / "flat.npz", X=np.zeros((2, 3)))
    with pytest.raises(DataFileError, match=r"--channels-first applies to a 3-D X .*shape \(2, 3\)"):
        read_data(str(tmp_path / "flat.npz"), channels_first=True)
    with pytest.raises(DataFileError, match="--channels-first applies to a 3-D X in an .npz file; CSV rows"):
        read_data(text_file(tmp_path, "a.csv", "x\n1\n"), channels_first=True)


def test_npz_feature_names():
    assert npz_feature_names(npz_data(np.zeros((2, 2)))) is None
    data = npz_data(np.zeros((2, 2)), feature_names=np.array([["a"], ["b"]]))
    assert npz_feature_names(data) == ["a", "b"]
    with pytest.raises(DataFileError, match="'feature_names' has 1 names for 2 columns of a 2-D X$"):
        npz_feature_names(npz_data(np.zeros((2, 2)), feature_names=np.array(["a"])))
    with pytest.raises(DataFileError, match=r"\(3-D X takes no feature_names\)"):
        npz_feature_names(npz_data(np.zeros((2, 2, 1)), feature_names=np.array(["a", "b"])))


# --------------------------------------------------------------------- steps and values


def test_split_steps():
    data = csv_data("a\n1")
    assert split_steps(data, 12) == (1, 12)
    assert split_steps(data, 12, timesteps=3) == (3, 4)
    assert split_steps(data, 12, step_features=3) == (4, 3)
    assert split_steps(data, 12, timesteps=2, step_features=6) == (2, 6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(timesteps=5), "a.csv: 12 feature columns cannot be split into --timesteps 5 equal steps"),
        (dict(step_features=5), "a.csv: 12 feature columns cannot be split into steps of --step-features 5 values"),
        (dict(timesteps=2, step_features=5), "a.csv: 12 feature columns, but --timesteps 2 x --step-features 5 = 10"),
    ],
)
def test_split_steps_mistakes(kwargs, message):
    with pytest.raises(DataFileError) as info:
        split_steps(csv_data("a\n1"), 12, **kwargs)
    assert str(info.value).startswith(message)


def test_split_steps_counts_values_per_row_for_npz():
    with pytest.raises(DataFileError, match="^a.npz: 5 feature values per row cannot be split"):
        split_steps(npz_data(np.zeros((1, 5))), 5, timesteps=2)


def test_check_values_accepts_trailing_padding():
    check_values(npz_data(np.zeros((1, 1))), np.array([[1.0, 2.0, np.nan, np.nan]]), timesteps=2)
    check_values(npz_data(np.zeros((1, 1))), np.array([[[1.0], [np.nan]]]), timesteps=2)  # 3-D
    check_values(npz_data(np.zeros((1, 1))), np.ones((2, 3)), timesteps=1)


@pytest.mark.parametrize(
    "X, timesteps, message",
    [
        ([[1.0, 2.0], [np.nan, 2.0]], 1, "a.npz: X[1] contains NaN (missing values are not supported"),
        ([[1.0, np.nan, 3.0, 4.0]], 2, "a.npz: X[0]: step 1 is missing only some of its 2 values"),
        ([[np.nan, np.nan, np.nan, np.nan]], 2, "a.npz: X[0]: every step is empty (or nan)"),
        ([[1.0, 2.0, np.nan, np.nan, 5.0, 6.0]], 3, "a.npz: X[0]: step 3 follows an empty (padding) step"),
    ],
)
def test_check_values_mistakes(X, timesteps, message):
    with pytest.raises(DataFileError) as info:
        check_values(npz_data(np.zeros((1, 1))), np.array(X), timesteps)
    assert str(info.value).startswith(message)


def test_check_values_names_the_columns_of_a_step():
    data = csv_data("a0,b0,a1,b1\n1,2,3,4\n1,2,3,4")
    X = np.array([[1.0, 2.0, 3.0, 4.0], [np.nan, np.nan, 3.0, 4.0]])
    with pytest.raises(DataFileError, match=r"^a.csv line 3: step 2 \(a1, b1\) follows an empty"):
        check_values(data, X, 2, columns=data.header)


def test_numeric_columns_picks_columns_by_name():
    data = csv_data("id,b,a,label\nr1,2,1,x\nr2,4,3,y")
    assert numeric_columns(data, ["a", "b"]).tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_numeric_columns_reads_empty_and_nan_cells_as_padding_of_sequences():
    data = csv_data("a0,b0,a1,b1\n1,2,3,4\n5,6, ,\n7,8,nan,NaN")
    X = numeric_columns(data, data.header, timesteps=2)
    assert np.isnan(X[1:, 2:]).all() and X[:, :2].tolist() == [[1, 2], [5, 6], [7, 8]]


@pytest.mark.parametrize(
    "text, timesteps, message",
    [
        ("a,b\n1,2\n3,x\n", 1, "a.csv line 3: column 'b' is not numeric ('x'); every column except --target"),
        ("a,b\n1,2\n3,\n", 1, "a.csv line 3: column 'b' is empty (missing values are not supported"),
        ("a,b\n1,nan\n", 1, "a.csv line 2: column 'b' is 'nan' (must be finite)"),
        ("a,b\n1,-inf\n", 2, "a.csv line 2: column 'b' is '-inf' (must be finite)"),
        ("a,b\n1,x\n", 2, "(or empty / nan as padding after a sequence's end)"),
        ("a,b,c,d\n1,2,3,\n", 2, "a.csv line 2: step 2 (c, d) is missing only some of its 2 values"),
    ],
)
def test_numeric_columns_mistakes(text, timesteps, message):
    data = csv_data(text)
    with pytest.raises(DataFileError) as info:
        numeric_columns(data, data.header, timesteps)
    assert message in str(info.value)


# --------------------------------------------------------------------- labels


def test_parse_labels_ints_floats_strings():
    data = csv_data("label\n1\n2")
    assert parse_labels(["1", " 2 "], data, "label").dtype.kind == "i"
    assert parse_labels(["1", "2.5"], data, "label").tolist() == [1.0, 2.5]
    assert parse_labels(["yes", " no"], data, "label").tolist() == ["yes", "no"]
    with pytest.raises(DataFileError, match="^a.csv line 3: the label column 'label' is empty$"):
        parse_labels(["1", " "], data, "label")


def test_target_column_of_a_csv():
    data = csv_data("x,label\n1,0")
    assert target_column(data, "label", required=True) == "label"
    assert target_column(data, None, required=False) is None
    with pytest.raises(DataFileError, match=r"^a.csv: --target COLUMN is required \(columns: x, label\)$"):
        target_column(data, None, required=True)
    with pytest.raises(DataFileError, match=r"^a.csv: no column 'lbl' \(columns: x, label\)$"):
        target_column(data, "lbl", required=False)


def test_target_column_of_an_npz():
    data = npz_data(np.zeros((2, 1)), y=np.zeros(2), z=np.zeros(2))
    assert target_column(data, None, required=True) == "y"
    assert target_column(data, "z", required=True) == "z"
    assert target_column(npz_data(np.zeros((2, 1))), None, required=False) is None
    with pytest.raises(DataFileError, match=r"^a.npz: no label array 'w' \(arrays in the file: X, y, z\)$"):
        target_column(data, "w", required=False)


def test_raw_labels():
    assert raw_labels(csv_data("x,label\n1,a\n2,b"), "label") == ["a", "b"]
    assert raw_labels(npz_data(np.zeros((2, 1)), y=np.array([3, 4])), "y").tolist() == [3, 4]
    with pytest.raises(DataFileError, match=r"labels 'y' must be 1-D with one label per row of X, got shape \(3,\)"):
        raw_labels(npz_data(np.zeros((2, 1)), y=np.zeros(3)), "y")


# --------------------------------------------------------------------- training data


def test_training_data_from_a_csv():
    data = csv_data("a0,b0,label,a1,b1\n1,2,yes,3,4\n5,6,no,,")
    X, y, names, steps = training_data(data, "label", timesteps=2)
    assert names == ["a0", "b0", "a1", "b1"] and steps == (2, 2) and y.tolist() == ["yes", "no"]
    np.testing.assert_array_equal(X, [[1, 2, 3, 4], [5, 6, np.nan, np.nan]])


def test_training_data_needs_a_feature_column():
    with pytest.raises(DataFileError, match="no feature columns besides the target 'label'"):
        training_data(csv_data("label\n1"), "label")


def test_training_data_from_an_npz():
    X = np.arange(8.0).reshape(2, 4)
    data = npz_data(X, y=np.array(["a", "b"]), feature_names=np.array(list("pqrs")))
    X2, y, names, steps = training_data(data, None, step_features=2)
    assert X2 is data.X and y.tolist() == ["a", "b"] and names == list("pqrs") and steps == (2, 2)
    with pytest.raises(DataFileError, match="labels 'y' must be numbers or strings, got dtype complex128"):
        training_data(npz_data(X, y=np.array([1j, 2j])), None)


def test_training_data_flattens_a_3d_npz_and_checks_the_options():
    X = np.arange(24.0).reshape(2, 4, 3)
    data = npz_data(X, y=np.array([0, 1]))
    X2, _, names, steps = training_data(data, None, timesteps=4, step_features=3)
    assert X2.shape == (2, 12) and names is None and steps == (4, 3)
    with pytest.raises(DataFileError, match=r"\(n_samples, n_timesteps, n_features\): 4 timesteps, but --timesteps"):
        training_data(data, None, timesteps=3)
    with pytest.raises(DataFileError, match="3 features per timestep, but --step-features is 2"):
        training_data(data, None, step_features=2)


def test_training_data_warns_about_a_short_wide_3d_x():
    data = npz_data(np.zeros((2, 2, 5)), y=np.array([0, 1]))
    with pytest.warns(UserWarning, match="2 timestep\\(s\\) of 5 features; .* pass --channels-first"):
        training_data(data, None)
    data.channels_first = True  # read channels first on purpose: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        training_data(data, None)


# --------------------------------------------------------------------- model input


def test_final_estimator_and_accepts_any_length(models):
    assert final_estimator(models["rows"]) is models["rows"]
    assert final_estimator(models["seq"]) is models["seq"][-1]
    assert accepts_any_length(models["rows"]) and accepts_any_length(models["seq"])
    assert not accepts_any_length(models["std_seq"])


def test_model_input_takes_named_columns_in_any_order(models):
    data = csv_data("id,c,a,label,b\nr1,3,1,x,2")
    assert model_input(data, models["named"]).tolist() == [[1.0, 2.0, 3.0]]
    with pytest.raises(DataFileError, match=r"no column 'c', a feature the model was trained on \(its features: a"):
        model_input(csv_data("a,b\n1,2"), models["named"])


def test_model_input_without_names_takes_every_column_but_the_target(models):
    data = csv_data("a,b,label,c\n1,2,x,3")
    assert model_input(data, models["rows"], target="label").tolist() == [[1.0, 2.0, 3.0]]
    with pytest.raises(DataFileError, match=r"4 feature columns \(a, b, label, c\), but the model expects 3; pass"):
        model_input(data, models["rows"])
    with pytest.raises(DataFileError, match=r"but the model expects 6 \(2 timesteps x 3 features\)$"):
        model_input(data, models["seq"], target="label")


def test_model_input_of_a_2d_npz(models):
    assert model_input(npz_data(np.ones((2, 3))), models["rows"]).shape == (2, 3)
    with pytest.raises(DataFileError, match="X has 4 values per row, but the model expects 3$"):
        model_input(npz_data(np.ones((2, 4))), models["rows"])


def test_model_input_of_a_3d_npz(models):
    X = np.arange(24.0).reshape(2, 4, 3)  # 4 timesteps; the models were trained on 2
    np.testing.assert_array_equal(model_input(npz_data(X[:, :2]), models["seq"]), X[:, :2].reshape(2, 6))
    np.testing.assert_array_equal(model_input(npz_data(X), models["seq"]), X)  # any length stays 3-D
    np.testing.assert_array_equal(model_input(npz_data(X), models["seq_cf"]), np.swapaxes(X, 1, 2))
    with pytest.raises(DataFileError, match="X has 4 timesteps, the model was trained on 2; its StandardScaler"):
        model_input(npz_data(X), models["std_seq"])
    with pytest.raises(DataFileError, match="2 features per timestep, but the model was trained on 3$"):
        model_input(npz_data(np.ones((2, 4, 2))), models["seq"])
    with pytest.raises(DataFileError, match="trained on 3; if the file is .* pass --channels-first$"):
        model_input(npz_data(np.ones((2, 3, 4))), models["seq"])


def test_model_input_checks_the_padding(models):
    X = np.ones((1, 6))
    X[0, 1] = np.nan
    with pytest.raises(DataFileError, match=r"^a.npz: X\[0\]: step 1 is missing only some of its 3 values"):
        model_input(npz_data(X), models["seq"])


def test_true_labels_match_classes_by_text_or_value():
    data = csv_data("label\n1\n2.0\n 1")
    assert true_labels(data, "label", np.array([1, 2])).tolist() == [1, 2, 1]
    words = csv_data("label\nyes\nno")
    labels = true_labels(words, "label", np.array(["no", "yes"]))
    assert labels.tolist() == ["yes", "no"] and labels.dtype.kind == "U"
    with pytest.raises(DataFileError, match=r"^a.csv line 3: label 'no' is not one of the model's classes \(yes\)$"):
        true_labels(words, "label", np.array(["yes"]))
    npz = npz_data(np.zeros((2, 1)), y=np.array([0, 5]))
    with pytest.raises(DataFileError, match=r"^a.npz: y\[1\]: label '5' is not one of the model's classes"):
        true_labels(npz, None, np.array([0, 1]))


# --------------------------------------------------------------------- the task: classification or regression


def _labels(values, path="a.csv"):
    """A DataFile with a ``label`` column of len(values) rows (lines 2, 3, ...), and the values as an array."""
    rows = [["0", str(v)] for v in values]
    return DataFile(path, header=["x", "label"], rows=rows, lines=list(range(2, len(rows) + 2))), np.asarray(values)


@pytest.mark.parametrize(
    "values, task, why",
    [
        (["yes", "no", "yes"], "classification", "'label' holds text labels"),
        ([True, False], "classification", "'label' holds true/false labels"),
        ([0, 1, 1, 0], "classification", "'label' has 2 distinct whole-number values, at most 20"),
        ([0.0, 1.0, 2.0], "classification", "'label' has 3 distinct whole-number values, at most 20"),
        (list(range(MAX_AUTO_CLASSES)), "classification", "20 distinct whole-number values, at most 20"),
        (list(range(MAX_AUTO_CLASSES + 1)), "regression", "21 distinct whole-number values, more than 20"),
        ([1.0, 2.5, 2.0], "regression", "'label' has non-integer values such as 2.5"),
        ([0.1, 0.2], "regression", "non-integer values such as 0.1"),
    ],
)
def test_choose_task_auto_rule(values, task, why):
    data, y = _labels(values)
    y_out, chosen, reason = choose_task(data, "label", y)
    other = "classification" if task == "regression" else "regression"
    assert chosen == task
    assert reason.startswith("auto: ") and reason.endswith(f"; --task {other} to override") and why in reason
    if task == "regression":
        assert y_out.dtype == np.float64 and y_out.tolist() == [float(v) for v in values]
    else:
        assert y_out is y  # labels as they are


def test_choose_task_forced():
    data, y = _labels([0, 1, 1, 0])
    y_out, task, reason = choose_task(data, "label", y, task="regression")
    assert (task, reason) == ("regression", "--task regression") and y_out.dtype == np.float64
    data, y = _labels(list(range(30)))
    assert choose_task(data, "label", y, task="classification")[1:] == ("classification", "--task classification")
    npz = npz_data(np.zeros((3, 1)), y=np.array(["1.5", "2", "3"]))  # numbers stored as text: fine for regression
    assert choose_task(npz, None, npz.arrays["y"], task="regression")[0].tolist() == [1.5, 2.0, 3.0]


@pytest.mark.parametrize(
    "values, task, message",
    [
        (
            ["1.5", "abc", "2"],
            "regression",
            r"^a.csv line 3: target 'label' is 'abc', not a number \(--task regression",
        ),
        ([1.5, 2.5], "classification", r"^a.csv: --task classification: target 'label' has non-integer values such"),
        ([1.0, np.nan], "auto", r"^a.csv line 3: target 'label' is nan \(must be finite\)$"),
        ([1.0, np.inf], "regression", r"^a.csv line 3: target 'label' is inf \(must be finite\)$"),
        ([2.5, 2.5], "auto", r"^a.csv: the target 'label' is constant \(2.5\); nothing to learn$"),
        ([1, 1], "auto", r"^a.csv: the labels have a single class \(1\); need at least two$"),
        (["a", "a"], "classification", r"single class \(a\)"),
    ],
)
def test_choose_task_mistakes(values, task, message):
    data, y = _labels(values)
    with pytest.raises(DataFileError, match=message):
        choose_task(data, "label", y, task=task)


def test_choose_task_names_the_npz_row():
    npz = npz_data(np.zeros((3, 1)), y=np.array([1.0, 2.0, np.nan]))
    with pytest.raises(DataFileError, match=r"^a.npz: y\[2\]: target 'y' is nan"):
        choose_task(npz, None, npz.arrays["y"])


def test_two_dimensional_npz_targets_are_refused_with_a_hint():
    npz = npz_data(np.zeros((3, 1)), y=np.zeros((3, 2)))
    with pytest.raises(DataFileError, match=r"the command line trains one target; FastGRNNRegressor in Python"):
        training_data(npz, None)


def test_true_values():
    assert true_values(csv_data("label\n1.5\n 2\n-3e1"), "label").tolist() == [1.5, 2.0, -30.0]
    with pytest.raises(DataFileError, match=r"^a.csv line 3: target 'label' is 'x', not a number \(a regression"):
        true_values(csv_data("label\n1\nx"), "label")
    with pytest.raises(DataFileError, match=r"^a.csv line 2: target 'label' is empty"):
        true_values(DataFile("a.csv", header=["label"], rows=[[" "]], lines=[2]), "label")
    with pytest.raises(DataFileError, match=r"^a.csv line 2: target 'label' is nan \(must be finite\)"):
        true_values(csv_data("label\nnan"), "label")
    assert true_values(npz_data(np.zeros((2, 1)), y=np.array([1, 2])), None).dtype == np.float64


def test_true_targets_follow_the_model(models):
    rng = np.random.RandomState(0)
    one = fit(FastGRNNRegressor(hidden_dim=2, epochs=1, random_state=0), rng.normal(size=(20, 3)), rng.normal(size=20))
    two = fit(
        FastGRNNRegressor(hidden_dim=2, epochs=1, random_state=0), rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    )
    data = csv_data("a,b,c,label\n1,2,3,0.5\n1,2,3,1")
    assert true_targets(data, "label", make_pipeline(StandardScaler(), one)).tolist() == [0.5, 1.0]
    labels = csv_data("a,b,c,label\n1,2,3,0\n1,2,3,1.0")
    assert true_targets(labels, "label", models["rows"]).tolist() == [0, 1]  # the classifier's classes
    with pytest.raises(DataFileError, match="the model predicts 2 targets; the command line scores one column"):
        true_targets(data, "label", two)


# --------------------------------------------------------------------- writing files


def test_check_writable(tmp_path):
    check_writable("-")
    check_writable(str(tmp_path / "m.safetensors"), "model")
    with pytest.raises(DataFileError, match="is a directory; give the model file's name$"):
        check_writable(str(tmp_path), "model")
    with pytest.raises(DataFileError, match="cannot write the output: directory .* does not exist$"):
        check_writable(str(tmp_path / "no" / "p.csv"))


def test_check_writable_tries_to_create_a_file(tmp_path, monkeypatch):
    # os.access says yes to root for /proc; only creating a file tells
    def refuse(**kwargs):
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    with pytest.raises(DataFileError, match=r"cannot write the model: cannot create a file in .* \(No such file"):
        check_writable(str(tmp_path / "m.safetensors"), "model")
    check_writable("-")  # standard output: nothing to create


def test_check_writable_leaves_no_file_behind(tmp_path):
    check_writable(str(tmp_path / "m.safetensors"), "model", replaced=True)
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_check_writable_refuses_proc():
    with pytest.raises(DataFileError, match=r"^/proc/x.safetensors: cannot write the model"):
        check_writable("/proc/x.safetensors", "model", replaced=True)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_check_writable_written_in_place_or_replaced(tmp_path):
    fifo = str(tmp_path / "pipe")
    os.mkfifo(fifo)
    check_writable(fifo, "predictions")  # written in place: a pipe is fine
    with pytest.raises(DataFileError, match="pipe: cannot write the model: not a regular file"):
        check_writable(fifo, "model", replaced=True)  # a rename would replace it
    existing = text_file(tmp_path, "old.safetensors", "x")
    check_writable(existing, "model", replaced=True)


def test_check_model_writable_checks_the_metrics_file_too(tmp_path):
    model = str(tmp_path / "m.safetensors")
    check_model_writable(model)
    os.mkdir(metrics_path_for(model))
    with pytest.raises(DataFileError, match=r"m.metrics.json: is a directory; give the metrics file's name$"):
        check_model_writable(model)


def test_metrics_path_for():
    assert metrics_path_for("runs/router.safetensors") == "runs/router.metrics.json"
    assert metrics_path_for("R.SAFETENSORS") == "R.metrics.json" and metrics_path_for("m") == "m.metrics.json"


def test_write_json(tmp_path):
    write_json(str(tmp_path / "r.json"), {"a": [1, 2]})
    assert (tmp_path / "r.json").read_text() == '{\n  "a": [\n    1,\n    2\n  ]\n}\n'


def test_make_output_dir(tmp_path):
    make_output_dir(str(tmp_path / "a" / "b"))
    assert os.path.isdir(tmp_path / "a" / "b")
    make_output_dir(str(tmp_path / "a"))  # already there
    afile = text_file(tmp_path, "f", "x")
    with pytest.raises(DataFileError, match="exists and is not a directory$"):
        make_output_dir(afile)
    with pytest.raises(DataFileError, match="cannot create the output directory"):
        make_output_dir(os.path.join(afile, "sub"))


def test_write_csv_to_a_file_and_to_stdout(tmp_path, capsys):
    path = str(tmp_path / "p.csv")
    write_csv(path, ["prediction", "proba_a,b"], iter([["x", "0.5"]]))
    assert open(path, newline="").read() == 'prediction,"proba_a,b"\nx,0.5\n'
    write_csv("-", ["a"], [[1], [2]])
    assert capsys.readouterr().out == "a\n1\n2\n"
