"""05 Key components: bypasses, typical mistakes and claims (read by test_chapters.py)."""

from dlcourse.grading.variants import Claim, Variant

BYPASSES = [
    Variant("ex_softmax_ce", "call the library's softmax_cross_entropy", kind="bypass", source='''
def softmax_ce(logits, y):
    from dlcourse.core.losses import softmax_cross_entropy
    return softmax_cross_entropy(logits, y)
'''),
    Variant("ex_softmax_ce", "scipy's log_softmax", kind="bypass", source='''
def softmax_ce(logits, y):
    from scipy.special import log_softmax
    z = np.asarray(logits, dtype=float)
    n = z.shape[0]
    logp = log_softmax(z, axis=1)
    probs = np.exp(logp)
    probs[np.arange(n), y] -= 1
    return float(-logp[np.arange(n), y].mean()), probs / n
'''),
    Variant("ex_softmax_ce", "torch's cross_entropy and autograd", kind="bypass", source='''
def softmax_ce(logits, y):
    import torch
    z = torch.tensor(np.asarray(logits, dtype=float), requires_grad=True)
    loss = torch.nn.functional.cross_entropy(z, torch.as_tensor(np.asarray(y)))
    loss.backward()
    return float(loss), z.grad.numpy()
'''),
    Variant("ex_choose_degree", "call the library's kfold_cv_errors", kind="bypass", source='''
def choose_degree(x, y, max_degree=10, k=5):
    from dlcourse.studies.generalization import kfold_cv_errors
    errors = kfold_cv_errors(x, y, max_degree, k)
    return int(np.argmin(errors)), errors
'''),
    Variant("ex_adam_step", "let the library's Adam take the step", kind="bypass", source='''
def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    from dlcourse.core.optim import Adam
    from dlcourse.studies.surfaces import Point
    point = Point(np.ravel(param)[:2])
    point.params["xy"] = np.array(param, dtype=float)
    point.grads["xy"] = np.array(grad, dtype=float)
    opt = Adam(point, lr=lr, betas=(beta1, beta2), eps=eps)
    opt.m, opt.v, opt.t = [np.array(m, dtype=float)], [np.array(v, dtype=float)], t - 1
    opt.step()
    return point.params["xy"], opt.m[0], opt.v[0]
'''),
    Variant("ex_two_layer_grads", "the library's layers do the backward pass", kind="bypass",
            source='''
def two_layer_grads(X, Y, W1, b1, W2, b2):
    from dlcourse.core.layers import Dense, Sequential, Tanh
    from dlcourse.core.losses import mse
    net = Sequential(Dense(W1.shape[0], W1.shape[1], dtype=np.float64), Tanh(),
                     Dense(W2.shape[0], W2.shape[1], dtype=np.float64))
    for layer, W, b in [(net[0], W1, b1), (net[2], W2, b2)]:
        layer.params["W"][...] = W
        layer.params["b"][...] = b
    out, cache = net.forward(np.asarray(X, dtype=float))
    loss, dout = mse(out, np.asarray(Y, dtype=float))
    net.backward(dout, cache)
    return loss, {"W1": net[0].grads["W"], "b1": net[0].grads["b"],
                  "W2": net[2].grads["W"], "b2": net[2].grads["b"]}
'''),
    Variant("ex_two_layer_grads", "finite differences", kind="bypass", source='''
def two_layer_grads(X, Y, W1, b1, W2, b2):
    from dlcourse.core.gradcheck import numerical_gradient
    params = {"W1": np.array(W1, float), "b1": np.array(b1, float),
              "W2": np.array(W2, float), "b2": np.array(b2, float)}
    def loss():
        H = np.tanh(X @ params["W1"] + params["b1"])
        return float(np.sum((H @ params["W2"] + params["b2"] - Y) ** 2) / len(X))
    return loss(), {name: numerical_gradient(loss, p) for name, p in params.items()}
'''),
]

_SOFTMAX_PARTS = '''
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y)
    n = z.shape[0]
'''

_TWO_LAYER_FORWARD = '''
def two_layer_grads(X, Y, W1, b1, W2, b2):
    n = X.shape[0]
    Z1 = X @ W1 + b1
    H = np.tanh(Z1)
    diff = H @ W2 + b2 - Y
'''

MISTAKES = [
    # Exercise 1: softmax cross-entropy
    Variant("ex_softmax_ce", "sum instead of mean", expect="MEAN over the rows", source='''
def softmax_ce(logits, y):''' + _SOFTMAX_PARTS + '''
    shifted = z - z.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=1))
    probs = np.exp(shifted - log_sum[:, None])
    probs[np.arange(n), y] -= 1
    return float(np.sum(log_sum - shifted[np.arange(n), y])), probs
'''),
    Variant("ex_softmax_ce", "gradient not divided by n", expect="divide dlogits by n", source='''
def softmax_ce(logits, y):''' + _SOFTMAX_PARTS + '''
    shifted = z - z.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=1))
    probs = np.exp(shifted - log_sum[:, None])
    probs[np.arange(n), y] -= 1
    return float(np.mean(log_sum - shifted[np.arange(n), y])), probs
'''),
    Variant("ex_softmax_ce", "one-hot not subtracted from the gradient", expect="one-hot",
            source='''
def softmax_ce(logits, y):''' + _SOFTMAX_PARTS + '''
    shifted = z - z.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=1))
    probs = np.exp(shifted - log_sum[:, None])
    return float(np.mean(log_sum - shifted[np.arange(n), y])), probs / n
'''),
    Variant("ex_softmax_ce", "no max subtracted (overflows)", expect="ROW's maximum", source='''
def softmax_ce(logits, y):''' + _SOFTMAX_PARTS + '''
    e = np.exp(z)
    probs = e / e.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(e.sum(axis=1)) - z[np.arange(n), y]))
    probs[np.arange(n), y] -= 1
    return loss, probs / n
'''),
    Variant("ex_softmax_ce", "the max of the whole matrix, not of each row",
            expect="ROW's maximum", source='''
def softmax_ce(logits, y):''' + _SOFTMAX_PARTS + '''
    shifted = z - z.max()
    log_sum = np.log(np.exp(shifted).sum(axis=1))
    probs = np.exp(shifted - log_sum[:, None])
    probs[np.arange(n), y] -= 1
    return float(np.mean(log_sum - shifted[np.arange(n), y])), probs / n
'''),
    Variant("ex_softmax_ce", "the max per column (wrong axis)", expect="ROW", source='''
def softmax_ce(logits, y):''' + _SOFTMAX_PARTS + '''
    shifted = z - z.max(axis=0, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=1))
    probs = np.exp(shifted - log_sum[:, None])
    probs[np.arange(n), y] -= 1
    return float(np.mean(log_sum - z[np.arange(n), y])), probs / n
'''),
    # Exercise 2: k-fold cross-validation
    Variant("ex_choose_degree", "training error instead of held-out error",
            expect="look like training errors", source='''
def choose_degree(x, y, max_degree=10, k=5):
    errors = np.array([np.mean((predict_polynomial(fit_polynomial(x, y, d), x) - y) ** 2)
                       for d in range(max_degree + 1)])
    return int(np.argmin(errors)), errors
'''),
    Variant("ex_choose_degree", "degrees 0..max_degree - 1 (off by one)",
            expect="max_degree \\+ 1", source='''
def choose_degree(x, y, max_degree=10, k=5):
    fold = np.arange(len(x)) % k
    errors = np.zeros(max_degree)
    for d in range(max_degree):
        for j in range(k):
            coef = fit_polynomial(x[fold != j], y[fold != j], d)
            errors[d] += np.mean((predict_polynomial(coef, x[fold == j]) - y[fold == j]) ** 2) / k
    return int(np.argmin(errors)), errors
'''),
    Variant("ex_choose_degree", "contiguous folds", expect="i % k == j", source='''
def choose_degree(x, y, max_degree=10, k=5):
    folds = np.array_split(np.arange(len(x)), k)
    errors = np.zeros(max_degree + 1)
    for d in range(max_degree + 1):
        for held in folds:
            keep = np.setdiff1d(np.arange(len(x)), held)
            coef = fit_polynomial(x[keep], y[keep], d)
            errors[d] += np.mean((predict_polynomial(coef, x[held]) - y[held]) ** 2) / k
    return int(np.argmin(errors)), errors
'''),
    Variant("ex_choose_degree", "squared errors pooled over all points, not the mean of the "
            "fold errors", expect="mean of its k fold errors", source='''
def choose_degree(x, y, max_degree=10, k=5):
    fold = np.arange(len(x)) % k
    errors = np.zeros(max_degree + 1)
    for d in range(max_degree + 1):
        for j in range(k):
            coef = fit_polynomial(x[fold != j], y[fold != j], d)
            errors[d] += np.sum((predict_polynomial(coef, x[fold == j]) - y[fold == j]) ** 2)
    errors /= len(x)
    return int(np.argmin(errors)), errors
'''),
    Variant("ex_choose_degree", "argmax instead of argmin", expect="SMALLEST", source='''
def choose_degree(x, y, max_degree=10, k=5):
    fold = np.arange(len(x)) % k
    errors = np.zeros(max_degree + 1)
    for d in range(max_degree + 1):
        for j in range(k):
            coef = fit_polynomial(x[fold != j], y[fold != j], d)
            errors[d] += np.mean((predict_polynomial(coef, x[fold == j]) - y[fold == j]) ** 2) / k
    return int(np.argmax(errors)), errors
'''),
    # Exercise 3: Adam
    Variant("ex_adam_step", "no bias correction", expect="bias correction", source='''
def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    return param - lr * m / (np.sqrt(v) + eps), m, v
'''),
    Variant("ex_adam_step", "modifies m and v in place", expect="do not modify the input",
            source='''
def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * grad * grad
    return param - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v
'''),
    Variant("ex_adam_step", "v from the gradient, not its square", expect="SQUARED", source='''
def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * np.abs(grad)
    return param - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v
'''),
    Variant("ex_adam_step", "returns the bias-corrected moments", expect="raw moment", source='''
def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m_hat = (beta1 * m + (1 - beta1) * grad) / (1 - beta1 ** t)
    v_hat = (beta2 * v + (1 - beta2) * grad * grad) / (1 - beta2 ** t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat
'''),
    Variant("ex_adam_step", "eps inside the square root", expect="OUTSIDE the square root",
            source='''
def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    return param - lr * (m / (1 - beta1 ** t)) / np.sqrt(v / (1 - beta2 ** t) + eps), m, v
'''),
    # Exercise 4: two-layer backprop
    Variant("ex_two_layer_grads", "forgets / n", expect="n = 4 times too large",
            source=_TWO_LAYER_FORWARD + '''
    loss = float(np.sum(diff ** 2) / n)
    dY = 2 * diff
    dZ1 = (dY @ W2.T) * (1 - H ** 2)
    return loss, {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": H.T @ dY, "b2": dY.sum(axis=0)}
'''),
    Variant("ex_two_layer_grads", "forgets the factor 2", expect="2·diff",
            source=_TWO_LAYER_FORWARD + '''
    loss = float(np.sum(diff ** 2) / n)
    dY = diff / n
    dZ1 = (dY @ W2.T) * (1 - H ** 2)
    return loss, {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": H.T @ dY, "b2": dY.sum(axis=0)}
'''),
    Variant("ex_two_layer_grads", "tanh' from the pre-activation", expect="computed from H",
            source=_TWO_LAYER_FORWARD + '''
    loss = float(np.sum(diff ** 2) / n)
    dY = 2 * diff / n
    dZ1 = (dY @ W2.T) * (1 - Z1 ** 2)
    return loss, {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": H.T @ dY, "b2": dY.sum(axis=0)}
'''),
    Variant("ex_two_layer_grads", "bias gradients not summed over the batch",
            expect="summed over the batch", source=_TWO_LAYER_FORWARD + '''
    loss = float(np.sum(diff ** 2) / n)
    dY = 2 * diff / n
    dZ1 = (dY @ W2.T) * (1 - H ** 2)
    return loss, {"W1": X.T @ dZ1, "b1": dZ1, "W2": H.T @ dY, "b2": dY}
'''),
    Variant("ex_two_layer_grads", "mean over the outputs too", expect="sum the squared errors",
            source=_TWO_LAYER_FORWARD + '''
    loss = float(np.mean(diff ** 2))
    dY = 2 * diff / diff.size
    dZ1 = (dY @ W2.T) * (1 - H ** 2)
    return loss, {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": H.T @ dY, "b2": dY.sum(axis=0)}
'''),
]

CLAIMS = [
    Claim("with half of the labels replaced, validation accuracy falls only a few points",
          "assert noise_acc[0.0] > noise_acc[0.5] > noise_acc[0.0] - 0.12 and noise_acc[0.5] > 0.8,"
          " noise_acc"),
    Claim("without 9s in the training set, not one validation 9 is recognized and accuracy "
          "drops below the clean run",
          "assert nines_taken_for[9] == 0 and no_nine_acc < noise_acc[0.0] - 0.05, "
          "(nines_taken_for, no_nine_acc)"),
    Claim("from the confidently wrong start MSE through the softmax does not move",
          "assert max(objective_acc['confidently wrong', 'MSE on probabilities']) < 0.2, "
          "objective_acc"),
    Claim("from the confidently wrong start cross-entropy recovers",
          "assert objective_acc['confidently wrong', 'cross-entropy'][-1] > 0.85, objective_acc"),
    Claim("from a fresh start both train, cross-entropy faster",
          "fresh_mse = objective_acc['fresh', 'MSE on probabilities']\n"
          "fresh_ce = objective_acc['fresh', 'cross-entropy']\n"
          "assert fresh_mse[-1] > 0.5 and fresh_ce[-1] > fresh_mse[-1] + 0.05, objective_acc"),
    Claim("all three surrogates lie above the 0-1 loss; the squared loss grows for confidently "
          "correct predictions",
          "assert all(np.all(v >= zero_one) for v in surrogates.values())\n"
          "assert surrogates['squared'][-1] > 1 > surrogates['hinge (SVM)'][-1]"),
    Claim("the 0-1 loss's gradient is exactly zero, the cross-entropy's is not",
          "assert np.all(g01 == 0) and np.any(np.abs(gce) > 1e-4), (g01, gce)"),
    Claim("minimizing the cross-entropy drove the training error rate down",
          "assert error_rate() < train_error[0] / 5, (error_rate(), train_error[0])"),
    Claim("polynomials: degrees 0-1 underfit, 3-5 are best, 12-15 overfit 15 points, 200 points "
          "tame them",
          "small = {d: poly_table[d][0] for d in poly_table}\n"
          "large = {d: poly_table[d][1] for d in poly_table}\n"
          "assert all(min(small[d]) > 0.1 for d in (0, 1))\n"
          "assert min(small, key=lambda d: small[d][1]) in (3, 5)\n"
          "assert all(small[d][0] < 0.005 and small[d][1] > 10 for d in (12, 15))\n"
          "assert all(large[d][1] < 0.05 for d in (12, 15))"),
    Claim("the wide MLP overfits 50 images, generalizes from all of them; 2 units underfit",
          "assert few[0] == 1.0 and few[0] - few[1] > 0.1, few\n"
          "assert many[0] - many[1] < 0.05, many\n"
          "assert narrow[0] < 0.7, narrow"),
    Claim("cross-validation picks polynomials much closer to the true function than one split",
          "assert ratio > 2, ratio\n"
          "assert max(picked['one 20/10 split']) > max(picked['5-fold cross-validation']), picked"),
    Claim("on the ravine momentum, RMSprop and Adam end about one order of magnitude closer than "
          "GD; noisy SGD ends farthest",
          "assert all(10 <= f < 100 for f in factors.values()), factors\n"
          "assert race_distance['SGD'] == max(race_distance.values()), race_distance"),
    Claim("on the digits the learning rate matters more than the optimizer",
          "spread_lr = min(max(opt_loss[n, lr] for lr in optimizers[n][1]) - best_loss[n] "
          "for n in optimizers)\n"
          "spread_opt = max(best_loss.values()) - min(best_loss.values())\n"
          "assert spread_lr > 1.5 * spread_opt, (spread_lr, spread_opt)\n"
          "assert min(worst_over_best.values()) > 1.5, worst_over_best"),
    Claim("each optimizer's grid of rates is wide enough: the best is neither the smallest nor "
          "the largest rate tried",
          "assert all(min(optimizers[n][1]) < tuned[n] < max(optimizers[n][1]) for n in "
          "optimizers), tuned"),
    Claim("tuned, momentum, RMSprop and Adam end close together; Adam's default rate is far off",
          "assert max(improved) - min(improved) < 0.1, improved\n"
          "assert opt_loss['Adam', 1e-3] > 2 * best_loss['Adam'], opt_loss"),
]
