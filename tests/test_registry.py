"""ModelRegistry: versions, checksums, best/latest, and two processes registering at once."""

import json
import multiprocessing
import sys

import numpy as np
import pytest
from conftest import quiet_fit, tiny
from sklearn.datasets import make_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfastgrnn import ModelFileError, ModelRegistry


@pytest.fixture(scope="module")
def fitted():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    clf = quiet_fit(tiny(), X, y)
    pipe = quiet_fit(make_pipeline(StandardScaler(), tiny(random_state=1)), X * 10 + 3, y)
    return X, clf, pipe


def test_register_list_load(tmp_path, fitted):
    X, clf, pipe = fitted
    registry = ModelRegistry(tmp_path / "reg")
    assert registry.list() == []
    with pytest.raises(LookupError, match="no model yet"):
        registry.load()
    e1 = registry.register(clf, test_accuracy=0.9)
    e2 = registry.register(pipe, test_accuracy=0.95, metrics={"note": "pipeline", "f1": 0.93})
    e3 = registry.register(clf)
    assert [e["version"] for e in registry.list()] == ["v1", "v2", "v3"]
    assert e1["model_path"] == "models/fastgrnn_v1.safetensors" and e2["kind"] == "Pipeline"
    assert e1["model_size_bytes"] == (tmp_path / "reg" / e1["model_path"]).stat().st_size == clf.size_bytes()
    assert set(e1["sha256"]) == {"model", "metrics"} and e1["timestamp"] <= e3["timestamp"]
    assert registry.entry("best")["version"] == "v2"
    assert registry.entry("latest")["version"] == "v3"
    np.testing.assert_array_equal(registry.load("v1").predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(registry.load("best").predict_proba(X * 10 + 3), pipe.predict_proba(X * 10 + 3))
    assert registry.metrics("v2") == {"note": "pipeline", "f1": 0.93}
    assert len(registry.metrics("v1")["history"]) == clf.n_iter_  # default: the training history
    with pytest.raises(LookupError, match="no version 'v9'.*v1, v2, v3"):
        registry.load("v9")
    with pytest.raises(ValueError, match="test_accuracy"):
        registry.register(clf, test_accuracy=1.5)
    with pytest.raises(TypeError, match="cannot register"):
        registry.register(StandardScaler())
    assert len(registry.list()) == 3


def test_best_needs_an_accuracy(tmp_path, fitted):
    registry = ModelRegistry(tmp_path)
    registry.register(fitted[1])
    with pytest.raises(LookupError, match="no entry has a test_accuracy"):
        registry.entry("best")


def test_load_refuses_a_modified_file(tmp_path, fitted):
    registry = ModelRegistry(tmp_path)
    entry = registry.register(fitted[1], test_accuracy=0.5)
    path = tmp_path / entry["model_path"]
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="fastgrnn_v1.safetensors: sha256 .* refusing"):
        registry.load("v1")
    (tmp_path / entry["metrics_path"]).write_text("{}")
    with pytest.raises(ModelFileError, match="metrics_v1.json: sha256"):
        registry.metrics("v1")


def test_bad_manifest(tmp_path, fitted):
    registry = ModelRegistry(tmp_path)
    registry.register(fitted[1])
    manifest = tmp_path / "manifest.json"
    doc = json.loads(manifest.read_text())
    for bad, message in [
        ("{", "not JSON"),
        (json.dumps({"format": "x"}), "not a skfastgrnn registry"),
        (json.dumps({**doc, "format_version": 3}), "version 3.*upgrade"),
        (json.dumps({**doc, "entries": [{**doc["entries"][0], "model_path": "../../etc/passwd"}]}), "malformed"),
    ]:
        manifest.write_text(bad)
        with pytest.raises(ModelFileError, match=message):
            registry.list()


def _register_many(directory, clf, worker, n, barrier):
    registry = ModelRegistry(directory)
    barrier.wait()
    for i in range(n):
        registry.register(clf, test_accuracy=(worker * 100 + i) / 1000)


def test_two_processes_register_at_once(tmp_path, fitted):
    X, clf, _ = fitted
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    barrier = ctx.Barrier(2)
    n = 20
    workers = [ctx.Process(target=_register_many, args=(str(tmp_path), clf, w, n, barrier)) for w in (1, 2)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=60)
        assert p.exitcode == 0
    registry = ModelRegistry(tmp_path)
    entries = registry.list()
    assert sorted(e["version"] for e in entries) == sorted(f"v{i}" for i in range(1, 2 * n + 1))
    # no entry lost: every (worker, i) registered exactly once
    assert sorted(e["test_accuracy"] for e in entries) == sorted((w * 100 + i) / 1000 for w in (1, 2) for i in range(n))
    for e in entries:
        np.testing.assert_array_equal(registry.load(e["version"]).predict(X), clf.predict(X))
    assert registry.entry("best")["test_accuracy"] == 0.219
