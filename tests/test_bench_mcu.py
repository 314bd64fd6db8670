"""benchmarks/bench_mcu.py: docs/export.md's microcontroller table is rendered from the committed JSON.

Fast: nothing is compiled or simulated (the rendering reads benchmarks/results/mcu.json).
"""

import copy
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXPORT_DOC = ROOT / "docs" / "export.md"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("_tested_bench_mcu", ROOT / "benchmarks" / "bench_mcu.py")
    module = importlib.util.module_from_spec(spec)
    saved = list(sys.path)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module


def test_block_is_the_json_rendering(bench, capsys):
    """``bench_mcu.py --check docs/export.md``: the block equals what the committed JSON renders."""
    assert bench.main(["--check", str(EXPORT_DOC)]) == 0, capsys.readouterr().err


def test_check_rejects_a_changed_number(bench, tmp_path, capsys):
    doc = bench._blocks.load_results(bench.RESULTS)
    changed = copy.deepcopy(doc)
    changed["rows"][0]["cycles"] += 1
    path = tmp_path / "mcu.json"
    bench._blocks.save_results(path, changed)
    assert bench.main(["--check", str(EXPORT_DOC), "--json", str(path)]) == 1
    assert "bench_mcu.py --render --doc" in capsys.readouterr().err


def test_results_cover_every_model_and_meet_the_issue_targets(bench):
    """Every model in fp32 and integer; the routing model under 1 ms, the device's classes those of Python."""
    rows = bench._blocks.load_results(bench.RESULTS)["rows"]
    assert {(r["model"], r["arithmetic"]) for r in rows} == {(m, a) for m in bench.MODELS for a in ("fp32", "integer")}
    by = {(r["model"], r["arithmetic"]): r for r in rows}
    assert by[("routing", "integer")]["ms"] <= 1.0
    for r in rows:
        assert r["agreement"] == 1.0, r["model"]
        if r["arithmetic"] == "integer":
            assert r["scores_identical"], r["model"]
            assert r["ram"] + r["stack"] + r["state_bytes"] <= 1024, r["model"]
    assert "| routing, 1 x 5, hidden 16 | integer |" in bench.render({"rows": rows, **_env(bench)})


def _env(bench):
    return {k: v for k, v in bench._blocks.load_results(bench.RESULTS).items() if k != "rows"}
