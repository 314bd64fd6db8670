"""Flash, RAM, stack and time per prediction on an 8-bit microcontroller (ATmega328P in simavr), fp32 and integer-only.

For each model (the routing task, the digits as 8-step sequences, a 128-step x
9-feature model folded and not), it exports C twice, ``export_c(model, ...)``
(float32, soft-float on AVR) and ``export_c(model, ..., integer_only=True)``,
cross-compiles each with the firmware of ``tests/c_harness.py``
(``avr-gcc -mmcu=atmega328p -Os``), runs it in simavr at 16 MHz and records:

- flash (``.text`` + ``.data``) and RAM (``.data`` + ``.bss``) of the model:
  the firmware's minus those of the same firmware linked with an empty model
  (``avr_stub_source``: the harness's rows, stdio and timer); the firmware
  totals are in the JSON;
- stack: the deepest byte the model's calls write below ``main``'s frame (the
  RAM painted before each row), minus the empty model's; the streaming state
  (``<name>_state``, in the caller's frame) is listed apart;
- cycles and ms per prediction (``<name>_reset``, every ``<name>_step``,
  ``<name>_class``; Timer1 at clk/64, summed over the rows);
- the device's classes against Python's (fp32 C against the float64 model,
  integer C against ``IntegerModel``) on the device's rows;
- accuracy on the test split of the Python model and of ``IntegerModel``.

Usage (from the repository root; a few minutes, needs avr-gcc, avr-libc, simavr)::

    python benchmarks/bench_mcu.py --doc docs/export.md    # measure, write the JSON and the block
    python benchmarks/bench_mcu.py --check docs/export.md  # no run: the block is the JSON's
    python benchmarks/bench_mcu.py --render --doc docs/export.md

The results go to ``benchmarks/results/mcu.json``; the block of docs/export.md
between ``<!-- mcu:start -->`` and ``<!-- mcu:end -->`` is rendered from it.
"""

import os

# single-threaded, like the other benchmarks: must happen before numpy is imported
os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# measure the working tree's skfastgrnn (this folder stays first on the path)
sys.path.insert(1, str(ROOT))
sys.path.append(str(ROOT / "docs" / "tools"))
sys.path.append(str(ROOT / "tests"))  # the AVR firmware lives with the tests

import _blocks  # noqa: E402

BLOCK = "mcu"
RESULTS = ROOT / "benchmarks" / "results" / "mcu.json"
SCRIPT = "benchmarks/bench_mcu.py"
CLOCK_HZ = 16_000_000
#: Timer1 runs at clk/64
CYCLES_PER_TICK = 64
AVR_CFLAGS = ["-mmcu=atmega328p", "-DF_CPU=16000000UL", "-Os", "-std=gnu99", "-Wall", "-Wextra", "-Werror"]


def routing():
    """The routing task (1 step x 5 features), hidden 16, StandardScaler: 3,500 rows to fit, 1,500 to test."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skfastgrnn import FastGRNNClassifier
    from skfastgrnn.datasets import make_routing

    X, y = make_routing(5000, random_state=0)
    model = make_pipeline(StandardScaler(), FastGRNNClassifier(hidden_dim=16, random_state=0))
    return model, (X[:3500], y[:3500]), (X[3500:], y[3500:])


def digits():
    """The digits as 8 steps of 8 pixels, hidden 32, SequenceScaler: 1,200 images to fit, 597 to test."""
    from sklearn.pipeline import make_pipeline

    from skfastgrnn import FastGRNNClassifier, SequenceScaler
    from skfastgrnn.datasets import load_digits_sequences

    X, y = load_digits_sequences()
    order = np.random.RandomState(0).permutation(len(y))
    X, y = X[order].reshape(len(y), -1), y[order]
    model = make_pipeline(
        SequenceScaler(n_timesteps=8), FastGRNNClassifier(hidden_dim=32, n_timesteps=8, epochs=30, random_state=0)
    )
    return model, (X[:1200], y[:1200]), (X[1200:], y[1200:])


def long_sequences(fold):
    """128 steps x 9 features (3 classes, a shifted channel each), hidden 32, SequenceScaler; 600 / 200 rows."""
    from sklearn.pipeline import make_pipeline

    from skfastgrnn import FastGRNNClassifier, SequenceScaler

    rng = np.random.RandomState(0)
    X = rng.randn(800, 128, 9).astype(np.float32)
    y = rng.randint(3, size=800)
    for c in range(3):
        X[y == c, :, c] += 0.5
    model = make_pipeline(SequenceScaler(), FastGRNNClassifier(hidden_dim=32, epochs=3, fold=fold, random_state=0))
    return model, (X[:600], y[:600]), (X[600:], y[600:])


#: name -> (label, builder, device rows: ("test", n) rows of the test split in flash, or ("random", n)
#: rows the firmware generates; the fp32 firmware runs fewer random rows, it is 10x slower)
MODELS = {
    "routing": ("routing, 1 x 5, hidden 16", routing, ("test", 100)),
    "digits": ("digits, 8 x 8, hidden 32", digits, ("test", 40)),
    "long_fold": ("128 x 9, hidden 32, fold auto", lambda: long_sequences("auto"), ("random", 12)),
    "long_fold1": ("128 x 9, hidden 32, fold 1", lambda: long_sequences(1), ("random", 6)),
}


def _sections(elf):
    listing = subprocess.run(["avr-size", "-A", str(elf)], capture_output=True, text=True, check=True).stdout
    return {line.split()[0]: int(line.split()[1]) for line in listing.splitlines() if line.startswith(".")}


def _simulate(elf):
    """Run the firmware in simavr: (lines ``C ...`` as int arrays, ticks, rows, deepest stack byte)."""
    run = subprocess.run(
        ["simavr", "-m", "atmega328p", "-f", str(CLOCK_HZ), str(elf)], capture_output=True, text=True, timeout=1800
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout + run.stderr)
    lines = [line.strip().rstrip(".") for line in text.splitlines()]
    if "DONE" not in lines:
        raise RuntimeError(f"the firmware did not finish in simavr:\n{text[-2000:]}")
    ticks, n = (int(v) for v in next(line for line in lines if line.startswith("T ")).split()[1:])
    stack = int(next(line for line in lines if line.startswith("S ")).split()[1])
    found = np.array([[int(v) for v in line.split()[1:]] for line in lines if line.startswith("C ")])
    return found, ticks, n, stack


def run_firmware(model, directory, integer, rows=None, n_random=0):
    """Export, cross-compile and simulate one firmware, and the same firmware with an empty model.

    Returns a dict: ``classes`` (the device's), ``cycles``, the firmware's and the empty
    firmware's sections, ``stack`` (model's, bytes) and the export's report.
    """
    from c_harness import avr_firmware_source, avr_stub_source

    from skfastgrnn import export_c

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    report = export_c(model, directory, name="m", integer_only=integer)
    (directory / "main.c").write_text(avr_firmware_source("m", integer, rows, n_random, stack=True))
    (directory / "stub.c").write_text(avr_stub_source("m", integer, len(model.classes_)))
    libm = [] if integer else ["-lm"]
    out = {}
    for kind, source in (("model", report["source"]), ("empty", directory / "stub.c")):
        elf = directory / f"{kind}.elf"
        cmd = ["avr-gcc", *AVR_CFLAGS, "-o", str(elf), str(directory / "main.c"), str(source), *libm]
        build = subprocess.run(cmd, capture_output=True, text=True)
        if build.returncode:
            raise RuntimeError(build.stderr[-3000:])
        found, ticks, n, stack = _simulate(elf)
        out[kind] = {"sections": _sections(elf), "found": found, "cycles": ticks * CYCLES_PER_TICK / n, "stack": stack}
    model_run, empty = out["model"], out["empty"]
    return {
        "found": model_run["found"],
        "cycles": model_run["cycles"] - empty["cycles"],
        "firmware": _sizes(model_run["sections"]),
        "harness": _sizes(empty["sections"]),
        "stack": model_run["stack"] - empty["stack"],
        "harness_stack": empty["stack"],
        "report": report,
    }


def _sizes(sections):
    data, text, bss = (sections.get(s, 0) for s in (".data", ".text", ".bss"))
    return {"flash": text + data, "ram": data + bss, "text": text, "data": data, "bss": bss}


def measure(key, directory):
    """Fit one model and measure its fp32 and integer-only firmware: a list of two result rows."""
    from c_harness import xorshift_rows

    from skfastgrnn import IntegerModel

    label, build, (source, n_rows) = MODELS[key]
    model, (X_fit, y_fit), (X_test, y_test) = build()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X_fit, y_fit)
    device = IntegerModel(model)
    est = model[-1]
    T, D = est.n_timesteps_, est.n_step_features_
    accuracy = {"fp32": float(model.score(X_test, y_test)), "integer": float(device.score(X_test, y_test))}
    rows_out = []
    for arithmetic in ("fp32", "integer"):
        integer = arithmetic == "integer"
        if source == "test":
            rows = X_test[:n_rows].astype(np.float32).astype(np.float64)
            run = run_firmware(model, Path(directory) / key / arithmetic, integer, rows=rows)
        else:
            n = n_rows if integer else 2  # fp32: about 2-5 s of simulated time per sequence
            rows = xorshift_rows(n, T * D)
            run = run_firmware(model, Path(directory) / key / arithmetic, integer, n_random=n)
        expected = device.predict(rows) if integer else model.predict(rows)
        agree = float(np.mean(model.classes_[run["found"][:, 0]] == expected))
        bit_identical = bool(np.array_equal(run["found"][:, 1:], device.scores(rows))) if integer else None
        firmware, harness = run["firmware"], run["harness"]
        rows_out.append(
            {
                "model": key,
                "label": label,
                "arithmetic": arithmetic,
                "fold": int(run["report"].get("fold", 1)),
                "flash": firmware["flash"] - harness["flash"],
                "ram": firmware["ram"] - harness["ram"],
                "stack": run["stack"],
                "state_bytes": int(run["report"]["stream_state_bytes"]),
                "cycles": round(run["cycles"]),
                "ms": run["cycles"] / CLOCK_HZ * 1e3,
                "device_rows": len(rows),
                "device_rows_from": "test split" if source == "test" else "xorshift32 on the device",
                "agreement": agree,
                "scores_identical": bit_identical,
                "accuracy": accuracy[arithmetic],
                "firmware": firmware,
                "harness": harness,
                "harness_stack": run["harness_stack"],
            }
        )
        print(f"  {key} {arithmetic}: {rows_out[-1]['ms']:.3f} ms", file=sys.stderr, flush=True)
    if source == "random":  # the check: integer against fp32 Python on random sequences
        many = xorshift_rows(1000, T * D, seed=12345)
        rows_out[1]["int_fp32_agreement_random"] = float(np.mean(device.predict(many) == model.predict(many)))
    return rows_out


def _tool_version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError:
        return "not installed"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def environment():
    return {
        "avr_gcc": _tool_version(["avr-gcc", "--version"]),
        "simavr": "simavr (ATmega328P, 16 MHz)",
        "flags": " ".join(AVR_CFLAGS),
    }


def _n(v):
    return f"{v:,}"


def render(doc):
    """The docs/export.md block: one table, a line per model and arithmetic, and its notes."""
    lines = [
        f"<!-- generated by `python {SCRIPT} --doc docs/export.md` from "
        f"benchmarks/results/{RESULTS.name}: do not edit by hand -->",
        "",
        f"ATmega328P at 16 MHz in simavr, `{doc['environment']['flags']}` ({doc['environment']['avr_gcc']}).",
        "",
        "| model | arithmetic | flash (B) | RAM (B) | stack (B) | state (B) | cycles | ms | same class as Python "
        "| accuracy (Python) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["rows"]:
        same = f"{r['agreement']:.0%} of {r['device_rows']}"
        if r["scores_identical"]:
            same += ", scores bit for bit"
        lines.append(
            f"| {r['label']} | {r['arithmetic']} | {_n(r['flash'])} | {_n(r['ram'])} | {_n(r['stack'])} "
            f"| {_n(r['state_bytes'])} | {_n(r['cycles'])} | {r['ms']:,.3f} | {same} | {r['accuracy']:.4f} |"
        )
    by = {(r["model"], r["arithmetic"]): r for r in doc["rows"]}
    first = doc["rows"][0]
    harness = first["harness"]
    lines += [
        "",
        "- flash = `.text` + `.data`, RAM = `.data` + `.bss`, both of the model alone: the firmware's minus the "
        "same firmware's with an empty model (the harness: its rows in flash, stdio, the timer; for the "
        f"{first['label'].split(',')[0]} firmware {_n(harness['flash'])} B of flash and {_n(harness['ram'])} B "
        "of RAM). The model's RAM is its class labels (the strings and their pointers): every table is in flash.",
        "- stack: the deepest byte the model's calls write below the caller's frame (RAM painted before each "
        "row), minus the empty model's; state: `sizeof(<name>_state)`'s arrays, in the caller's frame.",
        "- cycles and ms: per prediction (`_reset`, every `_step`, `_class`), Timer1 summed over the device's "
        "rows (the test split's first rows in flash, or rows an xorshift32 generator makes on the device: "
        "fp32 runs 2 of them).",
        "- same class as Python: the fp32 firmware against the float64 Python model, the integer firmware "
        "against `IntegerModel` (its integer scores too); accuracy: the Python model's and `IntegerModel`'s "
        "on the test split.",
    ]
    for key in ("long_fold", "long_fold1"):
        r = by.get((key, "integer"))
        if r and "int_fp32_agreement_random" in r:
            lines.append(
                f"- {r['label']}: `IntegerModel` predicts the float model's class on "
                f"{r['int_fp32_agreement_random']:.1%} of 1,000 random sequences."
            )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS), help="models to run")
    _blocks.add_block_arguments(parser, RESULTS)
    args = parser.parse_args(argv)
    status = _blocks.render_or_check(args, BLOCK, render, SCRIPT)
    if status is not None:
        return status
    missing = [tool for tool in ("avr-gcc", "avr-size", "simavr") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"bench_mcu.py needs {', '.join(missing)} (apt-get install gcc-avr avr-libc simavr)")
    if args.models != list(MODELS) and args.json == RESULTS:
        args.json = Path(tempfile.mkdtemp()) / RESULTS.name  # a partial run never replaces the committed results
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for key in args.models:
            rows += measure(key, directory)
    doc = {"command": f"python {SCRIPT} --doc docs/export.md", "environment": environment(), "rows": rows}
    _blocks.finish_run(args, BLOCK, render, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
