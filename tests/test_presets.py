"""skfastgrnn._presets: the guide's recommended settings, latency timing and the demo's deployment report."""

import warnings

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfastgrnn import FastGRNNClassifier
from skfastgrnn._presets import GUIDE_SETTINGS, deployment_report, guide_settings, latency_us
from skfastgrnn.datasets import make_routing


@pytest.mark.parametrize(
    "n_train, name",
    [
        (0, "small datasets (< 1,000 samples)"),
        (999, "small datasets (< 1,000 samples)"),
        (1000, "medium datasets (1,000 - 10,000 samples)"),
        (9999, "medium datasets (1,000 - 10,000 samples)"),
        (10_000, "large datasets (> 10,000 samples)"),
        (10**9, "large datasets (> 10,000 samples)"),
    ],
)
def test_guide_settings_pick_the_row_by_size(n_train, name):
    assert guide_settings(n_train)[0] == name


def test_guide_settings_are_the_guides_values():
    assert guide_settings(500)[1] == dict(
        learning_rate=0.01,
        batch_size=16,
        epochs=100,
        validation_split=0.2,
        early_stopping_patience=10,
        lr_decay=0.8,
        lr_decay_step=20,
        l2_reg=1e-4,
    )
    assert guide_settings(5000)[1]["learning_rate"] == 0.005 and guide_settings(5000)[1]["batch_size"] == 32
    assert guide_settings(50_000)[1]["epochs"] == 30 and guide_settings(50_000)[1]["l2_reg"] == 1e-6


def test_guide_settings_return_a_copy():
    _, params = guide_settings(10)
    params["epochs"] = 1
    assert guide_settings(10)[1]["epochs"] == 100 and GUIDE_SETTINGS[0][2]["epochs"] == 100


def test_guide_settings_rows_are_ordered_and_end_unbounded():
    bounds = [below for _, below, _ in GUIDE_SETTINGS]
    assert bounds[-1] is None and bounds[:-1] == sorted(bounds[:-1])


@pytest.mark.parametrize("row", range(len(GUIDE_SETTINGS)))
def test_every_preset_is_a_valid_classifier_configuration(row):
    params = dict(GUIDE_SETTINGS[row][2], epochs=1)
    X, y = make_routing(80, random_state=0)
    assert set(params) <= set(FastGRNNClassifier().get_params())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one epoch: ConvergenceWarning
        clf = FastGRNNClassifier(hidden_dim=2, random_state=0, **params).fit(X, y)  # fit checks the values
    assert clf.n_iter_ == 1


class CountingModel:
    """predict_proba that counts its calls."""

    def __init__(self):
        self.calls = 0

    def predict_proba(self, X):
        self.calls += 1
        return np.zeros((len(X), 2))


def test_latency_us_warms_up_then_times_each_repeat():
    model = CountingModel()
    value = latency_us(model, np.zeros((1, 3)), repeats=7)
    assert isinstance(value, float) and value >= 0 and model.calls == 8


def test_latency_us_needs_a_repeat():
    with pytest.raises(ValueError, match="repeats must be at least 1, got 0"):
        latency_us(CountingModel(), np.zeros((1, 3)), repeats=0)


@pytest.fixture(scope="module")
def router():
    X, y = make_routing(200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(StandardScaler(), FastGRNNClassifier(hidden_dim=4, epochs=2, random_state=0)).fit(X, y)
    return model, X, y


KEYS = [
    "test_accuracy",
    "test_accuracy_int8",
    "n_parameters",
    "fp32_bytes",
    "int8_bytes",
    "latency_us_1_row",
    "latency_us_per_row_batch_32",
    "latency_us_1_row_network_only",
]


def test_deployment_report_measures_without_changing_the_model(router):
    model, X, y = router
    before = model.predict_proba(X)
    report = deployment_report(model, X[:40], y[:40])
    assert list(report) == KEYS
    assert report["test_accuracy"] == pytest.approx(model.score(X[:40], y[:40]))
    assert 0 <= report["test_accuracy_int8"] <= 1
    sizes = model[-1].size_report()
    assert (report["n_parameters"], report["fp32_bytes"], report["int8_bytes"]) == (
        sizes["n_parameters"],
        sizes["fp32_bytes"],
        sizes["int8_bytes"],
    )
    assert all(report[k] > 0 for k in KEYS[5:])
    assert not sizes["quantized"]  # the int8 accuracy came from a copy
    np.testing.assert_array_equal(model.predict_proba(X), before)


def test_deployment_report_of_a_bare_classifier_and_few_rows(router):
    model, X, y = router
    clf = model[-1]
    Z = model[0].transform(X)
    report = deployment_report(clf, Z[:5], y[:5])  # a batch smaller than 32
    assert list(report) == KEYS and report["test_accuracy"] == pytest.approx(clf.score(Z[:5], y[:5]))
