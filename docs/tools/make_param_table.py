"""Generate the parameter table of docs/user_guide.md from the estimator itself.

The defaults come from ``FastGRNNClassifier().get_params()``, the types and
descriptions from the "Parameters" section of its numpydoc docstring; the
table replaces what lies between the markers ``<!-- params:start -->`` and
``<!-- params:end -->``. The script fails when a parameter is missing from the
docstring or the docstring states another default than the code.

Run from the repository root:

    python docs/tools/make_param_table.py          # rewrite docs/user_guide.md
    python docs/tools/make_param_table.py --check  # exit 1 if the table is stale
"""

import argparse
import inspect
import re
import sys
from pathlib import Path

from skfastgrnn import FastGRNNClassifier

GUIDE = Path(__file__).resolve().parents[1] / "user_guide.md"
START, END = "<!-- params:start -->", "<!-- params:end -->"


def parse_parameters(doc):
    """``{name: (type_text, default_text or None, description)}`` of a numpydoc Parameters section."""
    lines = inspect.cleandoc(doc).splitlines()
    start = lines.index("Parameters") + 2  # the title and its underline
    entries, current = {}, None
    for i in range(start, len(lines)):
        line = lines[i]
        if i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1]):
            break  # the next section's title
        if line and not line.startswith(" "):
            names, _, spec = line.partition(" : ")
            type_text, _, default = spec.partition("default=")
            current = ([n.strip() for n in names.split(",")], type_text.strip().rstrip(","), default.strip(), [])
            entries[line] = current
        elif current is not None and line.strip():
            current[3].append(line.strip())
    params = {}
    for names, type_text, default, description in entries.values():
        # "adam_beta1, adam_beta2, adam_epsilon : float, default=0.9, 0.999, 1e-8"
        defaults = [d.strip() for d in default.split(",")] if default else [None] * len(names)
        if len(defaults) != len(names):
            defaults = [default] * len(names)
        for name, value in zip(names, defaults, strict=True):
            params[name] = (type_text, value, " ".join(description))
    return params


#: used only where the docstring gives a parameter no description of its own
#: (it states them in a grouped entry); the class docstring is the place to fix
SUPPLEMENT = {
    "lr_decay_step": "Epochs between two learning-rate decays (see ``lr_decay``).",
    "adam_beta1": "Adam's decay rate of the first-moment (mean) estimate.",
    "adam_beta2": "Adam's decay rate of the second-moment (uncentred variance) estimate.",
    "adam_epsilon": "Adam's constant added to the square root of the second moment, for numerical stability.",
}


def _code(value):
    return f'`"{value}"`' if isinstance(value, str) else f"`{value!r}`"


def _same_default(doc_text, value):
    if doc_text is None:
        return True  # the docstring does not state one
    try:
        return type(value)(eval(doc_text, {})) == value if value is not None else doc_text == "None"  # noqa: S307
    except Exception:
        return doc_text.strip("\"'") == str(value)


def make_table(estimator_class=FastGRNNClassifier):
    """The markdown table, or ValueError listing where the docstring and the code disagree."""
    params = estimator_class().get_params()
    # the order of the signature (and of the docstring), not get_params' alphabetical one
    order = [p for p in inspect.signature(estimator_class).parameters if p in params]
    defaults = {name: params[name] for name in order}
    documented = parse_parameters(estimator_class.__doc__)
    problems = [f"{name}: not in the docstring" for name in defaults if name not in documented]
    problems += [f"{name}: documented but not a parameter" for name in documented if name not in defaults]
    problems += [
        f"{name}: the docstring says default={documented[name][1]}, the code has {defaults[name]!r}"
        for name in defaults
        if name in documented and not _same_default(documented[name][1], defaults[name])
    ]
    if problems:
        raise ValueError("docstring and code disagree:\n  " + "\n  ".join(problems))
    rows = ["| parameter | default | type | description |", "|---|---|---|---|"]
    for name, value in defaults.items():
        type_text, _, description = documented[name]
        cells = [f"`{name}`", _code(value), type_text, description or SUPPLEMENT.get(name, "")]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)


def render(text, table):
    """``text`` with the block between the markers replaced by ``table``."""
    before, found, rest = text.partition(START)
    _, found_end, after = rest.partition(END)
    if not (found and found_end):
        raise ValueError(f"{GUIDE} has no {START} ... {END} block")
    command = "python docs/tools/make_param_table.py"
    return f"{before}{START}\n<!-- generated by `{command}`: do not edit by hand -->\n\n{table}\n\n{END}{after}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the table in the user guide is stale")
    args = parser.parse_args(argv)
    text = GUIDE.read_text()
    new = render(text, make_table())
    if args.check:
        if new != text:
            print(f"{GUIDE}: the parameter table is stale; run python docs/tools/make_param_table.py", file=sys.stderr)
            return 1
        print(f"{GUIDE}: the parameter table is current")
        return 0
    GUIDE.write_text(new)
    print(f"wrote the parameter table of {GUIDE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
