"""Knowledge distillation, the guide's way: a saved big FastGRNN teaches a tiny one.

The guide loads a larger pre-trained teacher from ``models/teacher.safetensors``,
builds soft targets at temperature 3 and trains the student with 70 % soft and
30 % hard targets. Here, on sklearn's digits read as 8 timesteps of 8 pixels:

1. train a hidden-64 FastGRNN teacher (with its scaler) and save it to one file;
2. train a hidden-16 student from scratch, as the baseline;
3. distil: ``DistilledFastGRNN(teacher="teacher.safetensors", student=...)``
   loads the file as an already fitted teacher and trains the same student on
   its soft targets;
4. compare test accuracy and sizes, and save the student (with its scaler)
   alone: the teacher is not needed to predict.

One seed, one split: the benchmark (benchmarks/bench_distillation.py) gives the
spread over seeds. Run: python examples/distillation.py [--quick] [--seed N]
"""

import argparse
import tempfile
import time
import warnings
from pathlib import Path

from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skfastgrnn
from skfastgrnn import DistilledFastGRNN, FastGRNNClassifier
from skfastgrnn.datasets import load_digits_sequences


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 rows, 5 epochs: a smoke run of a few seconds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    # --quick only checks that everything runs; its accuracies mean nothing
    epochs = 5 if args.quick else 100

    X, y = load_digits_sequences()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=args.seed)
    if args.quick:
        X_train, y_train = X_train[:300], y_train[:300]

    def student():
        return FastGRNNClassifier(16, n_timesteps=8, epochs=epochs, random_state=args.seed)

    start = time.perf_counter()
    with warnings.catch_warnings():
        if args.quick:  # 5 epochs never converge, and that is fine for a smoke run
            warnings.simplefilter("ignore", ConvergenceWarning)

        # 1. the teacher: big and accurate, saved like the guide's models/teacher.safetensors.
        # DistilledFastGRNN hands the teacher the same rows as the student, so the
        # teacher is trained on standardized rows, as the student will see them.
        X_train_std = StandardScaler().fit_transform(X_train)
        teacher = FastGRNNClassifier(64, n_timesteps=8, l2_reg=3e-3, epochs=epochs, random_state=args.seed)
        teacher.fit(X_train_std, y_train)
        folder = Path(tempfile.mkdtemp())
        skfastgrnn.save(teacher, folder / "teacher.safetensors")

        # 2. the baseline: the same small student on the hard labels only
        scratch = make_pipeline(StandardScaler(), student()).fit(X_train, y_train)

        # 3. distillation: the file is the teacher. The pipeline's scaler, fitted on the
        # same rows, reproduces X_train_std exactly, so the teacher sees its own inputs.
        distilled = make_pipeline(
            StandardScaler(),
            DistilledFastGRNN(teacher=folder / "teacher.safetensors", student=student(), temperature=3.0, alpha=0.7),
        )
        distilled.fit(X_train, y_train)
    seconds = time.perf_counter() - start

    # 4. ship the student alone: scaler + hidden-16 network in one file
    deployable = make_pipeline(distilled[0], distilled[-1].student_)
    skfastgrnn.save(deployable, folder / "student.safetensors")

    X_test_std = distilled[0].transform(X_test)
    rows = [
        ("teacher (hidden 64)", teacher.score(X_test_std, y_test), teacher),
        ("student from scratch (hidden 16)", scratch.score(X_test, y_test), scratch[-1]),
        ("student distilled (hidden 16)", distilled.score(X_test, y_test), distilled[-1].student_),
    ]
    print(f"digits as 8x8 sequences, seed {args.seed}, {len(X_train)} training rows, {seconds:.1f} s")
    for name, accuracy, clf in rows:
        report = clf.size_report()
        print(
            f"{name:34s} test accuracy {accuracy:.2%}   {report['n_parameters']:5d} parameters, "
            f"{report['fp32_bytes']:6d} B fp32, {report['int8_bytes']:5d} B int8"
        )
    restored = skfastgrnn.load(folder / "student.safetensors")
    assert (restored.predict(X_test) == distilled.predict(X_test)).all()
    print(f"saved the distilled student with its scaler: {(folder / 'student.safetensors').stat().st_size} bytes")
    return rows


if __name__ == "__main__":
    main()
