"""skfastgrnn: tiny FastGRNN recurrent classifiers, trained the scikit-learn way."""

from ._classifier import FastGRNNClassifier
from ._train import TrainingDivergedError

__version__ = "0.1.0"

__all__ = ["FastGRNNClassifier", "TrainingDivergedError", "__version__"]
