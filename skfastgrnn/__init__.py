"""skfastgrnn: tiny FastGRNN recurrent classifiers and regressors, trained the scikit-learn way."""

from ._classifier import FastGRNNClassifier
from ._distill import DistilledFastGRNN
from ._export import export_c, to_onnx
from ._integer_model import IntegerModel
from ._persist import ModelFileError, load, save
from ._plot import plot_history
from ._registry import ModelRegistry
from ._regressor import FastGRNNRegressor
from ._scaler import SequenceScaler
from ._train import TrainingDivergedError
from ._version import __version__

__all__ = [
    "DistilledFastGRNN",
    "FastGRNNClassifier",
    "FastGRNNRegressor",
    "IntegerModel",
    "ModelFileError",
    "ModelRegistry",
    "SequenceScaler",
    "TrainingDivergedError",
    "__version__",
    "export_c",
    "load",
    "plot_history",
    "save",
    "to_onnx",
]
