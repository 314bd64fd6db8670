"""Tests of the transfer-set augmentation (``skfastgrnn._augment``); through ``DistilledFastGRNN`` in test_distill."""

import numpy as np
import pytest

from skfastgrnn._augment import AUGMENTATIONS, AUTO, augment_rows, check_augment


def test_augment_rows_layouts_labels_and_determinism():
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], 10)
    X3 = rng.normal(size=(30, 12, 2))
    X3[0, 9:] = np.nan  # one shorter, NaN-padded sequence keeps its padding
    ragged = [rng.normal(size=(n, 2)) for n in rng.randint(4, 15, size=30)]
    X2 = rng.normal(size=(30, 5))
    k = len(AUGMENTATIONS)
    for X in (X3, ragged, X2):
        new, source, teacher_labelled = augment_rows(X, y, AUGMENTATIONS, 0)
        labels = y[source]
        again, _, _ = augment_rows(X, y, AUGMENTATIONS, 0)
        other, _, _ = augment_rows(X, y, AUGMENTATIONS, 1)
        np.testing.assert_array_equal(labels, np.tile(y, k))
        # only the mixup block (the last method) is marked for the teacher's labels
        np.testing.assert_array_equal(teacher_labelled, np.repeat([m == "mixup" for m in AUGMENTATIONS], 30))
        assert len(new) == k * 30
        if isinstance(X, list):
            assert [s.shape for s in new] == [s.shape for s in ragged] * k
            assert all(np.array_equal(a, b) for a, b in zip(new, again, strict=True))
            assert not all(np.array_equal(a, b) for a, b in zip(new, other, strict=True))
        else:
            assert new.shape == (k * 30, *X.shape[1:])
            np.testing.assert_array_equal(new, again)
            assert not np.array_equal(np.nan_to_num(new), np.nan_to_num(other))
    new, _, _ = augment_rows(X3, y, ("crop",), 0)
    assert np.isnan(new[0, 9:]).all() and np.isfinite(new[0, :9]).all() and np.isfinite(new[1:]).all()
    # mixing stays inside a class: two classes of constant rows +1 and -1 give rows of the same sign
    Xc = np.where(y[:, None, None] == 0, 1.0, -1.0) * np.ones((30, 4, 1))
    mixed, labels, _ = augment_rows(Xc, y, ("mix",), 0)
    np.testing.assert_allclose(mixed, Xc)
    # mixup crosses classes: values strictly between -1 and +1 appear, all within [-1, 1]
    mixed, _, teacher_labelled = augment_rows(Xc, y, ("mixup",), 0)
    assert teacher_labelled.all() and np.abs(mixed).max() <= 1
    assert (np.abs(mixed[:, 0, 0]) < 0.99).sum() > 10


def test_check_augment_plans():
    assert check_augment("auto") == tuple(AUTO.items()) and check_augment("auto", sequences=False) == ()
    assert [name for name, _ in check_augment("auto")] == list(AUGMENTATIONS)  # every method by default
    assert check_augment(("mix", "jitter")) == (("jitter", 1), ("mix", 1))  # in the order of AUGMENTATIONS
    assert check_augment({"mixup": 3, "crop": 2}) == (("crop", 2), ("mixup", 3))
    assert check_augment(None) == ()


@pytest.mark.parametrize(
    "bad", ["warp", ("jitter", "jitter"), (), ("auto",), {}, {"warp": 1}, {"mixup": 0}, {"jitter": True}]
)
def test_check_augment_names_the_choices(bad):
    with pytest.raises(ValueError, match="augment="):
        check_augment(bad)
