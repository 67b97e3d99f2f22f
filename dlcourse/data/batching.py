"""Mini-batches (小批量): the unit of work of stochastic gradient descent."""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import check_positive, check_same_length


def iterate_minibatches(X, y, batch_size: int, shuffle: bool = True, seed=0):
    """Yield ``(X_batch, y_batch)`` covering every sample exactly once (one epoch).

    With ``shuffle`` the order is a random permutation drawn from ``seed`` (an int or a
    ``numpy.random.Generator``; pass a Generator to get a new order every epoch). The last
    batch is smaller when ``batch_size`` does not divide ``n``. ``y`` may be None.
    """
    X = np.asarray(X)
    check_positive(batch_size, "batch_size", integer=True)
    if y is not None:
        y = np.asarray(y)
        check_same_length(X, y, "X", "y")
    n = X.shape[0]
    if shuffle:
        rng = np.random.default_rng(seed)
        order = rng.permutation(n)
    else:
        order = None
    for start in range(0, n, batch_size):
        if order is None:
            part = slice(start, start + batch_size)
        else:
            part = order[start:start + batch_size]
        yield X[part], (None if y is None else y[part])
