"""Every script in examples/ runs to the end.

The scripts are found with a glob, so a new example is tested as soon as it is
added. Convention: an example that accepts ``--quick`` (small data, few
epochs) is run with it; the others are run without arguments. Each runs in a
fresh temporary working directory, in its own process, with a timeout.
"""

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))
TIMEOUT_SECONDS = 120
#: an example may need an optional package (dask, torch, onnx ...) that this
#: machine lacks: that is a skip, unless the missing module is our own
_MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")


def test_examples_are_found():
    assert len(EXAMPLES) >= 6, EXAMPLES


def _run(script, cwd):
    argv = ["--quick"] if "--quick" in script.read_text() else []
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="ignore::DeprecationWarning")
    try:
        done = subprocess.run(
            [sys.executable, str(script), *argv],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return argv, None
    return argv, done


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start every example at once, one per core: most of each run is importing scikit-learn."""
    pool = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1))
    futures = {script: pool.submit(_run, script, tmp_path_factory.mktemp(script.stem)) for script in EXAMPLES}
    yield futures
    pool.shutdown(wait=True)


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script, runs):
    argv, done = runs[script].result()
    if done is None:
        pytest.fail(f"{script.name} {' '.join(argv)} took more than {TIMEOUT_SECONDS} s")
    if done.returncode != 0:
        missing = _MISSING_MODULE.search(done.stderr)
        if missing and not missing.group(1).startswith("skfastgrnn"):
            pytest.skip(f"{script.name} needs {missing.group(1)}, which is not installed")
    assert done.returncode == 0, f"{script.name} {' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}"
    assert done.stdout.strip(), f"{script.name} printed nothing"
