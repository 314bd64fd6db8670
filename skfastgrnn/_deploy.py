"""Deployment methods of FastGRNNClassifier (save/load, quantize, prune, size).

Kept apart from ``_classifier`` so the estimator file stays about training and
prediction; FastGRNNClassifier inherits this mixin.
"""


class DeploymentMixin:
    """Methods for shipping a fitted model. Filled in by the persistence work."""
