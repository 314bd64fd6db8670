"""The documentation runs and is current.

- the ```python blocks of README.md and docs/user_guide.md run (each file's
  blocks in order, in one namespace, in a temporary directory);
- the docstring examples of every module of the package pass;
- the generated parameter table and learning-curve numbers are current;
- the messages quoted in the troubleshooting section are the real ones;
- docs/cli.md names every option of every command; relative links resolve.
"""

import doctest
import importlib
import importlib.util
import json
import os
import pkgutil
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import skfastgrnn
import skfastgrnn.datasets

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "tools"))
import make_figures  # noqa: E402
import make_param_table  # noqa: E402


def python_blocks(path):
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), flags=re.S | re.M)


@pytest.mark.parametrize("name", ["README.md", "docs/user_guide.md"])
def test_python_blocks_run(name, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")  # the user guide draws a learning curve
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(ROOT / name)
    assert blocks, f"no python blocks in {name}"
    namespace = {"__name__": "__docs__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the short runs
        for i, block in enumerate(blocks, 1):
            exec(compile(block, f"{name} block {i}", "exec"), namespace)


MODULES = sorted(
    m.name for m in pkgutil.walk_packages(skfastgrnn.__path__, "skfastgrnn.") if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name, tmp_path, monkeypatch):
    if module_name == "skfastgrnn._plot":
        pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)  # examples may write files
    module = importlib.import_module(module_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {module_name} failed"


def test_parameter_table_is_current():
    text = make_param_table.GUIDE.read_text()
    assert make_param_table.render(text, make_param_table.make_table()) == text, (
        "the parameter table is stale: run python docs/tools/make_param_table.py"
    )


def test_parameter_table_lists_every_parameter_with_its_default():
    table = make_param_table.make_table()
    for name, value in skfastgrnn.FastGRNNClassifier().get_params().items():
        assert f"| `{name}` | {make_param_table._code(value)} |" in table


def test_parameter_table_rejects_a_wrong_default():
    class Wrong(skfastgrnn.FastGRNNClassifier):
        __doc__ = skfastgrnn.FastGRNNClassifier.__doc__.replace(
            "hidden_dim : int or tuple of int, default=32", "hidden_dim : int or tuple of int, default=8"
        )  # noqa: E501

    with pytest.raises(ValueError, match="hidden_dim: the docstring says default=8"):
        make_param_table.make_table(Wrong)


def test_learning_curve_numbers_are_current():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, accuracy = make_figures.train()
    text = make_figures.GUIDE.read_text()
    assert make_figures.render(text, make_figures.numbers_block(model, accuracy)) == text, (
        "the learning-curve numbers are stale: run python docs/tools/make_figures.py"
    )
    assert make_figures.PNG.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------- troubleshooting


def _message(action):
    """The text of what ``action`` raises or warns."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - any error is what we want to read
            return f"{type(exc).__name__}: {exc}"
    assert caught, "nothing was raised or warned"
    return f"{caught[0].category.__name__}: {caught[0].message}"


def _clf(**params):
    return skfastgrnn.FastGRNNClassifier(hidden_dim=4, epochs=2, random_state=0, **params)


def _routing_times(scale):
    X, y = skfastgrnn.datasets.make_routing(400, random_state=0)
    return X * scale, y


def _data(n=60, width=4):
    rng = np.random.RandomState(0)
    return rng.normal(size=(n, width)), np.arange(n) % 2


def _corrupted_file(tmp_path):
    X, y = _data()
    path = tmp_path / "m.safetensors"
    _clf().fit(X, y).save(path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    return lambda: skfastgrnn.load(path)


def _no_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    X, y = _data()
    clf = _clf().fit(X, y)
    return lambda: skfastgrnn.plot_history(clf)


def _warm_start_change():
    X, y = _data()
    clf = _clf(warm_start=True).fit(X, y)
    return lambda: clf.set_params(hidden_dim=5).fit(X, y)


def _new_label():
    X, y = _data()
    clf = _clf(warm_start=True).fit(X, y)
    return lambda: clf.fit(X, np.where(y == 1, 7, 0))


def _diverged(monkeypatch):
    # real divergence is hard to provoke with Adam; the loop's message is what matters
    from skfastgrnn import _train

    def nan_epoch(*args, **kwargs):
        raise _train.TrainingDivergedError("the loss is nan")

    monkeypatch.setattr(_train.TrainingLoop, "train_epoch", nan_epoch)
    X, y = _data()
    return lambda: _clf().fit(X, y)


TROUBLES = {
    "ran out while the train_loss was still improving": lambda tp, mp: (
        lambda: skfastgrnn.FastGRNNClassifier(epochs=6, random_state=0).fit(*_routing_times(5.0))
    ),
    "did not learn": lambda tp, mp: lambda: _clf().fit(*_routing_times(1e30)),
    "TrainingDivergedError: Training diverged in epoch": lambda tp, mp: _diverged(mp),
    "ValueError: X contains NaN inside a step": lambda tp, mp: (
        lambda: _clf().fit(np.where(np.eye(10, 2) > 0, np.nan, 1.0), np.arange(10) % 2)
    ),
    "ValueError: sample 0 of X has observed steps after a NaN (padding) step": lambda tp, mp: (
        lambda: _clf(n_timesteps=2).fit(np.array([[np.nan, np.nan, 1.0, 1.0]] * 4), np.arange(4) % 2)
    ),
    "UserWarning: X has shape (4, 1, 6), read as (n_samples, n_timesteps, n_features)": lambda tp, mp: (
        lambda: _clf().fit(np.ones((4, 1, 6)), np.arange(4) % 2)
    ),
    "leaves too few rows for a stratified validation set": lambda tp, mp: (
        lambda: _clf(validation_split=0.1).fit(*_data(n=6))
    ),
    "which cannot be split into n_timesteps=": lambda tp, mp: lambda: _clf(n_timesteps=3).fit(*_data()),
    "ValueError: warm_start=True cannot change": lambda tp, mp: _warm_start_change(),
    "the model was not trained with": lambda tp, mp: _new_label(),
    "ValueError: FastGRNNClassifier needs samples of at least 2 classes": lambda tp, mp: (
        lambda: _clf().fit(np.ones((10, 2)), np.zeros(10))
    ),
    "checksum mismatch": lambda tp, mp: _corrupted_file(tp),
    "ImportError: plot_history needs matplotlib": lambda tp, mp: _no_matplotlib(mp),
}


@pytest.mark.parametrize("fragment", list(TROUBLES))
def test_troubleshooting_messages_are_real(fragment, tmp_path, monkeypatch):
    guide = (DOCS / "user_guide.md").read_text()
    assert fragment.split(": ", 1)[-1] in guide or fragment in guide, f"{fragment!r} is not in the user guide"
    message = _message(TROUBLES[fragment](tmp_path, monkeypatch))
    assert fragment in " ".join(message.split()), message


# --------------------------------------------------------------------- cli and links


def test_cli_page_names_every_option():
    from skfastgrnn.cli import build_parser

    page = (DOCS / "cli.md").read_text()
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse keeps them here
    for name, sub in commands.items():
        assert f"skfastgrnn {name}" in page
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert option in page, f"docs/cli.md does not mention {name} {option}"


#: pages other engineers are writing at the same time; checked once they exist
PENDING = {"distillation.md", "export.md", "dask.md"}


@pytest.mark.parametrize("page", ["README.md", "docs/index.md", "docs/user_guide.md", "docs/cli.md"])
def test_relative_links_resolve(page):
    path = ROOT / page
    missing, pending = [], []
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
        if re.match(r"[a-z]+://", target):
            continue
        if not (path.parent / target).exists():
            (pending if Path(target).name in PENDING else missing).append(target)
    assert not missing, f"{page} links to missing files: {missing}"
    if pending:
        pytest.skip(f"{page} links to pages not written yet: {pending}")


def _assert_block_is_current(script, document):
    """``benchmarks/<script> --check <document>``: the block is what the script renders from its JSON."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--check", str(document)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_memory_task_block_is_the_benchmarks_output():
    """README's memory-task table is rendered from benchmarks/results/memory_task.json (no training here)."""
    _assert_block_is_current("bench_memory_task.py", ROOT / "README.md")
    measured = json.loads((ROOT / "benchmarks" / "results" / "memory_task.json").read_text())["params"]
    assert measured == skfastgrnn.FastGRNNClassifier(n_timesteps=30).get_params(), "defaults changed: rerun the task"


def test_defaults_ablation_block_is_the_benchmarks_output_at_todays_defaults():
    """The user guide's "Why these defaults" table: rendered from the committed JSON, measured at today's defaults."""
    _assert_block_is_current("bench_defaults.py", DOCS / "user_guide.md")
    measured = json.loads((ROOT / "benchmarks" / "results" / "defaults.json").read_text())["defaults"]
    today = {k: v for k, v in skfastgrnn.FastGRNNClassifier().get_params().items() if k != "random_state"}
    assert measured == today, "the defaults changed: rerun python benchmarks/bench_defaults.py --doc docs/user_guide.md"


#: every benchmark that writes a block of the documentation, and the page it writes
GENERATED_BLOCKS = [
    ("bench_training.py", "README.md"),
    ("quantization_accuracy.py", "docs/deployment.md"),
    ("model_size_table.py", "docs/deployment.md"),
    ("bench_distillation.py", "docs/distillation.md"),
    ("distillation_diagnostic.py", "docs/distillation.md"),
    ("bench_c_inference.py", "docs/export.md"),
    ("bench_dask_incremental.py", "docs/dask.md"),
    ("bench_dask_grid.py", "docs/dask.md"),
    ("bench_predict_memory.py", "docs/dask.md"),
]


def _check_in_process(script, page, capsys):
    """``main(["--check", page])`` of ``benchmarks/<script>``, imported here: their imports are this
    process's already (a subprocess would spend seconds importing scikit-learn or dask again)."""
    saved_environ, saved_path = dict(os.environ), list(sys.path)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location(f"_checked_{Path(script).stem}", ROOT / "benchmarks" / script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # some set OMP_NUM_THREADS & co. at import: restored below
        status = module.main(["--check", str(ROOT / page)])
    finally:
        os.environ.clear()
        os.environ.update(saved_environ)
        sys.path[:] = saved_path
    assert status == 0, capsys.readouterr().err


@pytest.mark.parametrize("script, page", GENERATED_BLOCKS, ids=[f"{s}-{p}" for s, p in GENERATED_BLOCKS])
def test_generated_block_is_the_benchmarks_output(script, page, capsys):
    """``benchmarks/<script> --check <page>``: rendered from benchmarks/results/*.json, nothing measured."""
    _check_in_process(script, page, capsys)


#: a table cell that holds a measurement-like number (1,234 / 0.95 / 96.4% / 3.1x / 12 MB / 1.2 ± 0.3)
_NUMBER = re.compile(r"^[-+]?[\d,]*\d(\.\d+)?(e[-+]?\d+)?\s*(%|x|s|B|KB|MB|GB|µs|us|pt)?$|±")
#: tables of settings written by hand on purpose (their values are tested elsewhere)
_HAND_WRITTEN = ("| preset |",)  # the guide's presets: tests/test_presets.py


@pytest.mark.parametrize("page", ["README.md", *sorted(f"docs/{p.name}" for p in DOCS.glob("*.md"))])
def test_tables_of_numbers_are_generated(page):
    """A table with two numbers in a row is a measurement: it must lie in a block a script writes."""
    text = re.sub(r"<!-- ([\w-]+):start -->.*?<!-- \1:end -->", "", (ROOT / page).read_text(), flags=re.S)
    text = re.sub(r"^\s*```.*?^\s*```", "", text, flags=re.S | re.M)
    header, pasted = None, []
    for line in map(str.strip, text.splitlines()):
        if not line.startswith("|"):
            header = None
        elif header is None:
            header = line
        elif not set(line) <= set("|-: ") and not header.startswith(_HAND_WRITTEN):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if sum(bool(_NUMBER.search(c)) for c in cells) >= 2:
                pasted.append(line)
    assert not pasted, f"{page} has tables of numbers outside generated blocks:\n" + "\n".join(pasted[:5])


def test_model_sizes_are_current():
    """The sizes in docs/deployment.md are deterministic and cheap: measure them again (a few seconds)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import model_size_table
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    committed = json.loads((ROOT / "benchmarks" / "results" / "model_sizes.json").read_text())["rows"]
    assert model_size_table.run()["rows"] == committed, (
        "the model sizes changed: rerun python benchmarks/model_size_table.py --doc docs/deployment.md"
    )
