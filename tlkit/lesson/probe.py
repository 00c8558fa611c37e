"""The linear probe: how linearly separable a set of feature vectors is (standardised features, logistic regression)."""
from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def linear_probe(max_iter: int = 2000):
    """An unfitted scikit-learn probe: StandardScaler, then LogisticRegression."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))


def _numpy(x) -> np.ndarray:
    return x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def probe_accuracy(train_x, train_y, test_x, test_y, max_iter: int = 2000) -> float:
    """Test accuracy of a :func:`linear_probe` fitted on (train_x, train_y); tensors or arrays."""
    clf = linear_probe(max_iter).fit(_numpy(train_x), _numpy(train_y))
    return float((clf.predict(_numpy(test_x)) == _numpy(test_y)).mean())
