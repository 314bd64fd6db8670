"""What the README promises about ``skfastgrnn demo`` holds on the default install (matplotlib is an extra)."""

import re
import sys
from pathlib import Path

from skfastgrnn import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
#: the README from its top to its first command: the paragraph that says what the demo does
SET_UP = README[: README.index("```bash")]


def test_readme_set_up_commands_are_unchanged():
    commands = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    assert commands[:2] == ["pip install -e . && skfastgrnn demo\n", 'pip install -e ".[test]" && pytest\n']


def test_demo_without_matplotlib_writes_what_the_readme_says(tmp_path, monkeypatch, capsys):
    """Issue 14: the README said the demo writes a learning curve, but the default install has no matplotlib
    and the demo prints a note instead: the README says which files come always, and that the curve needs the
    ``plot`` extra."""
    # imports fail as if it were not installed, also when an earlier test imported parts of it
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")] + [
        "matplotlib",
        "matplotlib.pyplot",
        "matplotlib.figure",
    ]:
        monkeypatch.setitem(sys.modules, name, None)
    out = tmp_path / "demo"
    assert cli.main(["demo", "--out", str(out), "--n-samples", "200", "--epochs", "2", "--quiet"]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["model.metrics.json", "model.safetensors", "report.json", "test.csv", "train.csv"]
    assert "matplotlib is not installed, so no learning_curve.png" in capsys.readouterr().err
    # what the set-up paragraph promises: the model, its history, a report and the data; no learning curve
    assert re.search(r"writes the model, its training history, a report\s+and the train/test data", SET_UP)
    assert "learning curve" not in SET_UP
    after = README[README.index("```bash") :].split("Run the tests")[0]
    assert re.search(r"learning curve.*when matplotlib is\s+installed: `pip install -e \"\.\[plot\]\"`", after, re.S)
