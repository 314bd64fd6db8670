"""Generated blocks of the documentation: written between two HTML-comment markers, and checked.

A benchmark that feeds a page keeps its numbers in a committed JSON file
(``benchmarks/results/<name>.json``) and renders the page's block from that file
alone, so that the block can be re-rendered (``--render``) or checked (``--check``,
run by ``tests/test_docs.py``) without measuring anything again. The helpers here
give every such script the same options::

    --json PATH    the results file (written by a run, read by --render and --check)
    --doc PATH     run, then rewrite PATH's block (with --render: no run)
    --render       no run: rewrite --doc's block from the JSON
    --check PATH   no run: exit 1 (and print a diff) if PATH's block differs from the JSON
"""

import difflib
import json
import sys
from pathlib import Path


def markers(name):
    """The start and end markers of the block called ``name``."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def replace_block(text, start, end, body, where="the document"):
    """``text`` with what lies between ``start`` and ``end`` replaced by ``body``."""
    before, found, rest = text.partition(start)
    _, found_end, after = rest.partition(end)
    if not (found and found_end):
        raise ValueError(f"{where} has no {start} ... {end} block")
    return f"{before}{start}\n{body}\n{end}{after}"


def block_of(text, start, end, where="the document"):
    """What lies between ``start`` and ``end`` in ``text``, without the newlines next to the markers."""
    _, found, rest = text.partition(start)
    body, found_end, _ = rest.partition(end)
    if not (found and found_end):
        raise ValueError(f"{where} has no {start} ... {end} block")
    return body.strip("\n")


def load_results(path):
    """The results document in the JSON file ``path``."""
    return json.loads(Path(path).read_text())


def save_results(path, doc):
    """Write ``doc`` to ``path`` as JSON (sorted keys, one item per line: readable diffs)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def write_block(path, name, body):
    """Replace the ``name`` block of the file ``path`` with ``body``."""
    path = Path(path)
    start, end = markers(name)
    path.write_text(replace_block(path.read_text(), start, end, body, where=str(path)))


def check_block(path, name, body, refresh):
    """0 if the ``name`` block of ``path`` is ``body``; else print a diff and ``refresh`` (the fix) and return 1."""
    path = Path(path)
    start, end = markers(name)
    try:
        current = block_of(path.read_text(), start, end, where=str(path))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    if current == body.strip("\n"):
        return 0
    diff = difflib.unified_diff(
        current.splitlines(), body.strip("\n").splitlines(), f"{path} ({name} block)", "rendered", lineterm=""
    )
    print(f"{path}: the {name} block differs from its results file; refresh it with\n    {refresh}\n", file=sys.stderr)
    print("\n".join(list(diff)[:60]), file=sys.stderr)
    return 1


def add_block_arguments(parser, results):
    """Add ``--json`` (default ``results``), ``--doc``, ``--render`` and ``--check`` to ``parser``."""
    parser.add_argument("--json", type=Path, default=results, help=f"results file (default {results.name})")
    parser.add_argument("--doc", type=Path, metavar="PATH", help="run (or --render), then rewrite PATH's block")
    parser.add_argument("--render", action="store_true", help="no run: rewrite --doc's block from the JSON")
    parser.add_argument(
        "--check", type=Path, metavar="PATH", help="no run: exit 1 if PATH's block differs from the JSON"
    )


def render_or_check(args, name, render, script):
    """Handle ``--check`` and ``--render``: their exit status, or None when the benchmark has to run.

    ``render(doc)`` is the block's text for a results document; ``script`` is the
    script's path from the repository root, for the messages.
    """
    if args.check:
        refresh = f"python {script} --render --doc {args.check}"
        return check_block(args.check, name, render(load_results(args.json)), refresh)
    if args.render:
        if args.doc is None:
            raise SystemExit("--render needs --doc PATH")
        write_block(args.doc, name, render(load_results(args.json)))
        print(f"updated {args.doc} from {args.json}")
        return 0
    return None


def finish_run(args, name, render, doc):
    """After a run: save ``doc`` to ``--json``, print its rendering, rewrite ``--doc``'s block if asked."""
    save_results(args.json, doc)
    doc = load_results(args.json)  # render exactly what --check will read
    print(render(doc))
    if args.doc:
        write_block(args.doc, name, render(doc))
        print(f"\nupdated {args.doc}", file=sys.stderr)
