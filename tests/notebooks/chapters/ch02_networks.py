"""02 networks: bypasses, typical mistakes and claims (read by test_chapters.py)."""

from dlcourse.grading.variants import Claim, Variant


def _forward(layer):
    return '''
def mlp_forward(X, weights, biases):
    if len(weights) != len(biases):
        raise ValueError(f"{len(weights)} weight matrices but {len(biases)} bias vectors")
    h = np.asarray(X)
    for i, (W, b) in enumerate(zip(weights, biases)):
''' + layer + '''
    return h
'''


_GOOD_COUNT = '''
def count_params(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
'''
_GOOD_WIDTH = '''
def width_for(n_in, n_out, n_hidden_layers, budget):
    counts = {w: count_params([n_in] + [w] * n_hidden_layers + [n_out]) for w in range(1, 4000)}
    return min(counts, key=lambda w: (abs(counts[w] - budget), w))
'''


def _sawtooth(first_b="[0.0, -0.5]", fold="[[2.0, 2.0], [-4.0, -4.0]]", out="[[2.0], [-4.0]]",
              hidden="k"):
    return f'''
def sawtooth_weights(k):
    weights = [np.array([[1.0, 1.0]])] + [np.array({fold})] * ({hidden} - 1) + [np.array({out})]
    biases = [np.array({first_b})] + [np.array([0.0, -0.5])] * ({hidden} - 1) + [np.array([0.0])]
    return weights, biases
'''


def _norms(expression):
    return '''
def gradient_norms(model, X, y):
    logits, cache = model.forward(X)
    _, dlogits = softmax_cross_entropy(logits, y)
    model.backward(dlogits, cache)
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    return np.array([''' + expression + ''' for layer in dense])
'''


BYPASSES = [
    Variant("ex_mlp_forward", "the library builds and runs the MLP", kind="bypass", source='''
from dlcourse.studies.architecture import mlp_from_weights

def mlp_forward(X, weights, biases):
    return mlp_from_weights(weights, biases)(X)
'''),
    Variant("ex_mlp_forward", "the library's Dense layers, one by one", kind="bypass", source='''
def mlp_forward(X, weights, biases):
    if len(weights) != len(biases):
        raise ValueError("lengths differ")
    h = np.asarray(X, dtype=np.float64)
    for i, (W, b) in enumerate(zip(weights, biases)):
        layer = Dense(*np.shape(W), dtype=np.float64)
        layer.params["W"][...] = W
        layer.params["b"][...] = b
        h, _ = layer.forward(h)
        if i < len(weights) - 1:
            h = np.maximum(h, 0)
    return h
'''),
    Variant("ex_width_for", "the library's count and width, assigned", kind="bypass", source='''
from dlcourse.studies.architecture import count_parameters, width_for_budget
count_params = count_parameters
width_for = width_for_budget
'''),
    Variant("ex_width_for", "count with an MLP object, search by hand", kind="bypass", source='''
def count_params(sizes):
    return MLP(list(sizes)).n_parameters()

def width_for(n_in, n_out, n_hidden_layers, budget):
    def gap(w):
        return abs(count_params([n_in] + [w] * n_hidden_layers + [n_out]) - budget), w
    return min(range(1, 2000), key=gap)
'''),
    Variant("ex_sawtooth", "the library's sawtooth network, unpacked", kind="bypass", source='''
from dlcourse.studies.architecture import sawtooth_network

def sawtooth_weights(k):
    dense = [layer for layer in sawtooth_network(k).layers if isinstance(layer, Dense)]
    return [l.params["W"].copy() for l in dense], [l.params["b"].copy() for l in dense]
'''),
    Variant("ex_sawtooth", "hard-coded for the visible k = 1, 2, 3", kind="bypass", source='''
_FOLD = [[2.0, 2.0], [-4.0, -4.0]]
_TABLE = {k: ([np.array([[1.0, 1.0]])] + [np.array(_FOLD)] * (k - 1) + [np.array([[2.0], [-4.0]])],
              [np.array([0.0, -0.5])] * k + [np.array([0.0])]) for k in (1, 2, 3)}

def sawtooth_weights(k):
    return _TABLE[min(k, 3)]
'''),
    Variant("ex_gradient_norms", "the library's layer_gradient_norms", kind="bypass", source='''
from dlcourse.studies.gradient_flow import layer_gradient_norms

def gradient_norms(model, X, y):
    return layer_gradient_norms(model, X, y)
'''),
]

MISTAKES = [
    # --- mlp_forward
    Variant("ex_mlp_forward", "ReLU on the logits too", expect=r"last layer must be linear",
            source=_forward('''        h = np.maximum(h @ W + b, 0)''')),
    Variant("ex_mlp_forward", "no ReLU between the layers", expect=r"no ReLU between the layers",
            source=_forward('''        h = h @ W + b''')),
    Variant("ex_mlp_forward", "forgets the biases", expect=r"biases are missing",
            source=_forward('''
        h = h @ W
        if i < len(weights) - 1:
            h = np.maximum(h, 0)''')),
    Variant("ex_mlp_forward", "transposed weights", expect=r"h @ W", source=_forward('''
        h = h @ W.T + b
        if i < len(weights) - 1:
            h = np.maximum(h, 0)''')),
    Variant("ex_mlp_forward", "no length check (zip drops a layer)",
            expect=r"must raise ValueError",
            source='''
def mlp_forward(X, weights, biases):
    h = np.asarray(X)
    for i, (W, b) in enumerate(zip(weights, biases)):
        h = h @ W + b
        if i < len(weights) - 1:
            h = np.maximum(h, 0)
    return h
'''),
    # --- count_params and width_for
    Variant("ex_width_for", "counts the weights only", expect=r"every unit also has a bias",
            source='''
def count_params(sizes):
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
''' + _GOOD_WIDTH),
    Variant("ex_width_for", "gives the input layer biases", expect=r"input layer biases",
            source='''
def count_params(sizes):
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) + sum(sizes)
''' + _GOOD_WIDTH),
    Variant("ex_width_for", "largest width under the budget",
            expect=r"closest width, not the largest",
            source=_GOOD_COUNT + '''
def width_for(n_in, n_out, n_hidden_layers, budget):
    w = 1
    while count_params([n_in] + [w + 1] * n_hidden_layers + [n_out]) <= budget:
        w += 1
    return w
'''),
    Variant("ex_width_for", "a tie goes to the larger width", expect=r"on a tie return the smaller",
            source=_GOOD_COUNT + '''
def width_for(n_in, n_out, n_hidden_layers, budget):
    counts = {w: count_params([n_in] + [w] * n_hidden_layers + [n_out]) for w in range(1, 4000)}
    return min(counts, key=lambda w: (abs(counts[w] - budget), -w))
'''),
    # --- sawtooth
    Variant("ex_sawtooth", "one hidden layer too many",
            expect=r"needs 1 hidden layer plus the output",
            source=_sawtooth(hidden="(k + 1)")),
    Variant("ex_sawtooth", "second unit's bias +1/2", expect=r"relu\(x - 1/2\)",
            source=_sawtooth(first_b="[0.0, 0.5]")),
    Variant("ex_sawtooth", "output layer h1 - 2 h2 (half of t)", expect=r"too small.*2 h1 - 4 h2",
            source=_sawtooth(out="[[1.0], [-2.0]]")),
    Variant("ex_sawtooth", "later layers pass h1 on instead of folding t",
            expect=r"each later layer must form t = 2 h1 - 4 h2",
            source=_sawtooth(fold="[[1.0, 1.0], [0.0, 0.0]]")),
    # --- gradient_norms
    Variant("ex_gradient_norms", "norms of the weights, not of the gradients",
            expect=r"norms of the weights", source=_norms('np.linalg.norm(layer.params["W"])')),
    Variant("ex_gradient_norms", "forgets the square root", expect=r"squared norms",
            source=_norms('np.sum(layer.grads["W"] ** 2)')),
    Variant("ex_gradient_norms", "output side first", expect=r"input side first", source='''
def gradient_norms(model, X, y):
    logits, cache = model.forward(X)
    _, dlogits = softmax_cross_entropy(logits, y)
    model.backward(dlogits, cache)
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    return np.array([np.linalg.norm(layer.grads["W"]) for layer in reversed(dense)])
'''),
    Variant("ex_gradient_norms", "includes the bias gradients",
            expect=r"bias gradients are included",
            source=_norms('np.sqrt(np.sum(layer.grads["W"] ** 2) '
                          '+ np.sum(layer.grads["b"] ** 2))')),
]

CLAIMS = [
    Claim("Adam with step size 3e-3 works out of the box on the digits",
          "assert history.val_accuracy[-1] > 0.9, history.val_accuracy[-1]"),
    Claim("the numpy MLP and its torch twin agree to rounding (float64)",
          "assert twin_gap < 1e-10, twin_gap"),
    Claim("at the same parameter count the 8-layer network is slower per training step",
          "assert step_ms[8] > 1.3 * step_ms[1], step_ms"),
    Claim("1, 2 and 4 hidden layers are within a few validation images of each other",
          "assert (max(shallow_ones) - min(shallow_ones)) * len(y_val) <= 8, shallow_ones"),
    Claim("8 hidden layers at the same budget are worse on average",
          "assert mean_acc[8] < min(shallow_ones) - 0.01, mean_acc"),
    Claim("k = 6: the deep network has 37 parameters, a shallow one of 37 has 12 units, and the "
          "bound on its error is 0.23",
          "assert deep_built.n_parameters() == 37 and m_units == 12\n"
          "assert MLP([1, m_units, 1]).n_parameters() == 37\n"
          "assert abs(shallow_bound - 0.228) < 0.001, shallow_bound"),
    Claim("the deep network built by hand draws the sawtooth exactly",
          "assert errors['deep, built by hand'] < 1e-12"),
    Claim("no shallow network of 37 parameters beats the bound; the trained one is no better "
          "than the constant 1/2",
          "assert errors['shallow, trained (best of 3)'] >= 0.95 * shallow_bound > 0.2\n"
          "assert errors['shallow, trained (best of 3)'] > errors['the constant 1/2'] - 0.01"),
    Claim("trained from random weights, the deep network does not find the sawtooth",
          "assert errors['deep, trained (best of 3)'] > 0.2"),
    Claim("sigmoid with N(0, 0.01²) weights: the first layer's gradient vanishes; He keeps the "
          "scale",
          "assert first_over_last['sigmoid, N(0, 0.01²) init'] < 1e-12\n"
          "assert first_over_last['sigmoid, Xavier init'] < 1e-3\n"
          "assert 0.1 < first_over_last['ReLU, He init'] < 10"),
    Claim("with SGD the sigmoid networks stay at a uniform guess; ReLU + He learns",
          "for label in ('sigmoid, N(0, 0.01²) init', 'sigmoid, Xavier init'):\n"
          "    assert trained_deep[label, 'SGD'][1] > 2.25\n"
          "    assert trained_deep[label, 'SGD'][2] < 0.2\n"
          "assert trained_deep['ReLU, He init', 'SGD'][1] < 0.5\n"
          "assert trained_deep['ReLU, He init', 'SGD'][2] > 0.85"),
    Claim("Adam does not rescue the N(0, 0.01²) sigmoid network; ReLU + He learns with Adam",
          "assert trained_deep['sigmoid, N(0, 0.01²) init', 'Adam'][1] > 2.25\n"
          "assert trained_deep['ReLU, He init', 'Adam'][2] > 0.85"),
]
