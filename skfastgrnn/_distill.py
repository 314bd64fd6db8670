"""DistilledFastGRNN: distil any teacher classifier into a tiny FastGRNN.

The meta-estimator only orchestrates: it fits (or loads) the teacher, turns
the teacher's outputs into soft targets, aligns their columns with the
student's classes and hands everything to the student's private
distillation path, ``FastGRNNClassifier._fit(..., distillation=...)``, whose
loss and exact gradient live in ``_cells.distillation_loss``.
"""

import os
import sys
import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import check_cv, cross_val_predict
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    has_fit_parameter,
    validate_data,
)

from ._augment import augment_rows, check_augment
from ._cells import softmax
from ._classifier import FastGRNNClassifier
from ._persist import load, saved_as
from ._sequences import as_steps, concatenate_sequences, is_sequence_list
from ._soft_targets import (  # noqa: F401  (re-exported: the public helpers)
    aligned_logits,
    confidence_scale,
    has_teacher_scores,
    scores_to_logits,
    soft_targets,
    teacher_logits,
)
from ._validation import StrictInterval, restore_on_error


@saved_as("student_")
class DistilledFastGRNN(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A tiny FastGRNN student trained on a teacher's soft targets.

    Knowledge distillation (Hinton et al., 2015): the teacher, any fitted
    classifier with ``predict_proba`` or ``decision_function``, labels every
    training row with soft targets ``q = softmax(s * teacher logits / T)``
    (``s``: the calibration of ``teacher_confidence``); the student, a
    :class:`FastGRNNClassifier`, minimizes::

        alpha * T**2 * CE(softmax(z / T), q) + (1 - alpha) * CE(softmax(z), y)

    with exact gradients (a weighted mean over each mini-batch, like plain
    training). Validation split and early stopping use the plain
    cross-entropy on the hard labels. Predictions come from the student
    alone: the teacher is only needed in ``fit``.

    Parameters
    ----------
    teacher : classifier, str, os.PathLike or None, default=None
        A classifier with ``predict_proba`` (preferred, logits are
        ``log predict_proba``) or ``decision_function`` (a binary 1-D one is
        expanded to the two columns ``[-d/2, d/2]``). It is cloned and fitted
        on ``(X, y, sample_weight)``, except when wrapped in
        ``sklearn.frozen.FrozenEstimator``, which is used as fitted. A path
        to a file written by :func:`skfastgrnn.save` loads that model as an
        already fitted teacher. None means
        ``HistGradientBoostingClassifier(random_state=0)``.
    student : FastGRNNClassifier or None, default=None
        Cloned and trained; None means ``FastGRNNClassifier()``. Its
        ``random_state`` controls the student's training. Nested parameters
        (``student__hidden_dim``) can be searched with GridSearchCV.
    temperature : float > 0, default=3.0
        Softmax temperature T of the soft targets and of the student's soft
        term. Larger T exposes more of the teacher's ranking of the wrong
        classes. Decision-function margins are used as logits unscaled, so a
        margin-based teacher (e.g. LinearSVC) may want a lower T.
    alpha : float in [0, 1], default=0.7
        Weight of the soft term; 0 is plain training on the hard labels (the
        same weights as ``student.fit``), 1 learns from the teacher alone.
    cv : int, cross-validation splitter, iterable or None, default=None
        Where the soft targets of the training rows come from, when
        ``DistilledFastGRNN`` fits the teacher. None: from the teacher fitted
        on all rows, which scores rows it was trained on (in-sample). An int
        k >= 2: out-of-fold, from ``cross_val_predict`` with clones of the
        teacher on an unshuffled ``StratifiedKFold(k)`` (deterministic), each
        row scored by a teacher that did not see it; a splitter or an
        iterable of (train, test) index pairs is used as given (its folds are
        drawn once, so a shuffling splitter without ``random_state`` still
        gives one consistent set of folds per fit). ``teacher_`` is the
        teacher fitted on all rows either way, and it alone labels
        ``X_unlabeled``. Out-of-fold costs k more teacher fits. Every class
        needs at least k rows and every fold's training rows every class,
        else a ValueError says which and suggests a smaller cv. Ignored for a
        frozen or loaded teacher, which was fitted elsewhere and is never
        refitted. Measured in ``docs/distillation.md`` (first table, cv=5
        against None, paired by seed): with the default gradient boosting
        teacher on digits, out-of-fold targets recover part of what in-sample
        targets lose but stay below training from scratch; on breast_cancer
        they cost a little, elsewhere they change little. Hence the default
        None.
    teacher_confidence : float in (0, 1) or None, default=0.9
        Calibration of the soft targets: all teacher logits are multiplied by
        one factor ``s`` (``teacher_scale_``) such that the teacher's mean top
        probability ``mean(max softmax(s * logits))`` over the training rows
        is ``teacher_confidence``; then the temperature applies. A teacher
        scoring its own training rows near one-hot (gradient boosting) is
        flattened, a teacher with small margins (a ridge classifier's
        ``decision_function``) sharpened; the ranking of rows and classes is
        kept. The same ``s`` applies to ``X_unlabeled`` and augmented rows.
        None uses the logits as they are (``s = 1``). Measured in
        ``docs/distillation.md`` (the calibration table and the time-series
        rows without augmentation): uncalibrated gradient boosting on digits
        costs the student accuracy and every calibrated value turns that into
        a gain; 0.8 gains a little more there but loses more where the teacher
        is below the student (routing), 0.95 is close to 0.9. Hence 0.9.
    augment : "auto", str, sequence of str, dict or None, default="auto"
        Make more rows for the teacher to label, from the training rows, in
        each of ``augment_rounds`` rounds: ``"jitter"`` (Gaussian noise, 0.1 x
        each channel's standard deviation), ``"scale"`` (one factor ~ N(1, 0.1)
        per sequence), ``"crop"`` (a random 80-100 % window resampled to the
        sequence's length; sequences only, a 2-D row is copied), ``"mix"`` (a
        convex mix, weight ~ U(0.5, 1), with a random row of the same class;
        hard label: the row's) and ``"mixup"`` (a convex mix, weight ~ U(0, 1),
        with a random row of any class; hard label: the teacher's most
        probable class). Other rows keep their source row's label; every
        augmented row has its source row's weight. A name or a sequence of
        names makes one row per training row, method and round; a dict maps
        names to that number of rows (``{"jitter": 1, "mixup": 4}``).
        ``"auto"``: ``{"jitter": 1, "scale": 1, "crop": 1, "mix": 1,
        "mixup": 4}`` for sequences (3-D arrays and lists), nothing for 2-D
        rows (not measured there; pass the methods to use them). None: no
        augmentation. Seeded by ``random_state``: the same seed gives the same
        rows. The transfer set is where distillation pays on small
        time-series sets: the teacher's knowledge between the training rows
        reaches the student only through rows it labels, and mixing across
        classes probes it where the classes meet. The "Time series" tables of
        ``docs/distillation.md`` measure each method, the defaults and the
        default before mixup. It costs fit time: the teacher scores and the
        student trains on ``1 + 8 * augment_rounds`` times the rows with
        ``"auto"``.
    augment_rounds : int >= 1, default=6
        How many times the plan of ``augment`` runs (each round draws new
        noise, windows, factors and partners), so ``"auto"`` makes
        ``8 * augment_rounds`` rows per training row. Ignored without
        augmentation. Fewer rounds fit faster and close less of the gap to
        the teacher (``docs/distillation.md``).
    random_state : int, RandomState or None, default=None
        Seeds ``augment`` (the student has its own ``random_state``).
    verbose : int, default=0
        0 prints nothing. 1 prints to stderr, as ``fit`` goes, the phase it is
        in and how long each took: the teacher's fit (or its loading), the
        out-of-fold soft targets (``cv``), and the student's training, whose
        epochs are printed one line each (the student is trained with
        ``verbose=1`` unless it has its own ``verbose``; ``student_`` keeps
        the student's own value).

    Attributes
    ----------
    teacher_ : classifier
        The fitted teacher (the FrozenEstimator itself when one was given,
        the loaded model for a path).
    student_ : FastGRNNClassifier
        The trained student; all predictions delegate to it.
    classes_ : ndarray of shape (n_classes,)
        The teacher's classes, sorted (they must include every label of
        ``y``; a frozen teacher may know more classes than ``y`` shows, and
        the student learns them from the soft targets).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X has string column names.
    n_transfer_ : int
        Rows of ``X_unlabeled`` labelled by the teacher in the last fit.
    n_augmented_ : int
        Augmented rows labelled by the teacher in the last fit (``augment``).
    teacher_scale_ : float
        The factor ``s`` of ``teacher_confidence`` (1.0 when it is None).

    See Also
    --------
    skfastgrnn.FastGRNNClassifier : The student, also usable alone.
    sklearn.frozen.FrozenEstimator : Pass a fitted teacher without refitting it.

    Notes
    -----
    ``X`` is 2-D rows (for sequences of one length, lay each row out
    ``[x_1, ..., x_T]`` and set the student's ``n_timesteps``), a 3-D array
    or a list of ``(T_i, n_features)`` sequences of any lengths, which the
    student reads NaN-padded. The teacher sees ``X`` (and
    ``X_unlabeled``) exactly as passed, so a DataFrame keeps its column names
    for it; the student sees the validated array. In a Pipeline both see the
    output of the preceding steps: a saved teacher that holds its own scaler
    would then scale twice, so save a teacher trained on the same inputs.

    :func:`skfastgrnn.save` saves a fitted instance (alone or as a
    Pipeline's last step) as its ``student_``: ``load`` returns a
    FastGRNNClassifier (or a Pipeline ending in one).

    Whether a teacher helps depends on the teacher and the data;
    ``docs/distillation.md`` has measurements (a hidden-64 FastGRNN teacher
    helped on digits, gradient boosting did not, whether it
    scored its own training rows or, with ``cv=5``, held-out folds; a transfer
    set gained most).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfastgrnn import DistilledFastGRNN, FastGRNNClassifier
    >>> X, y = make_classification(n_samples=300, n_features=5, random_state=0)
    >>> model = DistilledFastGRNN(
    ...     teacher=LogisticRegression(),
    ...     student=FastGRNNClassifier(hidden_dim=8, epochs=20, random_state=0),
    ... )
    >>> model.fit(X, y).score(X, y) > 0.8
    True
    >>> model.student_.hidden_dim
    8
    """

    _parameter_constraints = {
        "teacher": [HasMethods(["fit"]), str, os.PathLike, None],
        "student": [FastGRNNClassifier, None],
        "temperature": [StrictInterval(Real, 0, None, closed="neither")],
        "alpha": [StrictInterval(Real, 0, 1, closed="both")],
        "cv": ["cv_object"],
        "teacher_confidence": [StrictInterval(Real, 0, 1, closed="neither"), None],
        "augment": [str, list, tuple, dict, None],
        "augment_rounds": [StrictInterval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        teacher=None,
        student=None,
        *,
        temperature=3.0,
        alpha=0.7,
        cv=None,
        teacher_confidence=0.9,
        augment="auto",
        augment_rounds=6,
        random_state=None,
        verbose=0,
    ):
        self.teacher = teacher
        self.student = student
        self.temperature = temperature
        self.alpha = alpha
        self.cv = cv
        self.teacher_confidence = teacher_confidence
        self.augment = augment
        self.augment_rounds = augment_rounds
        self.random_state = random_state
        self.verbose = verbose

    def _progress(self, message, since=None):
        """With ``verbose``: one line ``[DistilledFastGRNN] message`` to stderr (`` in 1.2s`` since ``since``)."""
        if self.verbose:
            took = "" if since is None else f" in {time.perf_counter() - since:.1f}s"
            print(f"[{type(self).__name__}] {message}{took}", file=sys.stderr, flush=True)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, X_unlabeled=None):
        """Fit the teacher (unless frozen or loaded), then distil it into the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), 3-D array or list of 2-D arrays
            The training rows; sequences (3-D arrays or lists of
            ``(T_i, n_features)`` arrays) go to the teacher as given and to
            the student NaN-padded.
        y : array-like of shape (n_samples,)
            Class labels; all of them must be classes of the teacher.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the teacher's fit (which must then accept it) and to
            the student's.
        X_unlabeled : array-like of shape (n_unlabeled, n_features), default=None
            A transfer set: extra rows without labels. The teacher labels
            them; the student trains on ``X`` and these rows together, with
            the teacher's soft targets on every row and, as hard label of an
            unlabelled row, the teacher's most probable class. Their sample
            weight is the mean of ``sample_weight`` (1 without it), so the
            labelled/unlabelled balance does not depend on the weights'
            scale. They also take part in the student's validation split.

        Returns
        -------
        self : DistilledFastGRNN
            The fitted model (``teacher_``, ``student_``, ``classes_``).
        """
        started = time.perf_counter()
        with restore_on_error(self):
            X_teacher, X_unlabeled_teacher = X, X_unlabeled
            # sequences (3-D arrays, lists of (T_i, D) arrays, NaN padding) go to
            # the teacher as given and to the student as NaN-padded 3-D arrays;
            # the student validates the padding
            sequences = _is_sequence_input(X)
            if sequences:
                self.__dict__.pop("n_features_in_", None)
                X = as_steps(X)
                y = column_or_1d(y, warn=True)
                check_consistent_length(X, y)
            else:
                X, y = validate_data(
                    self, X, y, reset=True, dtype=[np.float64, np.float32], ensure_all_finite="allow-nan"
                )
            check_classification_targets(y)
            if sample_weight is not None:
                sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
                if not sample_weight.sum() > 0:
                    raise ValueError("sample_weight must contain at least one positive weight; all weights are zero.")
            if X_unlabeled is not None:
                if sequences:
                    X_unlabeled = as_steps(X_unlabeled)
                else:
                    X_unlabeled = validate_data(
                        self, X_unlabeled, reset=False, dtype=X.dtype, ensure_all_finite="allow-nan"
                    )

            plan = check_augment(self.augment, sequences)  # before any teacher is fitted
            teacher, folds = self._fitted_teacher(X_teacher, y, sample_weight)
            if folds is None:
                classes, logits = aligned_logits(teacher, X_teacher)
            else:
                classes, logits = self._out_of_fold_logits(teacher, X_teacher, y, sample_weight, folds)
            scale = 1.0 if self.teacher_confidence is None else confidence_scale(logits, self.teacher_confidence)
            targets = softmax(logits * (scale / self.temperature))
            missing = np.setdiff1d(np.unique(y), classes)
            if len(missing):
                raise ValueError(
                    f"y has labels {missing!r} that the teacher does not know (teacher classes: {classes!r}); "
                    "a frozen or loaded teacher must have been trained on every class of y."
                )

            X_student, y_student, weight = X, y, sample_weight
            n_transfer = n_augmented = 0
            if X_unlabeled is not None:
                self._progress(f"teacher: labelling {len(X_unlabeled)} rows of X_unlabeled")
                _, extra = aligned_logits(teacher, X_unlabeled_teacher)
                if extra.shape[0] != X_unlabeled.shape[0]:
                    raise ValueError(
                        f"the teacher returned {extra.shape[0]} rows for {X_unlabeled.shape[0]} rows of X_unlabeled."
                    )
                extra = softmax(extra * (scale / self.temperature))
                n_transfer = X_unlabeled.shape[0]
                X_student = concatenate_sequences(X, X_unlabeled) if sequences else np.concatenate([X, X_unlabeled])
                # argmax of softmax(z / T) is argmax of z: the teacher's own prediction
                y_student = np.concatenate([y, classes[extra.argmax(axis=1)]])
                targets = np.concatenate([targets, extra])
                if sample_weight is not None:
                    weight = np.concatenate([sample_weight, np.full(n_transfer, sample_weight.mean())])
            if plan:
                X_aug, source, y_aug, q_aug = self._augmented(teacher, X, X_teacher, y, plan, scale)
                n_augmented = len(y_aug)
                X_student = concatenate_sequences(X_student, X_aug) if sequences else np.concatenate([X_student, X_aug])
                y_student = np.concatenate([y_student, y_aug])
                targets = np.concatenate([targets, q_aug])
                if sample_weight is not None:
                    weight = np.concatenate([weight, sample_weight[source]])

            student = clone(self.student) if self.student is not None else FastGRNNClassifier()
            own_verbose = student.verbose
            if self.verbose and not own_verbose:
                student.set_params(verbose=1)  # the student's epochs are the progress of the longest phase
            self._progress(
                f"student: training {type(student).__name__}(hidden_dim={student.hidden_dim}) on {len(y_student)} "
                f"rows for at most {student.epochs} epochs (temperature={self.temperature}, alpha={self.alpha})"
            )
            since = time.perf_counter()
            student.fit_distilled(
                X_student,
                y_student,
                targets,
                temperature=float(self.temperature),
                alpha=float(self.alpha),
                sample_weight=weight,
                classes=classes,
            )
            student.set_params(verbose=own_verbose)
            self._progress(f"student: trained {student.n_iter_} epochs", since)
            self._progress("fit: done", started)
            self.teacher_ = teacher
            self.student_ = student
            self.classes_ = student.classes_
            if sequences:
                self.n_features_in_ = student.n_features_in_
            self.n_transfer_ = n_transfer
            self.n_augmented_ = n_augmented
            self.teacher_scale_ = scale
        return self

    def _augmented(self, teacher, X, X_teacher, y, plan, scale):
        """Augmented rows (student layout), their source rows, hard labels and the teacher's soft targets.

        The rows are made from the validated ``X`` (the student's layout); the
        teacher gets them in the layout it was given ``X`` in: a list for a
        list, an array otherwise, a DataFrame with ``X``'s columns for a
        DataFrame. Their hard label is the label of the row they were made
        from, or the teacher's class for rows mixed across classes.
        """
        source_rows = [np.asarray(s, dtype=np.float64) for s in X_teacher] if isinstance(X_teacher, list) else X
        X_new, source, teacher_labelled = augment_rows(source_rows, y, plan, self.random_state, self.augment_rounds)
        described = ", ".join(name if rows == 1 else f"{name} x{rows}" for name, rows in plan)
        self._progress(f"teacher: labelling {len(source)} augmented rows ({described} per row and round)")
        for_teacher = X_new
        columns = getattr(X_teacher, "columns", None)
        if columns is not None:
            for_teacher = type(X_teacher)(X_new, columns=columns)
        classes, logits = aligned_logits(teacher, for_teacher)
        # a row mixed across classes has no label of its own: the teacher's class is its hard label
        y_new = np.where(teacher_labelled, classes[logits.argmax(axis=1)], y[source])
        X_student = as_steps(X_new) if isinstance(X_new, list) else X_new
        return X_student, source, y_new, softmax(logits * (scale / self.temperature))

    def _fitted_teacher(self, X, y, sample_weight):
        """The teacher to use and the out-of-fold folds (None: in-sample soft targets).

        The teacher is loaded from a file, frozen as given, or a clone fitted
        on all rows; ``cv`` only applies to the last kind.
        """
        teacher = self.teacher
        if isinstance(teacher, (str, os.PathLike)):
            self._progress(f"teacher: loading {os.fspath(teacher)}")
            return load(teacher), None  # a saved model is fitted by construction
        if teacher is None:
            teacher = HistGradientBoostingClassifier(random_state=0)
        # fail before a possibly long teacher fit
        if not has_teacher_scores(teacher):
            raise ValueError(
                f"the teacher {type(teacher).__name__} has neither predict_proba nor decision_function; "
                "DistilledFastGRNN needs one of them to build soft targets."
            )
        if isinstance(teacher, FrozenEstimator):
            check_is_fitted(teacher)  # NotFittedError when the wrapped model was never fitted
            self._progress(f"teacher: the frozen {type(teacher.estimator).__name__}, used as fitted")
            return teacher, None
        # a teacher fitted on y knows only y's classes, and the student needs two
        # (a frozen teacher may know more, so this waits until here)
        labels = np.unique(y)
        if len(labels) < 2:
            raise ValueError(f"DistilledFastGRNN needs samples of at least 2 classes; got 1 class: {labels[0]!r}.")
        if sample_weight is not None and not has_fit_parameter(teacher, "sample_weight"):
            raise ValueError(
                f"sample_weight was given but the teacher {type(teacher).__name__}'s fit does not accept it; "
                "fit the teacher yourself and pass it as FrozenEstimator(teacher), or drop sample_weight."
            )
        # the folds are checked before any teacher is fitted: a bad cv fails fast
        folds = None if self.cv is None else self._folds(X, y, labels)
        teacher = clone(teacher)
        self._progress(f"teacher: fitting {type(teacher).__name__} on {len(y)} rows")
        since = time.perf_counter()
        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        teacher.fit(X, y, **fit_params)
        self._progress("teacher: fitted", since)
        return teacher, folds

    def _folds(self, X, y, labels):
        """The (train, test) index pairs of ``cv``, drawn once and checked.

        Drawn once so that the folds checked here are the folds used, even for
        a shuffling splitter without a ``random_state``.
        """
        if isinstance(self.cv, Integral):
            # check_cv would make the same StratifiedKFold; its own message for a
            # too-small class is a warning only when another class is large enough
            counts = np.array([np.sum(y == label) for label in labels])
            if counts.min() < self.cv:
                i = counts.argmin()
                rare = labels[i : i + 1].tolist()[0]  # a plain Python label in the message, whatever the dtype
                smaller = f"cv={counts.min()} or less, or cv=None" if counts.min() >= 2 else "cv=None"
                raise ValueError(
                    f"cv={self.cv}: class {rare!r} has only {counts.min()} row(s), fewer than the {self.cv} folds, "
                    f"so some out-of-fold teacher would never see it; pass {smaller} (in-sample soft targets)."
                )
        # an int becomes an unshuffled StratifiedKFold: the same folds, hence the same soft targets, every fit
        splitter = check_cv(self.cv, y, classifier=True)
        folds = list(splitter.split(X, y))
        for i, (train, _) in enumerate(folds):
            missing = np.setdiff1d(labels, y[train])
            if len(missing):
                raise ValueError(
                    f"the training rows of fold {i} of cv={self.cv!r} have no row of class(es) "
                    f"{missing.tolist()!r}, so that fold's teacher cannot score them; use a stratified splitter "
                    "or fewer folds, or cv=None."
                )
        return folds

    def _out_of_fold_logits(self, teacher, X, y, sample_weight, folds):
        """Logits of the training rows from teachers that did not train on them.

        ``cross_val_predict`` fits a clone of the (unfitted) teacher per fold;
        ``teacher``, fitted on all rows, only says which method to call.
        """
        prototype = self.teacher if self.teacher is not None else HistGradientBoostingClassifier(random_state=0)
        classes = np.unique(y)
        if not np.array_equal(np.unique(np.asarray(teacher.classes_)), classes):
            raise ValueError(
                f"the teacher fitted on y has classes_ {teacher.classes_!r}, not the labels of y {classes!r}; "
                "out-of-fold soft targets need a teacher that learns exactly the classes of y (or use cv=None)."
            )
        method = "predict_proba" if hasattr(teacher, "predict_proba") else "decision_function"
        self._progress(f"soft targets: out of fold, {len(folds)} more teacher fits (cv={self.cv!r})")
        since = time.perf_counter()
        # cross_val_predict orders the columns by np.unique(y), the student's class order
        scores = cross_val_predict(
            clone(prototype),
            X,
            y,
            cv=folds,
            method=method,
            params=None if sample_weight is None else {"sample_weight": sample_weight},
        )
        logits = scores_to_logits(scores, method, classes)
        self._progress("soft targets: computed out of fold", since)
        return classes, logits

    # ---------------------------------------------------------- predict

    def __sklearn_is_fitted__(self):
        return hasattr(self, "student_")

    def _check_X(self, X):
        check_is_fitted(self)
        if _is_sequence_input(X):  # any number of steps: the student checks the features per step
            return X
        return validate_data(self, X, reset=False, dtype=[np.float64, np.float32], ensure_all_finite="allow-nan")

    def predict(self, X):
        """Class of each row, by the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), 3-D array or list of 2-D arrays
            Rows as in :meth:`fit` (sequences if the model was fitted on sequences).

        Returns
        -------
        ndarray of shape (n_samples,)
            One of ``classes_`` per row.
        """
        X = self._check_X(X)  # before student_: NotFittedError, not AttributeError
        return self.student_.predict(X)

    def predict_proba(self, X):
        """Class probabilities by the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), 3-D array or list of 2-D arrays
            Rows as in :meth:`fit` (sequences if the model was fitted on sequences).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities, columns in ``classes_`` order; each row sums to 1.
        """
        X = self._check_X(X)
        return self.student_.predict_proba(X)

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably by the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), 3-D array or list of 2-D arrays
            Rows as in :meth:`fit` (sequences if the model was fitted on sequences).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in ``classes_`` order.
        """
        X = self._check_X(X)
        return self.student_.predict_log_proba(X)

    def decision_function(self, X):
        """The student's logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), 3-D array or list of 2-D arrays
            Rows as in :meth:`fit` (sequences if the model was fitted on sequences).

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes one score per row (> 0 favours ``classes_[1]``),
            else one logit per class in ``classes_`` order.
        """
        X = self._check_X(X)
        return self.student_.decision_function(X)

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of the student on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), 3-D array or list of 2-D arrays
            Rows as in :meth:`fit` (sequences if the model was fitted on sequences).
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the mean.

        Returns
        -------
        float
            The fraction of rows whose predicted class is ``y``.
        """
        X = self._check_X(X)
        return self.student_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # the student is trained on every row: NaN would reach it even when the teacher copes
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags


def _is_sequence_input(X):
    """A 3-D array or a list of 2-D sequences (not 2-D rows); an array of more dimensions is a clear error."""
    ndim = getattr(X, "ndim", None)
    if (ndim or 0) > 3 or (ndim is None and isinstance(X, (list, tuple)) and len(X) and np.ndim(X[0]) > 2):
        as_steps(X)  # raises the error that names the accepted layouts
    return is_sequence_list(X) or ndim == 3
