"""scikit-learn's estimator checks, for every estimator of the package, in one list.

The instances carry cheap checking parameters (as imbalanced-learn does): a hidden
state of 8 and 10 epochs instead of 32 and 100. The checks test the API contract, not
accuracy; the one that scores, ``check_classifiers_train`` (training accuracy > 0.83
on 3 blobs), passes with room to spare (0.92-0.97 for every cell). The default
parameters and learning are tested in test_classifier.py and test_distill.py.
"""

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks

from skfastgrnn import DistilledFastGRNN, FastGRNNClassifier, SequenceScaler

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
