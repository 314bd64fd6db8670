"""numpydoc validation of the public API's docstrings.

Checked: every class and function in ``skfastgrnn.__all__``, the public methods and
properties those classes define themselves (what they inherit from scikit-learn is
scikit-learn's to check), and the public functions of ``skfastgrnn.datasets``.

Ignored checks, the ones scikit-learn ignores in its own ``sklearn/tests/test_docstrings.py``
(with the same reasons):

- RT02 (the first line of a Returns entry holds only the type): we name what is returned;
- GL01, GL02 (blank lines around the summary): one-line docstrings of short properties;
- ES01, SA01, EX01 (extended summary, See Also, Examples) on methods: the class
  docstring has them; they are required of classes and functions only;
- PR02 and GL08 on properties: a property has no parameters, and its attribute is
  documented in the class docstring.
"""

import inspect

import pytest

import skfastgrnn
import skfastgrnn.datasets

validate = pytest.importorskip("numpydoc.validate").validate

ALWAYS_IGNORED = {"RT02", "GL01", "GL02"}
IGNORED_FOR_METHODS = {"ES01", "SA01", "EX01"}
IGNORED_FOR_PROPERTIES = {"PR02", "GL08"}


def _own_members(cls):
    """Public methods and properties that ``cls`` or a skfastgrnn base class defines."""
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        owner = next(klass for klass in cls.__mro__ if name in vars(klass))
        if not owner.__module__.startswith("skfastgrnn"):
            continue
        attr = vars(owner)[name]
        if isinstance(attr, property):
            yield name, "property"
        elif callable(getattr(cls, name)):
            yield name, "method"


def public_api():
    """``(import path, kind)`` of every object checked."""
    for name in skfastgrnn.__all__:
        obj = getattr(skfastgrnn, name)
        if inspect.isclass(obj):
            yield f"skfastgrnn.{name}", "class"
            for member, kind in _own_members(obj):
                yield f"skfastgrnn.{name}.{member}", kind
        elif callable(obj):
            yield f"skfastgrnn.{name}", "function"
    for name, func in inspect.getmembers(skfastgrnn.datasets, inspect.isfunction):
        if not name.startswith("_") and func.__module__ == "skfastgrnn.datasets":
            yield f"skfastgrnn.datasets.{name}", "function"


def filter_errors(errors, kind):
    """The numpydoc errors that count for an object of ``kind``."""
    for code, message in errors:
        if code in ALWAYS_IGNORED:
            continue
        if kind in ("method", "property") and code in IGNORED_FOR_METHODS:
            continue
        if kind == "property" and code in IGNORED_FOR_PROPERTIES:
            continue
        yield code, message


API = sorted(public_api())


def test_the_api_list_is_complete():
    paths = {path for path, _ in API}
    for expected in (
        "skfastgrnn.FastGRNNClassifier.fit",
        "skfastgrnn.SequenceScaler.transform",
        "skfastgrnn.DistilledFastGRNN.predict_proba",
        "skfastgrnn.ModelRegistry.register",
        "skfastgrnn.plot_history",
        "skfastgrnn.datasets.make_routing",
        "skfastgrnn.datasets.load_digits_sequences",
    ):
        assert expected in paths
    assert not any(path.endswith((".get_params", ".set_params", ".with_traceback")) for path in paths)


@pytest.mark.parametrize("path, kind", API, ids=[path for path, _ in API])
def test_docstring(path, kind):
    result = validate(path)
    errors = list(filter_errors(result["errors"], kind))
    assert not errors, f"{path} ({result['file']}:{result['file_line']}):\n" + "\n".join(
        f"  {code}: {message}" for code, message in errors
    )
