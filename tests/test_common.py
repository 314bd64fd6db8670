"""scikit-learn's estimator checks."""

import pytest
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks

from skfastgrnn import FastGRNNClassifier, SequenceScaler

ESTIMATORS = [
    FastGRNNClassifier(),
    FastGRNNClassifier(rank=2, u_rank=4),
    FastGRNNClassifier(cell="fastrnn"),
    FastGRNNClassifier(cell="guide"),
    SequenceScaler(),
    SequenceScaler(with_mean=False),
]


def _expected_failures(estimator):
    if isinstance(estimator, SequenceScaler):
        return {}
    return {
        "check_sample_weight_equivalence_on_dense_data": (
            "mini-batch Adam: a row with weight 2 and the same row twice land in different "
            "batches and take different steps; sklearn marks its own SGD/MLP estimators so"
        ),
    }


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_param_validation(estimator):
    # not part of parametrize_with_checks: every constraint in
    # _parameter_constraints is exercised with invalid values
    check_param_validation(type(estimator).__name__, estimator)
