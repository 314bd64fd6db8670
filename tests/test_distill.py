"""DistilledFastGRNN: soft targets, teachers of every kind, transfer set, sklearn integration."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_predict, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

import skfastgrnn
from skfastgrnn import DistilledFastGRNN, FastGRNNClassifier
from skfastgrnn._distill import soft_targets, teacher_logits
from skfastgrnn.datasets import make_routing

REPO = Path(__file__).resolve().parents[1]

# a student that trains in a fraction of a second on a few hundred rows
SMALL = dict(hidden_dim=8, epochs=15, validation_split=0.0, early_stopping_patience=None, random_state=0)


def _student(**kwargs):
    return FastGRNNClassifier(**{**SMALL, **kwargs})


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=240, n_features=5, n_informative=3, random_state=1)
    return X, y


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# sklearn's estimator checks and check_param_validation: tests/test_common.py


# ------------------------------------------------------------- soft targets


def test_soft_targets_are_softmax_of_log_proba_over_temperature(blobs):
    X, y = blobs
    teacher = LogisticRegression().fit(X, y)
    p = teacher.predict_proba(X)
    for T in (0.5, 1.0, 3.0, 10.0):
        classes, q = soft_targets(teacher, X, T)
        np.testing.assert_array_equal(classes, teacher.classes_)
        np.testing.assert_allclose(q, _softmax(np.log(p) / T), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(q.sum(axis=1), 1.0)
    # T = 1 gives the teacher's probabilities back; a large T flattens them
    np.testing.assert_allclose(soft_targets(teacher, X, 1.0)[1], p, rtol=1e-10)
    assert soft_targets(teacher, X, 10.0)[1].max() < p.max()


def test_soft_targets_of_a_zero_probability_stay_finite(blobs):
    X, y = blobs
    teacher = KNeighborsClassifier(n_neighbors=1).fit(X, y)  # probabilities exactly 0 and 1
    _, q = soft_targets(teacher, X, 3.0)
    assert np.all(np.isfinite(q))
    np.testing.assert_allclose(q, teacher.predict_proba(X), atol=1e-30)


def test_binary_decision_function_is_expanded_symmetrically(binary):
    X, y = binary
    teacher = LinearSVC().fit(X, y)
    d = teacher.decision_function(X)
    np.testing.assert_allclose(teacher_logits(teacher, X), np.column_stack([-d / 2, d / 2]))
    _, q = soft_targets(teacher, X, 2.0)
    # a two-class softmax of [-d/2, d/2] / T is sigmoid(d / T) for classes_[1]
    np.testing.assert_allclose(q[:, 1], 1 / (1 + np.exp(-d / 2.0)))


def test_multiclass_decision_function_is_used_as_logits(blobs):
    X, y = blobs
    teacher = LinearSVC().fit(X, y)
    _, q = soft_targets(teacher, X, 2.0)
    np.testing.assert_allclose(q, _softmax(teacher.decision_function(X) / 2.0))


class _ShuffledClassesTeacher(ClassifierMixin, BaseEstimator):
    """A fitted teacher whose classes_ are not sorted: columns follow classes_."""

    classes_ = np.array(["c", "a", "b"])

    def fit(self, X, y):
        return self

    def predict_proba(self, X):
        return np.tile([0.7, 0.2, 0.1], (len(X), 1))  # c: 0.7, a: 0.2, b: 0.1


def test_teacher_columns_are_aligned_by_label():
    classes, q = soft_targets(_ShuffledClassesTeacher(), np.zeros((2, 1)), 1.0)
    assert classes.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(q[0], [0.2, 0.1, 0.7])


# ---------------------------------------------------------------- training


def test_alpha_zero_is_plain_training_bit_for_bit(blobs):
    X, y = blobs
    student = _student(validation_split=0.2, early_stopping_patience=5)
    plain = clone(student).fit(X, y)
    model = DistilledFastGRNN(LogisticRegression(), student, alpha=0.0).fit(X, y)
    np.testing.assert_array_equal(model.student_.network_.parameters, plain.network_.parameters)
    assert model.student_.history_[-1]["val_loss"] == plain.history_[-1]["val_loss"]


def test_soft_targets_change_the_student(blobs):
    X, y = blobs
    student = _student()
    plain = clone(student).fit(X, y)
    model = DistilledFastGRNN(LogisticRegression(), student, alpha=0.7).fit(X, y)
    assert not np.array_equal(model.student_.network_.parameters, plain.network_.parameters)


def test_default_teacher_and_student(binary):
    X, y = binary
    model = DistilledFastGRNN(student=_student(epochs=30)).fit(X, y)
    assert isinstance(model.teacher_, HistGradientBoostingClassifier)
    assert isinstance(DistilledFastGRNN(teacher=LogisticRegression()).fit(X, y).student_, FastGRNNClassifier)
    assert model.score(X, y) > 0.85
    assert model.student_ is not model.student and not hasattr(model.student, "classes_")  # cloned


def test_fitted_attributes_and_delegation(blobs):
    X, y = blobs
    model = DistilledFastGRNN(LogisticRegression(), _student()).fit(X, y)
    student = model.student_
    np.testing.assert_array_equal(model.classes_, np.unique(y))
    assert model.n_features_in_ == X.shape[1] and model.n_transfer_ == 0
    np.testing.assert_array_equal(model.predict(X), student.predict(X))
    np.testing.assert_array_equal(model.predict_proba(X), student.predict_proba(X))
    np.testing.assert_array_equal(model.predict_log_proba(X), student.predict_log_proba(X))
    np.testing.assert_array_equal(model.decision_function(X), student.decision_function(X))
    assert model.score(X, y) == student.score(X, y)
    assert isinstance(model.teacher_, LogisticRegression) and model.teacher_ is not model.teacher


def test_predict_proba_and_decision_function_teachers_both_teach(binary):
    X, y = binary
    for teacher, T in ((LogisticRegression(), 3.0), (LinearSVC(), 1.0)):
        model = DistilledFastGRNN(teacher, _student(epochs=30), temperature=T).fit(X, y)
        assert model.score(X, y) > 0.85, type(teacher).__name__


def test_string_labels(blobs):
    X, y = blobs
    labels = np.array(["cat", "dog", "emu"], dtype=object)[y]
    model = DistilledFastGRNN(LogisticRegression(), _student(epochs=30)).fit(X, labels)
    assert model.classes_.tolist() == ["cat", "dog", "emu"]
    assert set(model.predict(X)) <= {"cat", "dog", "emu"}
    assert model.score(X, labels) > 0.7


def test_sample_weight_reaches_teacher_and_student(binary):
    X, y = binary
    w = np.where(y == 1, 5.0, 1.0)
    model = DistilledFastGRNN(LogisticRegression(), _student()).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(model.teacher_.coef_, LogisticRegression().fit(X, y, sample_weight=w).coef_)
    unweighted = DistilledFastGRNN(LogisticRegression(), _student()).fit(X, y)
    assert not np.array_equal(model.student_.network_.parameters, unweighted.student_.network_.parameters)


def test_dataframe_keeps_feature_names_for_teacher_and_meta(binary):
    pd = pytest.importorskip("pandas")
    X, y = binary
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    model = DistilledFastGRNN(LogisticRegression(), _student()).fit(frame, y)
    assert model.feature_names_in_.tolist() == list(frame.columns)
    assert model.teacher_.feature_names_in_.tolist() == list(frame.columns)  # the teacher saw the frame
    np.testing.assert_array_equal(model.predict(frame), model.student_.predict(X))


# ------------------------------------------------------------------ teachers


class _FitOnce(LogisticRegression):
    """Refuses a second fit: a frozen teacher must never be refitted."""

    def fit(self, X, y, sample_weight=None):
        if hasattr(self, "coef_"):
            raise AssertionError("the frozen teacher was refitted")
        return super().fit(X, y, sample_weight=sample_weight)


def test_frozen_teacher_is_used_as_fitted(blobs):
    X, y = blobs
    teacher = _FitOnce().fit(X[:60], y[:60])  # fitted on other rows than the student's
    coef = teacher.coef_
    model = DistilledFastGRNN(FrozenEstimator(teacher), _student()).fit(X[60:], y[60:])
    assert model.teacher_.estimator is teacher and teacher.coef_ is coef
    # and the soft targets are those of that teacher
    _, q = soft_targets(teacher, X[60:], model.temperature)
    np.testing.assert_allclose(q, _softmax(np.log(teacher.predict_proba(X[60:])) / 3.0))
    # a frozen teacher that was never fitted is an error, not a silent fit
    with pytest.raises(NotFittedError):
        DistilledFastGRNN(FrozenEstimator(LogisticRegression()), _student()).fit(X, y)


def test_frozen_teacher_may_know_more_classes_than_y(blobs):
    X, y = blobs
    teacher = LogisticRegression().fit(X, y)
    keep = y != 2
    model = DistilledFastGRNN(FrozenEstimator(teacher), _student()).fit(X[keep], y[keep])
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert model.predict_proba(X).shape == (len(X), 3)


def test_saved_model_file_is_a_teacher(tmp_path, blobs):
    X, y = blobs
    big = make_pipeline(StandardScaler(), FastGRNNClassifier(hidden_dim=32, epochs=20, random_state=0)).fit(X, y)
    path = tmp_path / "teacher.safetensors"
    skfastgrnn.save(big, path)
    for teacher in (str(path), path):
        model = DistilledFastGRNN(teacher, _student(epochs=30)).fit(X, y)
        np.testing.assert_allclose(model.teacher_.predict_proba(X), big.predict_proba(X))
        assert model.student_.size_bytes() < skfastgrnn.load(path)[-1].size_bytes()
        assert model.score(X, y) > 0.7
    assert clone(DistilledFastGRNN(str(path))).teacher == str(path)


# ------------------------------------------------------- out-of-fold targets


class _SpyStudent(FastGRNNClassifier):
    """Records the soft targets the meta-estimator hands to the student."""

    def fit_distilled(self, X, y, soft_targets, **kwargs):
        self.seen_targets_ = soft_targets
        self.seen_y_ = y
        self.seen_X_ = X
        return super().fit_distilled(X, y, soft_targets, **kwargs)


@pytest.mark.parametrize("cv", [3, StratifiedKFold(4, shuffle=True, random_state=0)])
def test_out_of_fold_targets_are_cross_val_predict(blobs, cv):
    X, y = blobs
    T = 2.0
    model = DistilledFastGRNN(
        LogisticRegression(), _SpyStudent(**SMALL), temperature=T, cv=cv, teacher_confidence=None
    ).fit(X, y)
    folds = StratifiedKFold(cv) if isinstance(cv, int) else cv  # an int is an unshuffled StratifiedKFold
    p = cross_val_predict(LogisticRegression(), X, y, cv=folds, method="predict_proba")
    np.testing.assert_allclose(model.student_.seen_targets_, _softmax(np.log(p) / T), rtol=1e-12, atol=1e-15)
    # and they are not the in-sample targets; teacher_ is still fitted on all rows
    _, in_sample = soft_targets(model.teacher_, X, T)
    assert not np.allclose(model.student_.seen_targets_, in_sample)
    np.testing.assert_allclose(model.teacher_.coef_, LogisticRegression().fit(X, y).coef_)


def test_out_of_fold_targets_of_a_decision_function_teacher_and_string_labels(binary):
    X, y = binary
    labels = np.array(["no", "yes"], dtype=object)[y]
    model = DistilledFastGRNN(LinearSVC(), _SpyStudent(**SMALL), temperature=1.0, cv=3, teacher_confidence=None).fit(
        X, labels
    )
    d = cross_val_predict(LinearSVC(), X, y, cv=StratifiedKFold(3), method="decision_function")
    np.testing.assert_allclose(model.student_.seen_targets_[:, 1], 1 / (1 + np.exp(-d)))
    assert model.classes_.tolist() == ["no", "yes"]


def test_out_of_fold_targets_with_sample_weight_and_transfer_set(binary):
    X, y = binary
    w = np.where(y == 1, 4.0, 1.0)
    model = DistilledFastGRNN(
        LogisticRegression(), _SpyStudent(**SMALL), temperature=1.0, cv=3, teacher_confidence=None
    )
    model.fit(X[:150], y[:150], sample_weight=w[:150], X_unlabeled=X[150:])
    p = cross_val_predict(
        LogisticRegression(), X[:150], y[:150], cv=StratifiedKFold(3), method="predict_proba",
        params={"sample_weight": w[:150]},
    )  # fmt: skip
    np.testing.assert_allclose(model.student_.seen_targets_[:150], p, rtol=1e-10)
    # the unlabelled rows are scored by teacher_, fitted on all labelled rows
    np.testing.assert_allclose(model.student_.seen_targets_[150:], model.teacher_.predict_proba(X[150:]), rtol=1e-10)
    np.testing.assert_allclose(
        model.teacher_.coef_, LogisticRegression().fit(X[:150], y[:150], sample_weight=w[:150]).coef_
    )


def test_shuffling_splitter_without_random_state_runs(blobs):
    X, y = blobs
    model = DistilledFastGRNN(LogisticRegression(), _student(), cv=StratifiedKFold(3, shuffle=True)).fit(X, y)
    assert model.score(X, y) > 0.5


def test_frozen_and_loaded_teachers_ignore_cv(tmp_path, blobs):
    X, y = blobs
    teacher = _FitOnce().fit(X, y)  # a frozen teacher is never refitted, not even per fold
    for given in (FrozenEstimator(teacher), None):
        if given is None:
            path = tmp_path / "teacher.safetensors"
            skfastgrnn.save(FastGRNNClassifier(hidden_dim=8, epochs=5, random_state=0).fit(X, y), path)
            given = path
        plain = DistilledFastGRNN(given, _SpyStudent(**SMALL)).fit(X, y)
        with_cv = DistilledFastGRNN(given, _SpyStudent(**SMALL), cv=5).fit(X, y)
        np.testing.assert_array_equal(with_cv.student_.seen_targets_, plain.student_.seen_targets_)
        np.testing.assert_array_equal(with_cv.student_.network_.parameters, plain.student_.network_.parameters)
        # cv is not even checked: a class of 2 rows cannot fill 5 folds, and nothing complains
        rows = np.r_[np.flatnonzero(y != 2), np.flatnonzero(y == 2)[:2]]
        DistilledFastGRNN(given, _student(), cv=5).fit(X[rows], y[rows])


def test_too_few_rows_in_a_class_for_the_folds(blobs):
    X, y = blobs
    y = y.copy()
    y[np.flatnonzero(y == 2)[3:]] = 0  # class 2 keeps 3 rows
    with pytest.raises(ValueError, match=r"class 2 has only 3 row\(s\), fewer than the 5 folds.*cv=3 or less"):
        DistilledFastGRNN(LogisticRegression(), _student(), cv=5).fit(X, y)
    y[np.flatnonzero(y == 2)[1:]] = 0  # a single row: no cv can fold it
    with pytest.raises(ValueError, match=r"class 2 has only 1 row\(s\).*pass cv=None"):
        DistilledFastGRNN(LogisticRegression(), _student(), cv=2).fit(X, y)
    DistilledFastGRNN(LogisticRegression(), _student()).fit(X, y)  # in-sample targets still work


class _NeverFit(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        raise AssertionError("a teacher was fitted before cv was checked")


def test_unfoldable_cv_fails_before_any_teacher_fit(blobs):
    X, y = blobs
    order = np.argsort(y, kind="stable")  # unshuffled KFold on sorted y: a fold's training rows miss a class
    with pytest.raises(ValueError, match=r"fold 0 of cv=KFold.*no row of class\(es\) \[0\].*stratified"):
        DistilledFastGRNN(_NeverFit(), _student(), cv=KFold(3)).fit(X[order], y[order])
    with pytest.raises(ValueError, match="fewer than the 5 folds"):
        DistilledFastGRNN(_NeverFit(), _student(), cv=5).fit(X[:12], np.repeat([0, 1], [8, 4]))


# ------------------------------------------------------------- transfer set


def test_unlabeled_rows_are_labelled_by_the_teacher_and_help():
    X, y = make_routing(2400, noise=0.0, random_state=0)
    X_test, y_test = make_routing(1000, noise=0.0, random_state=1)
    teacher = FrozenEstimator(HistGradientBoostingClassifier(random_state=0).fit(X[:1200], y[:1200]))
    X_few, y_few, X_unlabeled = X[1200:1240], y[1200:1240], X[1240:2240]
    student = FastGRNNClassifier(hidden_dim=8, epochs=30, random_state=0)
    alone = DistilledFastGRNN(teacher, student).fit(X_few, y_few)
    helped = DistilledFastGRNN(teacher, student).fit(X_few, y_few, X_unlabeled=X_unlabeled)
    assert alone.n_transfer_ == 0 and helped.n_transfer_ == len(X_unlabeled)
    # 40 labelled rows are too few for the student alone; the teacher's labels on 1000 more are not
    assert helped.score(X_test, y_test) > 0.9
    assert helped.score(X_test, y_test) > alone.score(X_test, y_test) + 0.1


def test_unlabeled_rows_with_sample_weight_and_validation(binary):
    X, y = binary
    w = np.full(len(y), 3.0)
    model = DistilledFastGRNN(LogisticRegression(), _student()).fit(X[:100], y[:100], w[:100], X_unlabeled=X[100:])
    assert model.n_transfer_ == len(X) - 100
    with pytest.raises(ValueError, match="features"):
        DistilledFastGRNN(LogisticRegression(), _student()).fit(X, y, X_unlabeled=X[:, :3])


# -------------------------------------------------------------------- errors


class _NoScores(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"teacher": _NoScores()}, "neither predict_proba nor decision_function"),
        ({"temperature": 0.0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"alpha": 1.5}, "alpha"),
        ({"alpha": -0.1}, "alpha"),
        ({"student": LogisticRegression()}, "student"),
        ({"cv": 1}, "cv"),
        ({"cv": "five"}, "cv"),
    ],
)
def test_bad_parameters_raise_clear_errors_and_keep_the_fit(blobs, params, match):
    X, y = blobs
    model = DistilledFastGRNN(LogisticRegression(), _student()).fit(X, y)
    before = {k: v for k, v in model.__dict__.items() if k.endswith("_")}
    with pytest.raises(ValueError, match=match):
        model.set_params(**params).fit(X, y)
    after = {k: v for k, v in model.__dict__.items() if k.endswith("_")}
    assert after.keys() == before.keys() and all(after[k] is before[k] for k in after)


def test_teacher_must_cover_y_and_nothing_is_half_fitted(blobs):
    X, y = blobs
    teacher = FrozenEstimator(LogisticRegression().fit(X[y != 2], y[y != 2]))
    model = DistilledFastGRNN(teacher, _student())
    with pytest.raises(ValueError, match=r"teacher does not know"):
        model.fit(X, y)
    assert not any(k.endswith("_") for k in model.__dict__)  # not even n_features_in_
    with pytest.raises(NotFittedError):
        model.predict(X)


class _NoClasses(BaseEstimator):
    def fit(self, X, y):
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)


def test_teacher_without_classes_is_refused(binary):
    X, y = binary
    with pytest.raises(ValueError, match="no classes_"):
        DistilledFastGRNN(_NoClasses(), _student()).fit(X, y)


def test_teacher_without_sample_weight_support_is_refused(binary):
    X, y = binary
    teacher = make_pipeline(StandardScaler(), LogisticRegression())
    with pytest.raises(ValueError, match="does not accept it"):
        DistilledFastGRNN(teacher, _student()).fit(X, y, sample_weight=np.ones(len(y)))
    with pytest.raises(ValueError, match="weight.*zero"):
        DistilledFastGRNN(LogisticRegression(), _student()).fit(X, y, sample_weight=np.zeros(len(y)))


def test_continuous_y_is_rejected(binary):
    X, _ = binary
    with pytest.raises(ValueError, match="Unknown label type"):
        DistilledFastGRNN(LogisticRegression(), _student()).fit(X, np.linspace(0, 1, len(X)))


# ---------------------------------------------------------- sklearn tools


def test_in_a_pipeline_with_a_scaler(binary):
    X, y = binary
    model = make_pipeline(StandardScaler(), DistilledFastGRNN(LogisticRegression(), _student(epochs=30)))
    model.fit(X * 100 + 7, y)
    assert model.score(X * 100 + 7, y) > 0.85
    assert model.predict_proba(X[:3]).shape == (3, 2)


def test_grid_search_over_student_temperature_and_alpha(binary):
    X, y = binary
    grid = {"student__hidden_dim": [4, 8], "temperature": [1.0, 4.0], "alpha": [0.0, 0.7]}
    search = GridSearchCV(DistilledFastGRNN(LogisticRegression(), _student(epochs=8)), grid, cv=2)
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 8
    best = search.best_estimator_
    assert best.student_.hidden_dim == search.best_params_["student__hidden_dim"]
    assert best.temperature == search.best_params_["temperature"]


def test_cross_val_score(binary):
    X, y = binary
    scores = cross_val_score(DistilledFastGRNN(LogisticRegression(), _student(epochs=30)), X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8


# ------------------------------------------------------------------ example


def test_example_runs_quick():
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "distillation.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert "distilled" in result.stdout


def test_distils_variable_length_sequences(variable_length):
    """Lists of (T_i, D) arrays reach the teacher as given and the student NaN-padded."""
    from skfastgrnn import SequenceScaler
    from skfastgrnn._sequences import pad_sequences

    seqs, y = variable_length
    model = make_pipeline(
        SequenceScaler(),
        DistilledFastGRNN(
            teacher=FastGRNNClassifier(16, epochs=15, random_state=0),
            student=FastGRNNClassifier(8, epochs=15, random_state=0),
        ),
    )
    unlabeled = [np.vstack([s, s]) for s in seqs[160:200]]  # longer than any labelled sequence
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(seqs[:160], y[:160], distilledfastgrnn__X_unlabeled=model[0].fit(seqs[:160]).transform(unlabeled))
    distilled = model[-1]
    assert distilled.n_transfer_ == 40 and distilled.student_.n_timesteps_ == 2 * max(len(s) for s in seqs[160:200])
    assert model.score(seqs[200:], y[200:]) > 0.8
    # a padded sequence predicts what it predicts alone
    together = model.predict_proba(seqs[200:])
    alone = np.vstack([model.predict_proba([s]) for s in seqs[200:]])
    np.testing.assert_allclose(together, alone, rtol=1e-12, atol=1e-14)
    rows = pad_sequences(seqs[200:]).reshape(len(seqs) - 200, -1)
    with pytest.raises(ValueError, match="features per timestep|expecting"):
        distilled.predict(rows)  # 2-D rows of another width than the fit: a clear error


# ------------------------------------------------------------------ progress


def _progress_lines(err):
    return [line for line in err.splitlines() if line.startswith("[DistilledFastGRNN] ")]


def test_verbose_prints_each_phase_and_the_students_epochs(blobs, capsys):
    """Issue 14: long distillations were silent. verbose=1 says what phase fit is in (teacher fit, out-of-fold
    soft targets, the transfer set, the student's epochs) and how long each took."""
    X, y = blobs
    model = DistilledFastGRNN(LogisticRegression(), _student(epochs=3), cv=3, verbose=1)
    model.fit(X[:200], y[:200], X_unlabeled=X[200:])
    err = capsys.readouterr().err
    phases = _progress_lines(err)
    assert phases[0] == "[DistilledFastGRNN] teacher: fitting LogisticRegression on 200 rows"
    assert phases[1].startswith("[DistilledFastGRNN] teacher: fitted in ") and phases[1].endswith("s")
    assert phases[2] == "[DistilledFastGRNN] soft targets: out of fold, 3 more teacher fits (cv=3)"
    assert phases[3].startswith("[DistilledFastGRNN] soft targets: computed out of fold in ")
    assert phases[4] == f"[DistilledFastGRNN] teacher: labelling {len(X) - 200} rows of X_unlabeled"
    assert phases[5].startswith(f"[DistilledFastGRNN] student: training FastGRNNClassifier(hidden_dim=8) on {len(X)}")
    assert phases[6].startswith("[DistilledFastGRNN] student: trained 3 epochs in ")
    assert phases[7].startswith("[DistilledFastGRNN] fit: done in ")
    epochs = [line for line in err.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in epochs] == ["1/3", "2/3", "3/3"]
    assert err.index("student: training") < err.index("epoch 1/3") < err.index("student: trained")
    # the student's own setting is what student_ keeps; the meta-estimator's parameter is untouched
    assert model.student_.verbose == 0 and model.get_params()["verbose"] == 1


def test_verbose_names_frozen_and_loaded_teachers(blobs, tmp_path, capsys):
    X, y = blobs
    teacher = LogisticRegression().fit(X, y)
    DistilledFastGRNN(FrozenEstimator(teacher), _student(epochs=1), verbose=1).fit(X, y)
    assert "teacher: the frozen LogisticRegression, used as fitted" in capsys.readouterr().err
    path = tmp_path / "teacher.safetensors"
    skfastgrnn.save(_student(epochs=1).fit(X, y), path)
    capsys.readouterr()
    DistilledFastGRNN(str(path), _student(epochs=1), verbose=1).fit(X, y)
    assert f"teacher: loading {path}" in capsys.readouterr().err


def test_quiet_by_default_and_a_verbose_student_stays_verbose(blobs, capsys):
    X, y = blobs
    DistilledFastGRNN(LogisticRegression(), _student(epochs=2)).fit(X, y)
    assert capsys.readouterr().err == ""
    model = DistilledFastGRNN(LogisticRegression(), _student(epochs=2, verbose=1)).fit(X, y)
    err = capsys.readouterr().err
    assert not _progress_lines(err) and err.count("epoch ") == 2  # the student's own progress only
    assert model.student_.verbose == 1


def test_a_regressor_student_is_refused_with_a_clear_error():
    """Issue 12: DistilledFastGRNN distils classifiers; docs/distillation.md shows the regression recipe."""
    from sklearn.linear_model import Ridge
    from sklearn.utils._param_validation import InvalidParameterError

    from skfastgrnn import FastGRNNRegressor

    X = np.random.RandomState(0).normal(size=(40, 3))
    with pytest.raises(
        InvalidParameterError, match="'student' parameter of DistilledFastGRNN must be .*FastGRNNClassifier"
    ):
        DistilledFastGRNN(Ridge(), FastGRNNRegressor(epochs=1)).fit(X, X[:, 0])


# ------------------------------------------------ persistence (issue 15)


def _sequence_flat_teacher():
    """A teacher for equal-length (n, T, D) arrays: flattened rows into a logistic regression."""
    from sklearn.preprocessing import FunctionTransformer

    return make_pipeline(FunctionTransformer(lambda X: np.asarray(X).reshape(len(X), -1)), LogisticRegression())


def test_save_a_distilled_model_saves_its_student(tmp_path, blobs):
    X, y = blobs
    model = DistilledFastGRNN(LogisticRegression(), _student()).fit(X, y)
    path = tmp_path / "student.safetensors"
    skfastgrnn.save(model, path)
    restored = skfastgrnn.load(path)
    assert type(restored) is FastGRNNClassifier
    assert restored.get_params() == model.student_.get_params()
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_save_a_pipeline_ending_in_a_distilled_model(tmp_path):
    from skfastgrnn import SequenceScaler

    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 2, 6)) + 3  # aeon's layout: (n, channels, length)
    y = (X[:, 0].mean(axis=1) > 3).astype(int)
    model = make_pipeline(
        SequenceScaler(channels_first=True),
        DistilledFastGRNN(_sequence_flat_teacher(), _student()),
    ).fit(X, y)
    path = tmp_path / "pipe.safetensors"
    skfastgrnn.save(model, path)
    restored = skfastgrnn.load(path)
    assert [type(step) for _, step in restored.steps] == [SequenceScaler, FastGRNNClassifier]
    assert [name for name, _ in restored.steps] == [name for name, _ in model.steps]  # the step keeps its name
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    Xs = np.random.RandomState(1).normal(size=(20, 2, 6)) + 3
    np.testing.assert_array_equal(restored.predict(Xs), model.predict(Xs))


def test_save_an_unfitted_distilled_model_is_not_fitted_error(tmp_path):
    with pytest.raises(NotFittedError):
        skfastgrnn.save(DistilledFastGRNN(LogisticRegression(), _student()), tmp_path / "x.safetensors")
    with pytest.raises(NotFittedError):
        skfastgrnn.save(make_pipeline(StandardScaler(), DistilledFastGRNN()), tmp_path / "x.safetensors")


# ------------------------------------------------ calibration (issue 15)


def test_confidence_scale_reaches_the_wanted_mean_top_probability():
    from skfastgrnn._distill import confidence_scale

    rng = np.random.RandomState(0)
    for logits in (rng.normal(scale=15, size=(200, 4)), rng.normal(scale=0.2, size=(200, 4))):
        for c in (0.5, 0.8, 0.95):
            s = confidence_scale(logits, c)
            assert s > 0
            assert np.mean(_softmax(s * logits).max(axis=1)) == pytest.approx(c, abs=1e-6)
    # the rule: a near one-hot teacher is flattened (s < 1), an underconfident one sharpened (s > 1)
    assert confidence_scale(rng.normal(scale=15, size=(200, 4)), 0.9) < 1
    assert confidence_scale(rng.normal(scale=0.2, size=(200, 4)), 0.9) > 1


def test_teacher_confidence_scales_the_logits_before_the_temperature(blobs):
    X, y = blobs
    teacher = LogisticRegression().fit(X, y)
    plain = DistilledFastGRNN(FrozenEstimator(teacher), _student(), teacher_confidence=None).fit(X, y)
    assert plain.teacher_scale_ == 1.0
    model = DistilledFastGRNN(FrozenEstimator(teacher), _student(), teacher_confidence=0.6).fit(X, y)
    logits = np.log(teacher.predict_proba(X))
    assert np.mean(_softmax(model.teacher_scale_ * logits).max(axis=1)) == pytest.approx(0.6, abs=1e-6)
    assert not np.array_equal(plain.predict_proba(X), model.predict_proba(X))


# ------------------------------------------------ augmentation (issue 15)


def test_mixup_rows_take_the_teachers_class_as_hard_label():
    rng = np.random.RandomState(0)
    X3 = rng.normal(size=(40, 6, 2))
    y = (X3[:, :, 0].mean(axis=1) > 0).astype(int)
    teacher = FrozenEstimator(_sequence_flat_teacher().fit(X3, y))
    model = DistilledFastGRNN(
        teacher, _SpyStudent(**SMALL), augment=("jitter", "mixup"), augment_rounds=2, random_state=0
    )
    model.fit(X3, y)
    from skfastgrnn._augment import augment_rows

    new, source, teacher_labelled = augment_rows(X3, y, (("jitter", 1), ("mixup", 1)), 0, rounds=2)
    source_labels = y[source]
    seen = model.student_.seen_y_
    assert len(seen) == 40 + len(new) and teacher_labelled.sum() == 80
    aug = seen[40:]
    # jitter rows keep their source row's label; mixup rows get the teacher's prediction
    np.testing.assert_array_equal(aug[~teacher_labelled], source_labels[~teacher_labelled])
    X_aug = model.student_.seen_X_[40:]
    np.testing.assert_array_equal(aug[teacher_labelled], teacher.predict(X_aug[teacher_labelled]))
    # the teacher disagrees with the source row's label on some mixed rows, so the rule matters
    assert (aug[teacher_labelled] != source_labels[teacher_labelled]).any()


def test_augment_is_deterministic_and_reproducible_through_fit():
    from tests.conftest import make_variable_length

    X, y = make_variable_length(80)
    params = dict(augment=("jitter", "crop", "mix"), augment_rounds=1, random_state=0)
    # the teacher sees the ragged list as given: each sequence's mean into a logistic regression
    from sklearn.preprocessing import FunctionTransformer

    teacher = make_pipeline(
        FunctionTransformer(lambda S: np.array([np.nanmean(np.asarray(s), axis=0) for s in S])), LogisticRegression()
    )
    a = DistilledFastGRNN(teacher, _student(), **params).fit(X, y)
    b = DistilledFastGRNN(teacher, _student(), **params).fit(X, y)
    c = DistilledFastGRNN(teacher, _student(), **{**params, "random_state": 1}).fit(X, y)
    assert a.n_augmented_ == 3 * len(y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))
    plain = DistilledFastGRNN(teacher, _student(), augment=None).fit(X, y)
    assert plain.n_augmented_ == 0
    # the default "auto": the AUTO plan, augment_rounds rounds, for sequences; nothing for 2-D rows
    from skfastgrnn._augment import AUTO

    auto = DistilledFastGRNN(teacher, _student(), random_state=0)
    assert auto.fit(X, y).n_augmented_ == sum(AUTO.values()) * auto.augment_rounds * len(y)
    X2, y2 = np.random.RandomState(0).normal(size=(40, 3)), np.repeat([0, 1], 20)
    assert DistilledFastGRNN(LogisticRegression(), _student()).fit(X2, y2).n_augmented_ == 0
    # 3-D input too
    X3 = np.random.RandomState(0).normal(size=(60, 6, 2))
    y3 = (X3[:, :, 0].mean(axis=1) > 0).astype(int)
    m = DistilledFastGRNN(_sequence_flat_teacher(), _student(), augment="scale", random_state=0).fit(X3, y3)
    assert m.n_augmented_ == 6 * 60 and m.predict(X3).shape == (60,)


def test_augment_rounds_make_more_rows_and_keep_the_first_round():
    from skfastgrnn._augment import augment_rows

    rng = np.random.RandomState(0)
    X3, y = rng.normal(size=(20, 6, 2)), np.repeat([0, 1], 10)
    one, _, _ = augment_rows(X3, y, ("jitter", "mix"), 0)
    three, source, _ = augment_rows(X3, y, ("jitter", "mix"), 0, rounds=3)
    labels = y[source]
    assert three.shape == (120, 6, 2)
    np.testing.assert_array_equal(three[:40], one)  # round 1 is the rows rounds=1 makes
    np.testing.assert_array_equal(labels, np.tile(y, 6))
    assert not np.array_equal(three[:40], three[40:80])  # each round draws anew
    w = np.linspace(0.5, 1.5, 20)
    teacher = FrozenEstimator(_sequence_flat_teacher().fit(X3, y))
    m = DistilledFastGRNN(teacher, _student(), augment="jitter", augment_rounds=3, random_state=0)
    m.fit(X3, y, sample_weight=w)
    assert m.n_augmented_ == 60 and m.predict(X3).shape == (20,)
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="augment_rounds"):
            DistilledFastGRNN(_sequence_flat_teacher(), _student(), augment="jitter", augment_rounds=bad).fit(X3, y)


def test_augment_rejects_unknown_methods(blobs):
    X, y = blobs
    bad_plans = ("warp", ("jitter", "jitter"), (), ("auto",), {}, {"warp": 1}, {"mixup": 0}, {"mixup": 1.5})
    for bad in (*bad_plans, {"jitter": True}):
        with pytest.raises(ValueError, match="augment="):
            DistilledFastGRNN(LogisticRegression(), _student(), augment=bad).fit(X, y)


def test_augment_plan_counts_rows_and_weights_follow_the_source_row():
    from skfastgrnn._augment import augment_rows

    rng = np.random.RandomState(0)
    X3, y = rng.normal(size=(20, 6, 2)), np.repeat([0, 1], 10)
    new, source, marks = augment_rows(X3, y, (("jitter", 2), ("mixup", 3)), 0, rounds=2)
    assert new.shape == (2 * 5 * 20, 6, 2) and marks.sum() == 2 * 3 * 20
    np.testing.assert_array_equal(source, np.tile(np.arange(20), 10))
    w = np.linspace(0.5, 1.5, 20)
    teacher = FrozenEstimator(_sequence_flat_teacher().fit(X3, y))
    spy = _SpyStudent(**SMALL)
    m = DistilledFastGRNN(teacher, spy, augment={"jitter": 2, "mixup": 3}, augment_rounds=2, random_state=0)
    captured = {}
    original = _SpyStudent.fit_distilled

    def capture(self, X, y, soft_targets, **kwargs):
        captured["weight"] = kwargs["sample_weight"]
        return original(self, X, y, soft_targets, **kwargs)

    _SpyStudent.fit_distilled = capture
    try:
        m.fit(X3, y, sample_weight=w)
    finally:
        _SpyStudent.fit_distilled = original
    assert m.n_augmented_ == 200
    np.testing.assert_array_equal(captured["weight"], np.concatenate([w, w[source]]))


def test_the_aeon_recipe_of_the_docs_runs(tmp_path, monkeypatch):
    """docs/distillation.md's MiniRocket recipe runs, and its saved student predicts like the model."""
    pytest.importorskip("aeon")
    import re

    text = (REPO / "docs" / "distillation.md").read_text()
    blocks = [b for b in re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M) if "MiniRocket" in b]
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(blocks[0], "docs/distillation.md aeon recipe", "exec"), namespace)
    model, X_test = namespace["model"], namespace["X_test"]
    restored = skfastgrnn.load(tmp_path / "italy_student.safetensors")
    assert type(restored[-1]) is FastGRNNClassifier
    np.testing.assert_array_equal(restored.predict(X_test), model.predict(X_test))
    assert model.score(X_test, namespace["y_test"]) > 0.85


def test_the_time_series_table_measured_todays_defaults():
    """docs/distillation.md's time-series rows named "the defaults" were measured at today's defaults."""
    import json
    from pathlib import Path

    doc = json.loads((Path(__file__).parent.parent / "benchmarks/results/distillation_timeseries.json").read_text())
    defaults = DistilledFastGRNN()
    assert (defaults.augment, defaults.teacher_confidence, defaults.temperature) == ("auto", 0.9, 3.0)
    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    try:
        from bench_distillation import defaults_name
    finally:
        sys.path.pop(0)
    name = defaults_name()  # spells out the defaults: it changes when they change
    assert "mixup x4" in name and f"{defaults.augment_rounds} rounds" in name
    assert name in {row["variant"] for row in doc["rows"]}, "rerun bench_distillation.py --timeseries"


def test_docs_row_counts_follow_the_augment_defaults():
    """The row counts that docs/distillation.md and the docstring derive from the defaults stay true."""
    from pathlib import Path

    from skfastgrnn._augment import AUTO

    per_round = sum(AUTO.values())
    rows = per_round * DistilledFastGRNN().augment_rounds
    text = " ".join((Path(__file__).parent.parent / "docs" / "distillation.md").read_text().split())
    assert f"{rows} new rows per training row" in text
    assert text.count(f"{rows + 1} times the rows") == 2
    doc = " ".join(DistilledFastGRNN.__doc__.split())
    assert f"``1 + {per_round} * augment_rounds``" in doc and f"``{per_round} * augment_rounds`` rows" in doc
