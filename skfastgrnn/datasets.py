"""Built-in data: synthetic routing logs and digits read as sequences.

Nothing here downloads anything.
"""

from sklearn.datasets import load_digits
from sklearn.utils import check_random_state

ROUTING_FEATURES = ("similarity", "recency", "popularity", "success_rate", "complexity")


def make_routing(n_samples=5000, *, noise=0.05, random_state=None):
    """Generate routing logs like the Tiny Dancer guide's (did the lightweight model suffice?).

    Each row holds five scores in [0, 1] (``ROUTING_FEATURES``): semantic
    similarity between query and candidate, recency, popularity, the
    candidate's historical success rate and the query's complexity, drawn
    independently and uniformly. The label is 1 ("the lightweight model was
    sufficient") when::

        1.2 * similarity * success_rate + 0.3 * recency * popularity - 0.9 * complexity**2 > 0.05

    and 0 otherwise, then a fraction ``noise`` of the labels is flipped. The
    products and the square make the boundary non-linear, so a linear model
    cannot reach the noise ceiling (about ``1 - noise``); the classes are
    roughly balanced (53% ones).

    Parameters
    ----------
    n_samples : int, default=5000
        Number of rows (logged routing decisions).
    noise : float in [0, 0.5), default=0.05
        Fraction of labels flipped at random.
    random_state : int, RandomState instance or None, default=None
        Seed of the scores and of the label noise; an int gives the same
        data at every call.

    Returns
    -------
    X : ndarray of shape (n_samples, 5)
        The five scores of each row, in the order of ``ROUTING_FEATURES``.
    y : ndarray of int of shape (n_samples,)
        1 when the lightweight model sufficed, else 0 (after the noise).

    See Also
    --------
    load_digits_sequences : Digits read as sequences of 8 timesteps.

    Examples
    --------
    >>> from skfastgrnn.datasets import make_routing
    >>> X, y = make_routing(1000, random_state=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((1000, 5), [0, 1])
    """
    if not 0 <= noise < 0.5:
        raise ValueError(f"noise must be in [0, 0.5), got {noise!r}.")
    if int(n_samples) < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples!r}.")
    rng = check_random_state(random_state)
    X = rng.uniform(size=(int(n_samples), 5))
    similarity, recency, popularity, success_rate, complexity = X.T
    score = 1.2 * similarity * success_rate + 0.3 * recency * popularity - 0.9 * complexity**2
    y = (score > 0.05).astype(int)
    flip = rng.uniform(size=len(y)) < noise
    y[flip] = 1 - y[flip]
    return X, y


def load_digits_sequences():
    """Load scikit-learn's 8x8 digits as sequences of 8 timesteps of 8 pixels.

    Each image is read row by row (timestep t = pixel row t), so a row of the
    returned X is already laid out ``[x_1, ..., x_8]``: use
    ``FastGRNNClassifier(n_timesteps=8)``.

    Returns
    -------
    X : ndarray of shape (1797, 64)
        The images, row by row: columns ``8 * t`` to ``8 * t + 7`` hold
        pixel row ``t`` (values 0 to 16).
    y : ndarray of shape (1797,)
        The digit shown, 0 to 9.

    See Also
    --------
    sklearn.datasets.load_digits : The same images as 8x8 pixels.
    make_routing : Synthetic routing logs of one timestep.

    Examples
    --------
    >>> from skfastgrnn.datasets import load_digits_sequences
    >>> X, y = load_digits_sequences()
    >>> X.shape
    (1797, 64)
    """
    X, y = load_digits(return_X_y=True)
    return X, y
