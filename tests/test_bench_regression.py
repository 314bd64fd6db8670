"""benchmarks/bench_regression.py and benchmarks/bench_stacked.py: the blocks are rendered from the committed JSON.

Fast: no training, and neither torch nor aeon is imported (the rendering reads the
results files only).
"""

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
GUIDE = ROOT / "docs" / "user_guide.md"
README = ROOT / "README.md"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_tested_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCH))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


@pytest.fixture(scope="module")
def reg():
    return _load("bench_regression")


@pytest.fixture(scope="module")
def stacked():
    return _load("bench_stacked")


ENV = {"python": "3.11", "numpy": "2", "machine": "x86_64", "cpus": 2, "threads": {"OMP_NUM_THREADS": "1"}}
INFO = {"n_train": 100, "n_test": 50, "length": 50, "channels": 1, "source": "generated"}


def _entry(values, key="r2", params=None, **extra):
    seeds = []
    for seed, value in enumerate(values):
        record = {"seed": seed, key: value, "seconds": 1.0, "n_parameters": 100}
        record.update({k: v[seed] for k, v in extra.items()})
        seeds.append(record)
    return {"params": params or {}, "notes": [], "quick": False, "seeds": seeds, "run": "r1", "wall_seconds": 1.0}


def fake_regression_doc():
    ours = dict(train_r2=[0.9, 0.9], n_iter=[100, 80], fold=[1, 1])
    speed = _entry([None], key="r2")
    speed["seeds"][0].update(
        regressor_us_per_row_epoch=10.0,
        classifier_us_per_row_epoch=9.0,
        ratio=10 / 9,
        fit_ratio=1.0,
        rows=100,
        epochs=10,
    )
    speed["params"] = {"epochs": 10, "repeats": 3}
    return {
        "format": 1,
        "runs": {"r1": {"environment": ENV, "command": "python benchmarks/bench_regression.py", "seeds": [0, 1]}},
        "results": {
            "product": {
                "info": INFO,
                "systems": {
                    "ours": _entry([0.8, 0.6], params={"hidden_dim": 32, "epochs": 100}, **ours),
                    "gru": _entry([0.9, 0.9], params={"hidden_dim": 32, "epochs": 100}, train_r2=[1, 1]),
                    "ridge": _entry([0.0], params={"alphas": "x"}, train_r2=[0.0]),
                    "speed": speed,
                },
            },
            "delayed_sum": {
                "info": INFO,
                "systems": {"ours": _entry([0.99, 0.97], params={"hidden_dim": 32, "epochs": 100}, **ours)},
            },
        },
    }


def test_regression_render_tables_targets_and_summary(reg):
    doc = fake_regression_doc()
    text = reg.render(doc)
    assert text == reg.render(copy.deepcopy(doc))
    assert "| delayed_sum | 100/50 | 50 x 1 | 0.980 ± 0.010 | — | — |" in text
    assert "| product | 100/50 | 50 x 1 | 0.700 ± 0.100 | 0.900 ± 0.000 | 0.000 |" in text
    assert text.index("| delayed_sum | 100/50") < text.index("| product | 100/50")  # the benchmark's order
    assert "| product | skfastgrnn | 0.7000 | 0.1000 | 0.6000 | 0.9000 | 1.00 | 90.0 | 100 |" in text
    assert "| product | 100 | 10.0 | 9.0 | 1.11x | 1.00x |" in text
    assert "- MISS: product: ours R^2 0.7000 >= torch nn.GRU 0.9000" in text
    assert "- PASS: product: ours R^2 0.7000 >= Ridge 0.0000" in text
    assert "- n/a: delayed_sum: ours R^2 >= torch nn.GRU (no results)" in text
    assert "- PASS: product: regressor training time per row 1.11x the classifier's (<= 1.2x)" in text
    assert "- r1 (ours, gru, ridge, speed): python 3.11, numpy 2" in text
    line = reg.summary(doc)
    assert "delayed_sum: skfastgrnn 0.980; product: skfastgrnn 0.700, torch nn.GRU 0.900, Ridge 0.000" in line
    assert "ours' R^2 >= torch nn.GRU on 0 of 1, >= Ridge on 1 of 1" in line
    assert "within 1.2x of the classifier's on 1 of 1." in line


def test_regression_blocks_round_trip_and_check(reg, tmp_path, capsys):
    results = tmp_path / "regression.json"
    results.write_text(json.dumps(fake_regression_doc()))
    page = tmp_path / "page.md"
    page.write_text(
        "# t\n\n<!-- regression:start -->\nold\n<!-- regression:end -->\n\n"
        "<!-- regression-summary:start -->\n<!-- regression-summary:end -->\n"
    )
    assert reg.main(["--check", str(page), "--json", str(results)]) == 1
    assert reg.main(["--render", "--doc", str(page), "--json", str(results)]) == 0
    assert reg.main(["--check", str(page), "--json", str(results)]) == 0
    assert "Issue 12's targets" in page.read_text() and "| product | skfastgrnn |" in page.read_text()
    stale = fake_regression_doc()
    stale["results"]["product"]["systems"]["gru"]["seeds"][0]["r2"] = 0.1
    results.write_text(json.dumps(stale))
    assert reg.main(["--check", str(page), "--json", str(results)]) == 1
    assert "differs from its results file" in capsys.readouterr().err


@pytest.mark.parametrize("page", [GUIDE, README], ids=["user_guide", "README"])
def test_regression_blocks_are_current(reg, page, capsys):
    status = reg.main(["--check", str(page)])
    assert status == 0, capsys.readouterr().err


def test_committed_regression_results_use_todays_defaults(reg):
    from skfastgrnn import FastGRNNRegressor

    doc = json.loads(reg.DEFAULT_JSON.read_text())
    today = {k: v for k, v in FastGRNNRegressor().get_params().items() if k != "random_state"}
    today = reg.bench_ucr._jsonable(today)
    for name, block in doc["results"].items():
        for system, changed in (("ours", {}), ("ours_stacked", {"hidden_dim": list(reg.STACKED)})):
            entry = block["systems"].get(system)
            if entry is None:
                continue
            recorded = {k: v for k, v in entry["params"].items() if k != "scaler"}
            assert recorded == {**today, **changed}, (
                f"{name} {system} ran with other settings than today's defaults: rerun "
                "python benchmarks/bench_regression.py --systems ours,ours_stacked --merge "
                "--doc docs/user_guide.md --doc README.md"
            )


def test_stacked_block_is_current(stacked, capsys):
    status = stacked.main(["--check", str(GUIDE)])
    assert status == 0, capsys.readouterr().err


def test_stacked_results_use_todays_defaults(stacked):
    from skfastgrnn import FastGRNNClassifier

    doc = json.loads(stacked.RESULTS.read_text())
    assert stacked.stale_against(doc, FastGRNNClassifier().get_params()) == [], (
        "the classifier's defaults changed: rerun python benchmarks/bench_stacked.py --doc docs/user_guide.md"
    )


def test_stacked_render_ratio_and_target(stacked):
    def entry(acc, seconds, n_iter, n_parameters, hidden):
        e = _entry([acc], key="accuracy", params={"hidden_dim": hidden, "epochs": 100})
        e["seeds"][0].update(seconds=seconds, n_iter=n_iter, n_parameters=n_parameters, int8_accuracy=acc)
        e["seeds"][0]["epoch_seconds_min"] = seconds / n_iter
        return e

    info = {"min_length": 24, "max_length": 24, "channels": 1}
    doc = {
        "format": 1,
        "runs": {"r1": {"environment": ENV}},
        "results": {
            "Chinatown": {
                "info": info,
                # single: 1 s / 100 epochs / 1000 parameters; stacked: 4 s / 100 epochs / 2000: 2x per parameter
                "systems": {"single": entry(0.9, 1.0, 100, 1000, 32), "stacked": entry(0.8, 4.0, 100, 2000, [32, 16])},
            }
        },
    }
    text = stacked.render(doc)
    assert "| Chinatown | 24 x 1 | 0.900 (0.900) | 0.800 (0.800) | 0.900 | 0.800 |" in text
    assert "| Chinatown | 1,000 | 2,000 | 1.00 | 4.00 | 100 | 100 | 0.0100 | 0.0400 | 2.00x |" in text
    assert "- MISS: Chinatown: stacked time per parameter 2.00x the single layer's (<= 1.5x)" in text


def test_rendering_imports_neither_torch_nor_aeon():
    code = (
        "import importlib.util, sys\n"
        f"sys.path.insert(0, {str(BENCH)!r})\n"
        "for name in ('bench_regression', 'bench_stacked'):\n"
        f"    spec = importlib.util.spec_from_file_location(name, {str(BENCH)!r} + '/' + name + '.py')\n"
        "    module = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(module)\n"
        f"    module.main(['--check', {str(GUIDE)!r}])\n"
        "assert 'torch' not in sys.modules and 'aeon' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
