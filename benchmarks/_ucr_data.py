"""Offline time-series data for ``bench_ucr.py`` and the sequence helpers the peers share.

Seven UCR/UEA problems ship inside the aeon wheel (``<aeon>/datasets/data``); they are
read with ``aeon.datasets.load_classification(name, split=..., extract_path=...)``,
which never downloads when the files are there (we check first and fail with a clear
message otherwise). sklearn's digits are the eighth set: 8 image rows as 8 timesteps
of 8 pixels, a stratified 70/30 split seeded by the run's seed.

aeon returns ``(n, channels, length)`` arrays, or for unequal lengths a list of
``(channels, length_i)`` arrays ("channels first"); digits come as ``(n, T, D)``
("channels last"). A :class:`Dataset` keeps the data as loaded and says which layout it
has; :func:`time_major` turns either into a list of ``(length_i, channels)`` arrays, the
layout every peer works on.

aeon is imported lazily, inside :func:`load`, so that rendering the README block (and
the tests) never import it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

#: benchmark name -> the name aeon ships it under (``None``: not an aeon set)
AEON_NAMES = {
    "ItalyPowerDemand": "ItalyPowerDemand",
    "JapaneseVowels": "JapaneseVowels",
    "ArrowHead": "ArrowHead",
    "OSULeaf": "OSULeaf",
    "ACSF1": "ACSF1",
    "PickupGestureWiimoteZ": "PickupGestureWiimoteZ",
    # aeon ships Chinatown as "UnitTest": the full training set (20 series), the test
    # set cut to 22 series
    "Chinatown": "UnitTest",
    "digits": None,
}
DATASETS = tuple(AEON_NAMES)
ALIASES = {"unittest": "Chinatown"}


def canonical_name(name: str) -> str:
    """The benchmark's spelling of a data set name (case-insensitive; UnitTest -> Chinatown)."""
    lowered = name.strip().lower()
    lowered = ALIASES.get(lowered, lowered).lower()
    for known in DATASETS:
        if known.lower() == lowered:
            return known
    raise ValueError(f"unknown data set {name!r}; choose from {', '.join(DATASETS)} (or UnitTest)")


@dataclass
class Dataset:
    """One train/test split, as loaded (``channels_first`` says the layout of ``X``)."""

    name: str
    X_train: object  # 3-D array or list of 2-D arrays
    y_train: np.ndarray
    X_test: object
    y_test: np.ndarray
    channels_first: bool
    source: str
    seed_dependent: bool = False  # the split itself changes with the seed (digits)
    info: dict = field(default_factory=dict)


def aeon_data_dir() -> str:
    """The folder where the installed aeon keeps its bundled data sets."""
    import aeon

    return os.path.join(os.path.dirname(aeon.__file__), "datasets", "data")


def load(name: str, seed: int = 0) -> Dataset:
    """Load data set ``name`` (official split; digits: stratified 70/30 seeded by ``seed``)."""
    name = canonical_name(name)
    if name == "digits":
        ds = _load_digits(seed)
    else:
        ds = _load_aeon(name)
    ds.info = describe(ds)
    return ds


def _load_aeon(name: str) -> Dataset:
    from aeon.datasets import load_classification

    aeon_name = AEON_NAMES[name]
    folder = aeon_data_dir()
    for split in ("TRAIN", "TEST"):
        path = os.path.join(folder, aeon_name, f"{aeon_name}_{split}.ts")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} is missing: this aeon does not ship {aeon_name}; we never download")
    parts = {}
    for split in ("train", "test"):
        X, y = load_classification(aeon_name, split=split, extract_path=folder)
        parts[split] = (X, np.asarray(y))
    source = f"aeon {aeon_name}" if aeon_name == name else f"aeon {aeon_name} (= {name}, reduced test set)"
    return Dataset(name, *parts["train"], *parts["test"], channels_first=True, source=source)


def _load_digits(seed: int) -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = X.reshape(-1, 8, 8)  # 8 rows (timesteps) x 8 pixels (features)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    return Dataset(
        "digits",
        X_tr,
        y_tr,
        X_te,
        y_te,
        channels_first=False,
        source="sklearn digits, stratified 70/30 split seeded by the seed",
        seed_dependent=True,
    )


# ----------------------------------------------------------------------------- layout


def time_major(X, channels_first: bool) -> list[np.ndarray]:
    """A list of float64 ``(length_i, channels)`` arrays, from either layout."""
    if channels_first:
        return [np.asarray(x, dtype=np.float64).T for x in X]
    return [np.asarray(x, dtype=np.float64) for x in X]


def channels_first_list(X, channels_first: bool):
    """``X`` in aeon's layout: ``(n, C, L)`` array when equal length, else a list of ``(C, L_i)``."""
    if channels_first:
        return X
    return np.ascontiguousarray(np.asarray(X).transpose(0, 2, 1))


def lengths_of(seqs: list[np.ndarray]) -> np.ndarray:
    """Lengths of a list of time-major ``(length_i, channels)`` arrays."""
    return np.array([len(s) for s in seqs], dtype=np.int64)


def describe(ds: Dataset) -> dict:
    """Sizes of a data set: rows, classes, channels, length range (plain JSON types)."""
    train, test = time_major(ds.X_train, ds.channels_first), time_major(ds.X_test, ds.channels_first)
    lengths = np.concatenate([lengths_of(train), lengths_of(test)])
    return {
        "n_train": len(train),
        "n_test": len(test),
        "channels": int(train[0].shape[1]),
        "min_length": int(lengths.min()),
        "max_length": int(lengths.max()),
        "max_train_length": int(lengths_of(train).max()),
        "classes": len(np.unique(np.concatenate([ds.y_train, ds.y_test]))),
        "source": ds.source,
    }


class ChannelStandardizer:
    """z-score per channel, statistics over every (valid) timestep of the training series."""

    def fit(self, seqs: list[np.ndarray]):
        """Mean and standard deviation per channel (a constant channel gets scale 1)."""
        steps = np.concatenate(seqs, axis=0)
        self.mean_ = steps.mean(axis=0)
        std = steps.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, seqs: list[np.ndarray]) -> list[np.ndarray]:
        """The standardized series (new arrays)."""
        return [(s - self.mean_) / self.scale_ for s in seqs]


def pad(seqs: list[np.ndarray], length: int, fill: float = 0.0, dtype=np.float32):
    """``(n, length, C)`` array (series cut or padded at the end with ``fill``) and the valid lengths."""
    out = np.full((len(seqs), length, seqs[0].shape[1]), fill, dtype=dtype)
    valid = np.empty(len(seqs), dtype=np.int64)
    for i, s in enumerate(seqs):
        n = min(len(s), length)
        out[i, :n] = s[:n]
        valid[i] = n
    return out, valid
