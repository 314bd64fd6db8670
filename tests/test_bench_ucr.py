"""benchmarks/bench_ucr.py: the README block is rendered from the committed JSON alone.

Fast: no training, and neither torch nor aeon is imported (the rendering reads the
results file only).
"""

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "bench_ucr.py"
README = ROOT / "README.md"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_ucr", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _entry(accuracies, seconds=1.0, bytes_fp32=1000, params=None, **extra):
    seeds = []
    for seed, acc in enumerate(accuracies):
        record = {"seed": seed, "accuracy": acc, "seconds": seconds, "bytes_fp32": bytes_fp32}
        for key, values in extra.items():
            record[key] = values[seed]
        seeds.append(record)
    return {"params": params or {}, "notes": [], "quick": False, "seeds": seeds, "run": "r1", "wall_seconds": 1.0}


OURS_PARAMS = {"hidden_dim": 16, "epochs": 100, "validation_split": 0.1, "scaler": {"channels_first": True}}
GRU_PARAMS = {"hidden_dim": 16, "epochs": 100, "batch_size": 32, "learning_rate": 0.01}
INFO = {"n_train": 20, "n_test": 22, "channels": 1, "min_length": 24, "max_length": 24, "classes": 2, "source": "x"}
ENV = {"python": "3.11", "numpy": "2", "machine": "x86_64", "cpus": 2, "threads": {"OMP_NUM_THREADS": "1"}}


def fake_doc():
    ours = dict(bytes_int8=[300, 300], int8_accuracy=[0.944, 0.904], n_iter=[40, 60])
    return {
        "format": 1,
        "runs": {"r1": {"environment": ENV, "command": "python benchmarks/bench_ucr.py", "seeds": [0, 1]}},
        "results": {
            "Chinatown": {
                "info": INFO,
                "systems": {
                    "ours": _entry([0.95, 0.91], bytes_fp32=1200, params=OURS_PARAMS, **ours),
                    "gru": _entry([0.90, 0.80], bytes_fp32=4000, params=GRU_PARAMS),
                    "minirocket": _entry([0.97, 0.97], bytes_fp32=80000),
                },
            },
            "JapaneseVowels": {
                "info": dict(INFO, min_length=7, max_length=29, channels=12, classes=9),
                "systems": {
                    "ours": _entry([0.81, 0.85], bytes_fp32=5000, params=OURS_PARAMS, **ours),
                    "gru": _entry([0.90, 0.92], bytes_fp32=6000, params=GRU_PARAMS),
                },
            },
        },
    }


def test_render_tables_and_targets(bench):
    text = bench.render(fake_doc())
    assert text == bench.render(fake_doc())  # deterministic
    assert "| Chinatown | 20/22 | 24 x 1 | 2 | 0.930 (0.910) | 0.924 (0.904) | 0.850 (0.800) | 0.970 (0.970) |" in text
    assert "| JapaneseVowels | 20/22 | 7-29 x 12 | 9 | 0.830 (0.810) | 0.924 (0.904) | 0.910 (0.900) | — |" in text
    assert text.index("| JapaneseVowels | 20/22") < text.index("| Chinatown | 20/22")  # the benchmark's order
    assert "| mean over data sets |  |  |  | 0.880 | 0.924 | 0.880 | 0.970 (1 of 2 sets) |" in text
    assert "| Chinatown | skfastgrnn | 0.9300 | 0.9100 | 1.00 | 50.0 | 1,200 | 300 | 0.9240 |" in text
    assert "- PASS: Chinatown: ours 0.9300 >= torch GRU 0.8500" in text
    assert "- MISS: JapaneseVowels: ours 0.8300 >= torch GRU 0.9100" in text
    assert "- MISS: mean over 1 data set: ours 0.9300 within 2 points of MiniRocket 0.9700" in text
    assert "- PASS: Chinatown: ours 1,200 fp32 bytes <= MiniRocket 80,000 / 20" in text
    assert "- n/a: JapaneseVowels: ours fp32 bytes <= MiniRocket bytes / 20" in text
    assert "- PASS: Chinatown: ours int8 0.9240 within 1 point of fp32 0.9300" in text
    assert "STALE" not in text
    assert "- r1 (ours, gru, minirocket): python 3.11, numpy 2" in text


def test_render_flags_stale_rows(bench):
    doc = fake_doc()
    doc["results"]["Chinatown"]["systems"]["ours"]["params"] = dict(OURS_PARAMS, hidden_dim=32)
    text = bench.render(doc)
    assert "STALE: skfastgrnn ran with other settings on" in text
    assert "STALE: torch nn.GRU on Chinatown ran at hidden 16" in text
    doc = fake_doc()
    doc["results"]["Chinatown"]["systems"]["gru"]["quick"] = True
    assert "QUICK smoke-run numbers" in bench.render(doc)


def test_merge_replaces_only_the_rerun_entries(bench):
    old = fake_doc()
    new_ours = _entry([0.99, 0.99], params=OURS_PARAMS)
    new = {"Chinatown": {"info": INFO, "systems": {"ours": new_ours}}}
    doc = bench.merge(old, new, "r2", {"environment": ENV}, replace=False)
    systems = doc["results"]["Chinatown"]["systems"]
    assert systems["ours"]["run"] == "r2" and systems["ours"]["seeds"][0]["accuracy"] == 0.99
    assert systems["gru"] == old["results"]["Chinatown"]["systems"]["gru"]
    assert set(doc["runs"]) == {"r1", "r2"}
    alone = bench.merge(old, new, "r2", {"environment": ENV}, replace=True)
    assert list(alone["results"]) == ["Chinatown"] and set(alone["runs"]) == {"r2"}
    assert json.loads(bench.dump_json(doc)) == doc


def test_block_round_trip_and_check(bench, tmp_path, capsys):
    results = tmp_path / "ucr.json"
    results.write_text(bench.dump_json(fake_doc()))
    page = tmp_path / "page.md"
    page.write_text(f"# title\n\n{bench.START}\nold\n{bench.END}\n\ntail\n")
    assert bench.main(["--render", "--readme", str(page), "--json", str(results)]) == 0
    assert page.read_text().startswith("# title\n\n<!-- ucr:start -->\n#### Measured\n")
    assert page.read_text().endswith(f"{bench.END}\n\ntail\n")
    assert bench.main(["--check", str(page), "--json", str(results)]) == 0
    stale = copy.deepcopy(fake_doc())
    stale["results"]["Chinatown"]["systems"]["gru"]["seeds"][0]["accuracy"] = 0.5
    results.write_text(bench.dump_json(stale))
    assert bench.main(["--check", str(page), "--json", str(results)]) == 1
    assert "differs from the rendering" in capsys.readouterr().err


def test_readme_block_is_current(bench):
    if bench.START not in README.read_text():
        pytest.skip("README.md has no ucr block yet")
    stale = "README.md's ucr block differs from benchmarks/results/ucr.json (diff above); refresh it with "
    stale += "python benchmarks/bench_ucr.py --render --readme README.md"
    assert bench.main(["--check", str(README)]) == 0, stale


def test_committed_ours_rows_use_todays_defaults(bench):
    doc = json.loads(bench.DEFAULT_JSON.read_text()) if bench.DEFAULT_JSON.exists() else None
    if not doc or not bench._entries(doc, "ours"):
        pytest.skip("no committed results of ours yet")
    from skfastgrnn import FastGRNNClassifier

    stale = bench.stale_against(doc, FastGRNNClassifier().get_params())
    assert not stale, "rerun python benchmarks/bench_ucr.py --systems ours --merge --readme README.md:\n" + "\n".join(
        stale
    )


def test_stale_against_names_changed_defaults(bench):
    doc = fake_doc()
    defaults = {k: v for k, v in OURS_PARAMS.items() if k != "scaler"}
    assert bench.stale_against(doc, dict(defaults, random_state=0)) == []
    stale = bench.stale_against(doc, dict(defaults, hidden_dim=32))
    assert stale == [
        f"{name}: ours ran with other settings than today's defaults (hidden_dim: 16 -> 32)"
        for name in ("Chinatown", "JapaneseVowels")
    ]


def test_rendering_imports_neither_torch_nor_aeon(bench):
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('b', {str(SCRIPT)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "m.render({'format': 1, 'results': {}, 'runs': {}})\n"
        "assert 'torch' not in sys.modules and 'aeon' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
