"""scikit-learn's estimator checks, for every estimator of the package, in one list.

The instances carry cheap checking parameters (as imbalanced-learn does): a hidden
state of 8 and 10 epochs instead of 32 and 100 (50 for the regressors, whose R^2 check
needs them). The checks test the API contract, not
accuracy; the one that scores, ``check_classifiers_train`` (training accuracy > 0.83
on 3 blobs), passes with room to spare (0.92-0.97 for every cell). The default
parameters and learning are tested in test_classifier.py and test_distill.py.
"""

from numbers import Integral

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import Interval, InvalidParameterError
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks

from skfastgrnn import DistilledFastGRNN, FastGRNNClassifier, FastGRNNRegressor, SequenceScaler

#: checking parameters: a tenth of the default training, same code paths
CHEAP = dict(hidden_dim=8, epochs=10, random_state=0)


def _cheap(**params):
    return FastGRNNClassifier(**{**CHEAP, **params})


ESTIMATORS = [
    _cheap(),
    _cheap(rank=2, u_rank=4),
    _cheap(cell="fastrnn"),
    _cheap(cell="guide"),
    SequenceScaler(),
    SequenceScaler(with_mean=False),
    # a predict_proba teacher, a decision_function teacher, out-of-fold soft targets
    # (cv=2 keeps the checks' smallest classes foldable); the default HGB teacher is
    # tested in test_distill.py
    DistilledFastGRNN(LogisticRegression(), _cheap()),
    DistilledFastGRNN(LinearSVC(), _cheap(), temperature=1.0),
    DistilledFastGRNN(LogisticRegression(), _cheap(), cv=2),
    # the regressor's one scoring check (check_regressors_train: R^2 > 0.5) needs more than 10 epochs
    FastGRNNRegressor(hidden_dim=8, epochs=50, random_state=0),
    FastGRNNRegressor(hidden_dim=(16, 8), epochs=50, random_state=0),
]

_MINI_BATCH_ADAM = (
    "mini-batch Adam: a row with weight 2 and the same row twice land in different batches and take "
    "different steps; sklearn marks its own SGD/MLP estimators so"
)


def _expected_failures(estimator):
    if isinstance(estimator, SequenceScaler):
        return {}
    if isinstance(estimator, DistilledFastGRNN):
        return {"check_sample_weight_equivalence_on_dense_data": f"the student is trained by {_MINI_BATCH_ADAM}"}
    return {"check_sample_weight_equivalence_on_dense_data": _MINI_BATCH_ADAM}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_param_validation(estimator):
    # not part of parametrize_with_checks: every constraint in
    # _parameter_constraints is exercised with invalid values
    check_param_validation(type(estimator).__name__, estimator)


def _numeric_parameters(cls):
    """(name, is_integer) of every parameter of ``cls`` constrained to an interval of numbers."""
    out = []
    for name, constraints in cls._parameter_constraints.items():
        intervals = [c for c in constraints if isinstance(c, Interval)]
        if intervals:
            out.append((name, any(c.type is Integral for c in intervals)))
    return out


NUMERIC_PARAMETERS = [
    (cls, name)
    for cls in (FastGRNNClassifier, FastGRNNRegressor, SequenceScaler, DistilledFastGRNN)
    for name, _ in _numeric_parameters(cls)
] + [(DistilledFastGRNN, "cv")]  # "cv_object": an int >= 2, a splitter, an iterable or None


def test_every_integer_parameter_is_checked_for_booleans():
    """The introspection below finds the integer parameters (so the bool test covers each of them)."""
    expected = {"hidden_dim", "rank", "u_rank", "n_timesteps", "fold", "batch_size", "epochs"}
    expected |= {"early_stopping_patience", "lr_decay_step"}
    for cls in (FastGRNNClassifier, FastGRNNRegressor):
        assert expected <= {name for name, is_int in _numeric_parameters(cls) if is_int}
    assert {name for name, is_int in _numeric_parameters(SequenceScaler) if is_int} == {"n_timesteps"}
    assert {cls.__name__ for cls, _ in NUMERIC_PARAMETERS} == {
        "FastGRNNClassifier",
        "FastGRNNRegressor",
        "SequenceScaler",
        "DistilledFastGRNN",
    }


@pytest.mark.parametrize("value", [True, False, np.True_])
@pytest.mark.parametrize("cls, name", NUMERIC_PARAMETERS, ids=lambda p: getattr(p, "__name__", p))
def test_booleans_are_rejected_by_parameter_validation(cls, name, value):
    """True is the integer 1 to Python, not a number of units, epochs or rows: an InvalidParameterError
    worded like scikit-learn's, before any work (hidden_dim=True used to fail deep in the cell code,
    batch_size=True and epochs=True trained silently with 1)."""
    X, y = np.random.RandomState(0).normal(size=(20, 4)), np.arange(20) % 2
    estimator = cls(**{name: value})
    message = rf"The '{name}' parameter of {cls.__name__} must be .*\. Got {value!r} instead\."
    with pytest.raises(InvalidParameterError, match=message):
        estimator.fit(X, y.astype(float) if cls is FastGRNNRegressor else y)


@pytest.mark.parametrize("name, value", [("hidden_dim", 16), ("epochs", 1), ("batch_size", 8), ("learning_rate", 1)])
def test_plain_numbers_still_pass(name, value):
    X, y = np.random.RandomState(0).normal(size=(20, 4)), np.arange(20) % 2
    FastGRNNClassifier(**{"hidden_dim": 4, "epochs": 1, name: value}).fit(X, y)
