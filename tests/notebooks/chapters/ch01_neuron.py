"""01 neuron: bypasses, typical mistakes and claims (read by test_chapters.py)."""

from dlcourse.grading.variants import Claim, Variant

_GOOD_SIGMOID = '''
def my_sigmoid(z):
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype)
'''
_GOOD_SIGMOID_GRAD = '''
def my_sigmoid_grad(z):
    s = my_sigmoid(z)
    return s * (1 - s)
'''
_GOOD_FORWARD = '''
def neuron_forward(X, w, b, activation="sigmoid"):
    X, w = np.asarray(X, dtype=float), np.asarray(w, dtype=float)
    if X.shape[1] != w.shape[0]:
        raise ValueError(f"X has shape {X.shape} but there are {w.shape[0]} weights")
    return {"sigmoid": sigmoid, "tanh": tanh, "relu": relu}[activation](X @ w + b)
'''
_GOOD_BACKWARD = '''
def neuron_backward(X, w, b, da, activation="sigmoid"):
    X, w, da = (np.asarray(v, dtype=float) for v in (X, w, da))
    dz = da * {"sigmoid": sigmoid_grad, "tanh": tanh_grad, "relu": relu_grad}[activation](X @ w + b)
    return np.outer(dz, w), X.T @ dz, float(dz.sum())
'''


def _train(update):
    return '''
def train_neuron(X, y, lr=0.5, epochs=200):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    n, d = X.shape
    w, b, losses = np.zeros(d), 0.0, []
    for _ in range(epochs):
        a = sigmoid(X @ w + b)
        p = np.clip(a, 1e-12, 1 - 1e-12)
        losses.append(float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))))
''' + update + '''
    return w, b, losses
'''


BYPASSES = [
    Variant("ex_sigmoid", "call the library's sigmoid", kind="bypass", source='''
from dlcourse.core.activations import sigmoid, sigmoid_grad

def my_sigmoid(z):
    return sigmoid(z)

def my_sigmoid_grad(z):
    return sigmoid_grad(z)
'''),
    Variant("ex_sigmoid", "scipy's expit, assigned", kind="bypass", source='''
from scipy.special import expit
my_sigmoid = expit

def my_sigmoid_grad(z):
    s = expit(z)
    return s * (1 - s)
'''),
    Variant("ex_sigmoid", "torch's sigmoid", kind="bypass", source='''
import torch

def my_sigmoid(z):
    return torch.sigmoid(torch.as_tensor(np.asarray(z))).numpy()

def my_sigmoid_grad(z):
    s = torch.as_tensor(np.asarray(z)).sigmoid()
    return (s * (1 - s)).numpy()
'''),
    Variant("ex_neuron", "the library's Neuron does both passes", kind="bypass", source='''
def _neuron(w, b, activation):
    n = Neuron(len(w), activation)
    n.params["w"][...] = w
    n.params["b"][...] = b
    return n

def neuron_forward(X, w, b, activation="sigmoid"):
    return _neuron(w, b, activation)(X)

def neuron_backward(X, w, b, da, activation="sigmoid"):
    n = _neuron(w, b, activation)
    _, cache = n.forward(X)
    dX = n.backward(da, cache)
    return dX, n.grads["w"].copy(), float(n.grads["b"])
'''),
    Variant("ex_train_neuron", "the library's Neuron.fit", kind="bypass", source='''
def train_neuron(X, y, lr=0.5, epochs=200):
    n = Neuron(np.shape(X)[1], "sigmoid")
    n.params["w"][...] = 0.0
    n.fit(X, y, lr=lr, epochs=epochs)
    return n.params["w"].copy(), float(n.params["b"]), list(n.loss_history_)
'''),
    Variant("ex_train_neuron", "the library's loss-and-gradient function", kind="bypass",
            source='''
from dlcourse.core.losses import binary_cross_entropy_with_logits

def train_neuron(X, y, lr=0.5, epochs=200):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    w, b, losses = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        loss, dz = binary_cross_entropy_with_logits(X @ w + b, y)
        losses.append(loss)
        w, b = w - lr * X.T @ dz, b - lr * float(dz.sum())
    return w, b, losses
'''),
]

MISTAKES = [
    # --- sigmoid
    Variant("ex_sigmoid", "the naive formula overflows", expect=r"overflow.*exp",
            source='''
def my_sigmoid(z):
    return 1 / (1 + np.exp(-np.asarray(z)))
''' + _GOOD_SIGMOID_GRAD),
    Variant("ex_sigmoid", "np.where with both branches unsafe", expect=r"both of its branches",
            source='''
def my_sigmoid(z):
    z = np.asarray(z)
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))
''' + _GOOD_SIGMOID_GRAD),
    Variant("ex_sigmoid", "converts float32 to float64", expect=r"float32 in must give float32 out",
            source='''
def my_sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
''' + _GOOD_SIGMOID_GRAD),
    Variant("ex_sigmoid", "swapped the two formulas", expect=r"swap", source='''
def my_sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, e / (1.0 + e), 1.0 / (1.0 + e))
''' + _GOOD_SIGMOID_GRAD),
    Variant("ex_sigmoid", "derivative 1 - sigma^2 (tanh's pattern)", expect=r"tanh's derivative",
            source=_GOOD_SIGMOID + '''
def my_sigmoid_grad(z):
    s = my_sigmoid(z)
    return 1 - s ** 2
'''),
    Variant("ex_sigmoid", "derivative written with z instead of sigma(z)", expect=r"not with z",
            source=_GOOD_SIGMOID + '''
def my_sigmoid_grad(z):
    return my_sigmoid(z) * (1 - z)
'''),
    Variant("ex_sigmoid", "derivative e^-z / (1 + e^-z)^2 overflows",
            expect=r"my_sigmoid_grad overflowed", source=_GOOD_SIGMOID + '''
def my_sigmoid_grad(z):
    e = np.exp(-np.asarray(z))
    return e / (1 + e) ** 2
'''),
    # --- neuron forward and backward
    Variant("ex_neuron", "forward forgets the bias", expect=r"miss the bias", source='''
def neuron_forward(X, w, b, activation="sigmoid"):
    X, w = np.asarray(X, dtype=float), np.asarray(w, dtype=float)
    if X.shape[1] != w.shape[0]:
        raise ValueError(f"X has shape {X.shape} but there are {w.shape[0]} weights")
    return {"sigmoid": sigmoid, "tanh": tanh, "relu": relu}[activation](X @ w)
''' + _GOOD_BACKWARD),
    Variant("ex_neuron", "forward forgets the activation", expect=r"apply the activation",
            source='''
def neuron_forward(X, w, b, activation="sigmoid"):
    X, w = np.asarray(X, dtype=float), np.asarray(w, dtype=float)
    if X.shape[1] != w.shape[0]:
        raise ValueError(f"X has shape {X.shape} but there are {w.shape[0]} weights")
    return X @ w + b
''' + _GOOD_BACKWARD),
    Variant("ex_neuron", "relies on numpy's shape error", expect=r"name X's shape", source='''
def neuron_forward(X, w, b, activation="sigmoid"):
    X, w = np.asarray(X, dtype=float), np.asarray(w, dtype=float)
    return {"sigmoid": sigmoid, "tanh": tanh, "relu": relu}[activation](X @ w + b)
''' + _GOOD_BACKWARD),
    Variant("ex_neuron", "backward forgets the activation's derivative",
            expect=r"misses the activation's derivative", source=_GOOD_FORWARD + '''
def neuron_backward(X, w, b, da, activation="sigmoid"):
    X, w, dz = (np.asarray(v, dtype=float) for v in (X, w, da))
    return np.outer(dz, w), X.T @ dz, float(dz.sum())
'''),
    Variant("ex_neuron", "backward evaluates f' at the output a", expect=r"at the net input z",
            source=_GOOD_FORWARD + '''
def neuron_backward(X, w, b, da, activation="sigmoid"):
    X, w, da = (np.asarray(v, dtype=float) for v in (X, w, da))
    a = neuron_forward(X, w, b, activation)
    dz = da * {"sigmoid": sigmoid_grad, "tanh": tanh_grad, "relu": relu_grad}[activation](a)
    return np.outer(dz, w), X.T @ dz, float(dz.sum())
'''),
    Variant("ex_neuron", "backward does not sum db over the batch", expect=r"db is one number",
            source=_GOOD_FORWARD + '''
def neuron_backward(X, w, b, da, activation="sigmoid"):
    X, w, da = (np.asarray(v, dtype=float) for v in (X, w, da))
    dz = da * {"sigmoid": sigmoid_grad, "tanh": tanh_grad, "relu": relu_grad}[activation](X @ w + b)
    return np.outer(dz, w), X.T @ dz, dz
'''),
    Variant("ex_neuron", "backward divides by n", expect=r"do not divide by n",
            source=_GOOD_FORWARD + '''
def neuron_backward(X, w, b, da, activation="sigmoid"):
    X, w, da = (np.asarray(v, dtype=float) for v in (X, w, da))
    n = X.shape[0]
    dz = da * {"sigmoid": sigmoid_grad, "tanh": tanh_grad, "relu": relu_grad}[activation](X @ w + b)
    return np.outer(dz, w) / n, X.T @ dz / n, float(dz.sum()) / n
'''),
    # --- train_neuron
    Variant("ex_train_neuron", "forgets to divide by n", expect=r"forget to divide by n",
            source=_train('''
        w = w - lr * (X.T @ (a - y))
        b = b - lr * float((a - y).sum())
''')),
    Variant("ex_train_neuron", "records the loss after the update",
            expect=r"loss before each update",
            source='''
def train_neuron(X, y, lr=0.5, epochs=200):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    n, d = X.shape
    w, b, losses = np.zeros(d), 0.0, []
    for _ in range(epochs):
        dz = (sigmoid(X @ w + b) - y) / n
        w = w - lr * (X.T @ dz)
        b = b - lr * float(dz.sum())
        p = np.clip(sigmoid(X @ w + b), 1e-12, 1 - 1e-12)
        losses.append(float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))))
    return w, b, losses
'''),
    Variant("ex_train_neuron", "steps uphill (wrong sign)", expect=r"uphill", source=_train('''
        dz = (a - y) / n
        w = w + lr * (X.T @ dz)
        b = b + lr * float(dz.sum())
''')),
    Variant("ex_train_neuron", "never updates the bias", expect=r"update the bias",
            source=_train('''
        dz = (a - y) / n
        w = w - lr * (X.T @ dz)
''')),
    Variant("ex_train_neuron", "keeps an extra sigma' factor (MSE-style gradient)",
            expect=r"sigma' cancels", source=_train('''
        dz = (a - y) * a * (1 - a) / n
        w = w - lr * (X.T @ dz)
        b = b - lr * float(dz.sum())
''')),
]

CLAIMS = [
    Claim("the sigmoid's derivative never exceeds 0.25 (and reaches it)",
          "assert abs(largest_derivative['sigmoid'] - 0.25) < 1e-9\n"
          "assert largest_derivative['tanh'] <= 1 + 1e-12 and largest_derivative['relu'] == 1"),
    Claim("the linearly separable set can be classified 100 % correctly (the widget's goal)",
          "assert trained.score(X_lin, y_lin) == 1.0"),
    Claim("numpy neuron and its torch twin agree",
          "assert np.abs(trained(X_lin) - twin(X_t).detach().numpy()).max() < 1e-12\n"
          "assert abs(loss_np - loss_t.item()) < 1e-12"),
    Claim("the best line on XOR reaches exactly one minus the smallest cluster's share",
          "assert abs(best_line - line_limit) < 1e-12, (best_line, line_limit)\n"
          "assert 0.75 <= line_limit < 0.8"),
    Claim("gradient descent stays near 'no idea' on XOR, far below the best line",
          "assert xor_accuracy < line_limit - 0.1, xor_accuracy\n"
          "assert np.log(2) - 0.02 < xor_neuron.loss_history_[-1] < np.log(2)\n"
          "assert xor_gradient_norm < 1e-6"),
    Claim("two hand-set layers solve XOR",
          "assert two_layer_accuracy == 1.0"),
]
