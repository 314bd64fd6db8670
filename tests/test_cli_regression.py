"""The ``skfastgrnn`` command line with regression models: --task, train, predict, evaluate, compress, info."""

import csv
import os
import warnings

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

import skfastgrnn
from skfastgrnn.cli import main, metrics_path_for

FAST = ["--epochs", "5", "--hidden-dim", "4", "--quiet"]

pytestmark = pytest.mark.filterwarnings("ignore:X does not have valid feature names")


def run(capsys, *argv):
    """main(argv) -> (exit status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def write_table(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def read_table(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    """A CSV with a real-valued target ``price``, and the regression model ``train`` fits on it."""
    d = tmp_path_factory.mktemp("reg")
    rng = np.random.RandomState(0)
    X = np.round(rng.normal(size=(160, 3)), 6)
    y = np.round(3 * X[:, 0] - 2 * X[:, 1] + 50 + 0.1 * rng.normal(size=160), 4)
    data = write_table(d / "houses.csv", ["a", "b", "c", "price"], [[*x, t] for x, t in zip(X, y, strict=True)])
    model = str(d / "price.safetensors")
    status = main(
        ["train", data, "--target", "price", "--out", model, "--epochs", "30", "--hidden-dim", "8", "--quiet"]
    )
    assert status == 0
    return {"dir": d, "X": X, "y": y, "csv": data, "model": model}


# --------------------------------------------------------------------- train


def test_train_detects_regression_and_says_why(reg, tmp_path, capsys):
    status, out, err = run(capsys, "train", reg["csv"], "--target", "price", "--out", tmp_path / "m.safetensors", *FAST)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("task: regression (auto: 'price' has non-integer values such as ")
    assert lines[0].endswith("; --task classification to override)")
    assert "target mean 50" in lines[1] and "classes" not in out
    assert "validation" not in lines[3] and "training loss" in lines[3] and "0.5 = predicting the mean" in lines[3]


def test_train_saves_a_regressor_pipeline_with_its_metrics(reg):
    model = skfastgrnn.load(reg["model"])
    assert [type(s).__name__ for _, s in model.steps] == ["StandardScaler", "FastGRNNRegressor"]
    reg_ = model[-1]
    assert reg_.n_outputs_ == 1 and not hasattr(reg_, "classes_") and reg_.hidden_dim == 8
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    reg_.load_metrics(metrics_path_for(reg["model"]))
    assert len(reg_.history_) == 30 and reg_.history_[-1]["train_accuracy"] is None
    assert model.score(reg["X"], reg["y"]) > 0.8  # learned something in 30 epochs


def test_many_whole_numbers_are_regression_few_are_classification(reg, tmp_path, capsys):
    X = reg["X"]
    ages = write_table(tmp_path / "ages.csv", ["a", "b", "c", "age"], [[*x, 20 + i % 30] for i, x in enumerate(X)])
    status, out, _ = run(capsys, "train", ages, "--target", "age", "--out", tmp_path / "a.safetensors", *FAST)
    assert status == 0 and out.startswith("task: regression (auto: 'age' has 30 distinct whole-number values, more")
    assert type(skfastgrnn.load(tmp_path / "a.safetensors")[-1]).__name__ == "FastGRNNRegressor"
    stars = write_table(tmp_path / "stars.csv", ["a", "b", "c", "stars"], [[*x, 1 + i % 5] for i, x in enumerate(X)])
    status, out, _ = run(capsys, "train", stars, "--target", "stars", "--out", tmp_path / "s.safetensors", *FAST)
    assert status == 0 and out.startswith("task: classification (auto: 'stars' has 5 distinct whole-number values")
    assert skfastgrnn.load(tmp_path / "s.safetensors")[-1].classes_.tolist() == [1, 2, 3, 4, 5]
    # the same stars as a quantity
    status, out, _ = run(
        capsys, "train", stars, "--target", "stars", "--task", "regression", "--out", tmp_path / "q.safetensors", *FAST
    )
    assert status == 0 and out.startswith("task: regression (--task regression)")
    assert type(skfastgrnn.load(tmp_path / "q.safetensors")[-1]).__name__ == "FastGRNNRegressor"


def test_text_labels_are_classification(reg, tmp_path, capsys):
    rows = [[*x, "high" if t > 50 else "low"] for x, t in zip(reg["X"], reg["y"], strict=True)]
    data = write_table(tmp_path / "t.csv", ["a", "b", "c", "level"], rows)
    status, out, _ = run(capsys, "train", data, "--target", "level", "--out", tmp_path / "t.safetensors", *FAST)
    assert status == 0 and out.startswith("task: classification (auto: 'level' holds text labels; --task regression")


def test_regression_on_3d_sequences_uses_a_sequence_scaler(tmp_path, capsys):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(80, 5, 2))
    y = X[:, :, 0].sum(axis=1) + 0.5 * X[:, -1, 1]
    np.savez(tmp_path / "seq.npz", X=X, y=y)
    out = tmp_path / "seq.safetensors"
    status, stdout, err = run(capsys, "train", tmp_path / "seq.npz", "--out", out, "--batch-size", "auto", *FAST)
    assert status == 0, err
    assert stdout.startswith("task: regression (auto: 'y' has non-integer values")
    model = skfastgrnn.load(out)
    assert isinstance(model[0], skfastgrnn.SequenceScaler) and model[-1].n_timesteps_ == 5
    status, stdout, _ = run(capsys, "evaluate", out, tmp_path / "seq.npz")
    assert status == 0 and f"R^2: {r2_score(y, model.predict(X)):.4f}" in stdout
    np.savez(tmp_path / "longer.npz", X=rng.normal(size=(4, 7, 2)))  # any length: SequenceScaler only
    assert run(capsys, "predict", out, tmp_path / "longer.npz", "--out", tmp_path / "p.csv")[0] == 0
    assert len(read_table(tmp_path / "p.csv")[1]) == 4


# --------------------------------------------------------------------- predict, evaluate, compress, info


def test_predict_writes_the_values_exactly(reg, tmp_path, capsys):
    out = tmp_path / "p.csv"
    status, stdout, _ = run(capsys, "predict", reg["model"], reg["csv"], "--out", out)
    assert status == 0 and "wrote 160 predictions" in stdout and "(columns: prediction)" in stdout
    header, rows = read_table(out)
    assert header == ["prediction"] and len(rows) == 160
    expected = skfastgrnn.load(reg["model"]).predict(reg["X"])
    assert [float(r[0]) for r in rows] == expected.tolist()  # every digit: reads back exactly


def test_predict_to_stdout(reg, capsys):
    status, out, _ = run(capsys, "predict", reg["model"], reg["csv"], "--out", "-")
    lines = out.splitlines()
    assert status == 0 and lines[0] == "prediction" and len(lines) == 161


def test_evaluate_prints_r2_mae_rmse(reg, capsys):
    status, out, _ = run(capsys, "evaluate", reg["model"], reg["csv"], "--target", "price")
    assert status == 0
    predicted = skfastgrnn.load(reg["model"]).predict(reg["X"])
    assert out.splitlines() == [
        f"{reg['model']} on {reg['csv']}: 160 rows",
        f"R^2: {r2_score(reg['y'], predicted):.4f}",
        f"MAE: {mean_absolute_error(reg['y'], predicted):.4f}",
        f"RMSE: {root_mean_squared_error(reg['y'], predicted):.4f}",
    ]
    assert "accuracy" not in out and "confusion" not in out


def test_evaluate_names_a_target_that_is_not_a_number(reg, tmp_path, capsys):
    rows = [[*x, t] for x, t in zip(reg["X"][:3], ["1.5", "n/a", "2"], strict=True)]
    data = write_table(tmp_path / "bad.csv", ["a", "b", "c", "price"], rows)
    status, _, err = run(capsys, "evaluate", reg["model"], data, "--target", "price")
    assert status == 1
    assert err == (
        f"skfastgrnn: error: {data} line 3: target 'price' is 'n/a', not a number "
        "(a regression model is scored on numbers)\n"
    )


def test_compress_reports_r2_before_and_after(reg, tmp_path, capsys):
    out = tmp_path / "small.safetensors"
    status, stdout, err = run(
        capsys, "compress", reg["model"], "--prune", 0.3, "--quantize", "--out", out, "--data", reg["csv"],
        "--target", "price",
    )  # fmt: skip
    assert status == 0, err
    (row,) = [line for line in stdout.splitlines() if "on houses.csv" in line]
    before, after = (float(v) for v in row.split()[-2:])
    assert row.split()[0] == "R^2" and before == pytest.approx(
        r2_score(reg["y"], skfastgrnn.load(reg["model"]).predict(reg["X"])), abs=1e-4
    )
    assert after == pytest.approx(r2_score(reg["y"], skfastgrnn.load(out).predict(reg["X"])), abs=1e-4)
    assert os.path.isfile(metrics_path_for(str(out)))
    assert skfastgrnn.load(out)[-1].size_report()["quantized"]


def test_info_shows_outputs_instead_of_classes(reg, capsys):
    status, out, _ = run(capsys, "info", reg["model"])
    assert status == 0
    assert "  kind: Pipeline(StandardScaler, FastGRNNRegressor)" in out and "classes" not in out
    assert "  outputs: 1 (regression; predictions in the target's units; the training target had mean 50" in out
    assert "(kept): train_loss" in out and "accuracy" not in out and "0.5 = predicting the mean" in out


def test_a_multi_output_model_from_python(reg, tmp_path, capsys):
    # the command line trains one target; a model with several, fitted in Python, still predicts and describes
    Y = np.column_stack([reg["y"], -reg["y"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one epoch: ConvergenceWarning
        model = skfastgrnn.FastGRNNRegressor(hidden_dim=2, epochs=1, random_state=0).fit(reg["X"], Y)
    path = str(tmp_path / "two.safetensors")
    skfastgrnn.save(model, path)
    assert run(capsys, "predict", path, reg["csv"], "--target", "price", "--out", tmp_path / "p.csv")[0] == 0
    header, rows = read_table(tmp_path / "p.csv")
    assert header == ["prediction_1", "prediction_2"] and len(rows) == 160
    status, out, _ = run(capsys, "info", path)
    assert status == 0 and "  outputs: 2 (regression; " in out and "kind: FastGRNNRegressor" in out
    status, _, err = run(capsys, "evaluate", path, reg["csv"], "--target", "price")
    assert status == 1 and "the model predicts 2 targets; the command line scores one column" in err


# --------------------------------------------------------------------- mistakes


@pytest.mark.parametrize(
    "name, rows, options, message",
    [
        ("text", [["1", "x"], ["2", "1.5"]], ["--task", "regression"], "line 2: target 'y' is 'x', not a number"),
        ("fractions", [["1", "0.5"], ["2", "1.5"]], ["--task", "classification"], "has non-integer values such as 0.5"),
        ("constant", [["1", "2.5"], ["2", "2.5"]], [], "the target 'y' is constant (2.5); nothing to learn"),
        ("nan", [["1", "2.5"], ["2", "nan"]], [], "line 3: target 'y' is nan (must be finite)"),
        ("bad task", [["1", "2.5"], ["2", "1"]], ["--task", "regresion"], "argument --task: invalid choice"),
    ],
)
def test_targets_that_do_not_fit_the_task(tmp_path, capsys, name, rows, options, message):
    data = write_table(tmp_path / "d.csv", ["x", "y"], rows)
    status, _, err = run(capsys, "train", data, "--target", "y", "--out", tmp_path / "m.safetensors", *options, *FAST)
    assert status == (2 if name == "bad task" else 1)
    assert len(err.splitlines()) == 1 and err.startswith("skfastgrnn: error: ") and message in err
    assert not (tmp_path / "m.safetensors").exists()


def test_two_dimensional_targets_in_an_npz(tmp_path, capsys):
    np.savez(tmp_path / "two.npz", X=np.zeros((6, 2)), y=np.zeros((6, 2)))
    status, _, err = run(capsys, "train", tmp_path / "two.npz", "--out", tmp_path / "m.safetensors", *FAST)
    assert status == 1 and "the command line trains one target; FastGRNNRegressor in Python takes several" in err


def test_bad_option_value_names_the_regressor_when_the_task_is_regression(reg, tmp_path, capsys):
    status, _, err = run(
        capsys, "train", reg["csv"], "--target", "price", "--task", "regression", "--hidden-dim", 0, "--out",
        tmp_path / "m.safetensors",
    )  # fmt: skip
    assert status == 2 and err.startswith("skfastgrnn: error: argument --hidden-dim: invalid value 0 (")
    assert "FastGRNNRegressor" in err
