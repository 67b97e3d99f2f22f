"""08 RNN/LSTM: bypasses, typical mistakes and claims (read by tests/notebooks/test_chapters.py)."""

from dlcourse.grading.variants import Claim, Variant


def _forward(*, step="np.tanh(x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)", store="new",
             carry="h = new", dtype="x.dtype"):
    """The model answer of Exercise 1 with one piece changed."""
    return f'''
def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    T, N = x.shape[:2]
    hs = np.empty((T, N, W_hh.shape[0]), dtype={dtype})
    h = h0
    for t in range(T):
        new = {step}
        hs[t] = {store}
        {carry}
    return hs
'''


def _backward(*, delta="(dhs[t] + dh_next) * (1.0 - hs[t] ** 2)", h_in_dW="h_prev",
              recur="delta @ W_hh", db="delta.sum(axis=0)", dh0="dh_next"):
    """The model answer of Exercise 2 with one piece changed."""
    return f'''
def rnn_backward(dhs, x, hs, h0, W_ih, W_hh):
    T = x.shape[0]
    dx = np.zeros_like(x)
    dW_ih, dW_hh = np.zeros_like(W_ih), np.zeros_like(W_hh)
    db = 0
    dh_next = np.zeros_like(h0)
    first_delta = None
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else h0
        delta = {delta}
        dx[t] = delta @ W_ih
        dW_ih += delta.T @ x[t]
        dW_hh += delta.T @ {h_in_dW}
        db = db + {db}
        dh_next = {recur}
        first_delta = delta
    return {{"dx": dx, "dh0": {dh0}, "dW_ih": dW_ih, "dW_hh": dW_hh, "db": db}}
'''


def _clip(*, norm="float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values())))",
          scale="max_norm / norm if norm > max_norm else 1.0", apply="np.asarray(g) * scale",
          returned="norm"):
    """The model answer of Exercise 3 with one piece changed."""
    return f'''
def clip_by_global_norm(grads, max_norm):
    norm = {norm}
    scale = {scale}
    clipped = {{k: {apply} for k, g in grads.items()}}
    return clipped, {returned}
'''


def _lstm(*, blocks=("i", "f", "g", "o"), g_fn="np.tanh", cell="f * c_prev + i * g",
          out="o * np.tanh(c)", z="x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh"):
    """The model answer of Exercise 4 with one piece changed (``blocks``: the order assumed)."""
    pos = {name: k for k, name in enumerate(blocks)}
    return f'''
def lstm_step(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    z = {z}
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))
    block = lambda k: z[:, k * H:(k + 1) * H]
    i, f = sig(block({pos["i"]})), sig(block({pos["f"]}))
    g, o = {g_fn}(block({pos["g"]})), sig(block({pos["o"]}))
    c = {cell}
    return {out}, c
'''


BYPASSES = [
    Variant("ex_rnn_forward", "call the library's RNN layer", kind="bypass", source='''
from dlcourse.models.rnn import RNN

def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    layer = RNN(W_ih.shape[1], W_ih.shape[0], dtype=x.dtype)
    layer.load_state_dict({"weight_ih_l0": W_ih, "weight_hh_l0": W_hh, "bias_ih_l0": b_ih,
                           "bias_hh_l0": b_hh})
    return layer.forward(x, h0=h0[None])[0]
'''),
    Variant("ex_rnn_forward", "loop over the library's rnn_cell_forward", kind="bypass",
            source='''
from dlcourse.models.rnn import rnn_cell_forward

def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    h, hs = h0, []
    for t in range(x.shape[0]):
        h, _ = rnn_cell_forward(x[t], h, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return np.stack(hs).astype(x.dtype)
'''),
    Variant("ex_rnn_forward", "torch's nn.RNN", kind="bypass", source='''
import torch as _torch

def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    rnn = _torch.nn.RNN(W_ih.shape[1], W_ih.shape[0]).double()
    with _torch.no_grad():
        t = lambda a: _torch.as_tensor(np.asarray(a, dtype=float))
        for name, value in [("weight_ih_l0", W_ih), ("weight_hh_l0", W_hh),
                            ("bias_ih_l0", b_ih), ("bias_hh_l0", b_hh)]:
            getattr(rnn, name).copy_(t(value))
        out, _ = rnn(t(x), t(h0)[None])
    return out.numpy().astype(x.dtype)
'''),
    Variant("ex_rnn_backward", "call the library's RNN backward", kind="bypass", source='''
from dlcourse.models.rnn import RNN

def rnn_backward(dhs, x, hs, h0, W_ih, W_hh):
    bias = (np.arctanh(hs[0]) - x[0] @ W_ih.T - h0 @ W_hh.T).mean(axis=0)   # recovered from hs
    layer = RNN(W_ih.shape[1], W_ih.shape[0], dtype=np.float64)
    layer.load_state_dict({"weight_ih_l0": W_ih, "weight_hh_l0": W_hh, "bias_ih_l0": bias,
                           "bias_hh_l0": np.zeros_like(bias)})
    _, cache = layer.forward(x, h0=h0[None])
    dx = layer.backward(dhs, cache)
    return {"dx": dx, "dh0": layer.dh0[0], "dW_ih": layer.grads["weight_ih_l0"],
            "dW_hh": layer.grads["weight_hh_l0"], "db": layer.grads["bias_ih_l0"]}
'''),
    Variant("ex_rnn_backward", "loop over the library's rnn_cell_backward", kind="bypass",
            source='''
from dlcourse.models.rnn import rnn_cell_backward

def rnn_backward(dhs, x, hs, h0, W_ih, W_hh):
    out = {"dx": np.zeros_like(x), "dW_ih": 0, "dW_hh": 0, "db": 0}
    dh = np.zeros_like(h0)
    for t in reversed(range(x.shape[0])):
        h_prev = hs[t - 1] if t > 0 else h0
        step = rnn_cell_backward(dhs[t] + dh, (x[t], h_prev, W_ih, W_hh, hs[t]))
        out["dx"][t] = step["dx"]
        for key in ("dW_ih", "dW_hh", "db"):
            out[key] = out[key] + step[key]
        dh = step["dh_prev"]
    out["dh0"] = dh
    return out
'''),
    Variant("ex_rnn_backward", "torch autograd", kind="bypass", source='''
import torch as _torch

def rnn_backward(dhs, x, hs, h0, W_ih, W_hh):
    bias = (np.arctanh(hs[0]) - x[0] @ W_ih.T - h0 @ W_hh.T).mean(axis=0)   # recovered from hs
    t = lambda a: _torch.tensor(np.asarray(a, dtype=float), requires_grad=True)
    xs, h0t, Wi, Wh, b = t(x), t(h0), t(W_ih), t(W_hh), t(bias)
    h, outs = h0t, []
    for k in range(xs.shape[0]):
        h = _torch.tanh(xs[k] @ Wi.T + b + h @ Wh.T)
        outs.append(h)
    _torch.stack(outs).backward(_torch.as_tensor(np.asarray(dhs, dtype=float)))
    return {"dx": xs.grad.numpy(), "dh0": h0t.grad.numpy(), "dW_ih": Wi.grad.numpy(),
            "dW_hh": Wh.grad.numpy(), "db": b.grad.numpy()}
'''),
    Variant("ex_clip", "call the library's clip_gradients", kind="bypass", source='''
from dlcourse.core.optim import clip_gradients

class _Holder:
    def __init__(self, grads):
        self.grads = {k: np.array(v, dtype=float) for k, v in grads.items()}
    def named_parameters(self):
        return [(k, None, g) for k, g in self.grads.items()]

def clip_by_global_norm(grads, max_norm):
    holder = _Holder(grads)
    norm = clip_gradients(holder, max_norm)
    return holder.grads, norm
'''),
    Variant("ex_clip", "torch's clip_grad_norm_", kind="bypass", source='''
import torch as _torch

def clip_by_global_norm(grads, max_norm):
    params = []
    for g in grads.values():
        p = _torch.zeros(np.shape(g), dtype=_torch.float64, requires_grad=True)
        p.grad = _torch.tensor(np.asarray(g, dtype=float))
        params.append(p)
    norm = float(_torch.nn.utils.clip_grad_norm_(params, max_norm))
    return {k: p.grad.numpy() for k, p in zip(grads, params)}, norm
'''),
    Variant("ex_lstm_step", "call the library's lstm_cell_forward", kind="bypass", source='''
from dlcourse.models.rnn import lstm_cell_forward

def lstm_step(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    h, c, _ = lstm_cell_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)
    return h, c
'''),
    Variant("ex_lstm_step", "torch's lstm_cell", kind="bypass", source='''
import torch as _torch

def lstm_step(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    t = lambda a: _torch.as_tensor(np.asarray(a, dtype=float))
    h, c = _torch.lstm_cell(t(x), (t(h_prev), t(c_prev)), t(W_ih), t(W_hh), t(b_ih), t(b_hh))
    return h.numpy(), c.numpy()
'''),
]

MISTAKES = [
    # Exercise 1: the RNN forward pass
    Variant("ex_rnn_forward", "tanh missing", expect="apply tanh",
            source=_forward(step="x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh")),
    Variant("ex_rnn_forward", "off by one step: hs[t] is the state before x[t]",
            expect="after\\W*reading", source='''
def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    T, N = x.shape[:2]
    hs = np.empty((T, N, W_hh.shape[0]), dtype=x.dtype)
    h = h0
    for t in range(T):
        hs[t] = h
        h = np.tanh(x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
    return hs
'''),
    Variant("ex_rnn_forward", "state not carried: h0 at every step", expect="carry the state",
            source=_forward(carry="pass", store="new",
                            step="np.tanh(x[t] @ W_ih.T + b_ih + h0 @ W_hh.T + b_hh)")),
    Variant("ex_rnn_forward", "b_hh forgotten", expect="both biases",
            source=_forward(step="np.tanh(x[t] @ W_ih.T + b_ih + h @ W_hh.T)", store="new")),
    Variant("ex_rnn_forward", "W_hh not transposed", expect="transposed",
            source=_forward(step="np.tanh(x[t] @ W_ih.T + b_ih + h @ W_hh + b_hh)", store="new")),
    Variant("ex_rnn_forward", "float64 output for float32 input", expect="float32",
            source=_forward(store="new", dtype="np.float64")),
    # Exercise 2: BPTT
    Variant("ex_rnn_backward", "gradient from step t+1 not added", expect="recurrence",
            source=_backward(delta="dhs[t] * (1.0 - hs[t] ** 2)")),
    Variant("ex_rnn_backward", "W_hh transposed in the recurrence", expect="W_hh",
            source=_backward(recur="delta @ W_hh.T")),
    Variant("ex_rnn_backward", "dW_hh with the step's output instead of h_prev",
            expect="state before the step", source=_backward(h_in_dW="hs[t]")),
    Variant("ex_rnn_backward", "tanh' at h_prev", expect="tanh'",
            source=_backward(delta="(dhs[t] + dh_next) * (1.0 - h_prev ** 2)")),
    Variant("ex_rnn_backward", "dh0 without the last multiplication by W_hh", expect="dh0",
            source=_backward(dh0="first_delta")),
    Variant("ex_rnn_backward", "db not summed over the batch", expect="db",
            source=_backward(db="delta")),
    # Exercise 3: clipping
    Variant("ex_clip", "each array clipped separately", expect="global norm of all arrays",
            source='''
def clip_by_global_norm(grads, max_norm):
    out, norms = {}, []
    for k, g in grads.items():
        n = float(np.sqrt(np.sum(np.square(g))))
        norms.append(n)
        out[k] = np.asarray(g) * (max_norm / n if n > max_norm else 1.0)
    return out, float(np.sqrt(sum(n ** 2 for n in norms)))
'''),
    Variant("ex_clip", "clipping by value instead of norm", expect="global norm", source='''
def clip_by_global_norm(grads, max_norm):
    norm = float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values())))
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}, norm
'''),
    Variant("ex_clip", "norm after clipping returned", expect="before",
            source=_clip(returned="min(norm, max_norm)")),
    Variant("ex_clip", "sum of squares without the square root", expect="square root",
            source=_clip(norm="float(sum(float(np.sum(np.square(g))) for g in grads.values()))")),
    Variant("ex_clip", "small gradients scaled up", expect="never scale gradients up",
            source=_clip(scale="max_norm / norm")),
    Variant("ex_clip", "input arrays modified in place", expect="do not modify", source='''
def clip_by_global_norm(grads, max_norm):
    norm = float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values())))
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return grads, norm
'''),
    # Exercise 4: one LSTM step
    Variant("ex_lstm_step", "gate order i, f, o, g", expect="block order",
            source=_lstm(blocks=("i", "f", "o", "g"))),
    Variant("ex_lstm_step", "gate order f, i, g, o", expect="block order",
            source=_lstm(blocks=("f", "i", "g", "o"))),
    Variant("ex_lstm_step", "sigmoid for the candidate g", expect="tanh for g",
            source=_lstm(g_fn="sig")),
    Variant("ex_lstm_step", "input gate missing in the cell update", expect="f\\*c_prev \\+ i\\*g",
            source=_lstm(cell="f * c_prev + g")),
    Variant("ex_lstm_step", "h = o * c (tanh missing)", expect="tanh\\(c\\)",
            source=_lstm(out="o * c")),
    Variant("ex_lstm_step", "b_hh forgotten", expect="both biases",
            source=_lstm(z="x @ W_ih.T + b_ih + h_prev @ W_hh.T")),
    Variant("ex_lstm_step", "reshape instead of transpose", expect="transposes",
            source=_lstm(z="x @ W_ih.reshape(x.shape[1], -1) + b_ih + h_prev @ W_hh.T + b_hh")),
]

CLAIMS = [
    Claim("every numpy model matches its torch twin (float64 to rounding, float32 forecaster)",
          "assert rnn_twin_error < 1e-10, rnn_twin_error\n"
          "assert lstm_twin_error < 1e-10, lstm_twin_error\n"
          "assert forecaster_twin_error < 1e-5, forecaster_twin_error"),
    Claim("the RNN's gradient falls by about 12 orders of magnitude over 50 steps (default init)",
          "assert 10 < rnn_orders < 14, rnn_orders"),
    Claim("the LSTM's gradient also vanishes at the default init (about 9.5 orders), less than "
          "the RNN's", "assert 8 < lstm_orders < 11 and lstm_orders < rnn_orders, lstm_orders"),
    Claim("a forget-gate bias of 1 keeps the LSTM's gradient much larger (several orders fewer)",
          "assert forget1_orders < lstm_orders - 3, (forget1_orders, lstm_orders)"),
    Claim("8x recurrent weights make the gradient norm huge; clipping brings it to max_norm",
          "assert norm_before > 1e3 and abs(norm_after - 1.0) < 1e-3, (norm_before, norm_after)"),
    Claim("at T = 10 both learn the task; at T = 50 the RNN stays at chance, the LSTM is (nearly) "
          "perfect", "assert results['rnn', 10] > 0.95 and results['lstm', 10] > 0.95, results\n"
          "assert results['rnn', 50] < 0.6 and results['lstm', 50] > 0.95, results"),
    Claim("after training the LSTM's gradient still reaches step 0, many orders of magnitude more "
          "than the RNN's", "ratio = {c: g[0] / g[-1] for c, g in trained.items()}\n"
          "assert ratio['lstm'] > 1e-3 and ratio['lstm'] > 1e4 * ratio['rnn'], ratio"),
    Claim("the bit is spread over many units (most of the 16 store it in the sign of c)",
          "assert storing.sum() >= 8, storing.sum()"),
    Claim("the forget gates are not simply 1 and the input gates not simply 0",
          "assert forget_mean.max() < 0.99 and forget_mean.mean() < 0.9, forget_mean\n"
          "assert input_mean.min() > 0.2, input_mean"),
    Claim("the candidate g has the stored sign at almost every step, and |c| grows",
          "assert rewrite > 0.9, rewrite\n"
          "assert c_size[49] > 2 * c_size[5] > 2 * c_size[1], c_size"),
    Claim("both learned models beat persistence by a wide margin (less than half its error)",
          "assert mse_ar < 0.5 * mse_persist, (mse_ar, mse_persist)\n"
          "assert mse_lstm < 0.5 * mse_persist, (mse_lstm, mse_persist)"),
    Claim("the LSTM beats the best linear predictor",
          "assert mse_lstm < 0.95 * mse_ar, (mse_lstm, mse_ar)"),
    Claim("neither reaches the noise floor 0.0025",
          "assert min(mse_ar, mse_lstm) > 1.5 * 0.05 ** 2, (mse_ar, mse_lstm)"),
]


def _lstm_backward(*, dc_total="dc + dh * o * (1.0 - tanh_c ** 2)", dz_i="dc * g * i * (1.0 - i)",
                   dz_f="dc * c_prev * f * (1.0 - f)", dz_g="dc * i * (1.0 - g ** 2)",
                   dz_o="dh * tanh_c * o * (1.0 - o)", order=("i", "f", "g", "o"),
                   dc_prev="dc * f", h_in_dW="h_prev", db="dz.sum(axis=0)", prelude="pass"):
    """The model answer of Exercise 5 with one piece changed (``order``: the stacking)."""
    blocks = {"i": "dz_i", "f": "dz_f", "g": "dz_g", "o": "dz_o"}
    stacked = ", ".join(blocks[b] for b in order)
    return f'''
def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, W_ih, W_hh, i, f, g, o, tanh_c = cache
    {prelude}
    dc = {dc_total}
    dz_i, dz_f = {dz_i}, {dz_f}
    dz_g, dz_o = {dz_g}, {dz_o}
    dz = np.concatenate([{stacked}], axis=1)
    return dz @ W_ih, dz @ W_hh, {dc_prev}, dz.T @ x, dz.T @ {h_in_dW}, {db}
'''


def _perplexity(body="return float(np.exp(-np.mean(np.log(p))))",
                pick="np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]"):
    """The model answer of Exercise 6 with one piece changed."""
    return f'''
def perplexity(probs, targets):
    probs, targets = np.asarray(probs), np.asarray(targets)
    p = {pick}
    {body}
'''


# A bypass of Exercise 5 first recovers the step's biases from the gate values in the cache.
_RECOVER_BIASES = """\
    x, h_prev, c_prev, W_ih, W_hh, i, f, g, o, tanh_c = cache
    logit = lambda s: np.log(s / (1 - s))
    z = np.concatenate([logit(i), logit(f), np.arctanh(g), logit(o)], axis=1)
    b = (z - x @ W_ih.T - h_prev @ W_hh.T).mean(axis=0)"""

BYPASSES += [
    Variant("ex_lstm_step_backward", "call the library's lstm_cell_backward", kind="bypass",
            source='''
from dlcourse.models.rnn import lstm_cell_backward

def lstm_step_backward(dh, dc, cache):
    d = lstm_cell_backward(dh, dc, cache)
    return d["dx"], d["dh_prev"], d["dc_prev"], d["dW_ih"], d["dW_hh"], d["db"]
'''),
    Variant("ex_lstm_step_backward", "torch autograd on the step rebuilt from the cache",
            kind="bypass", source='''
import torch as _torch

def lstm_step_backward(dh, dc, cache):
''' + _RECOVER_BIASES + '''
    t = lambda a: _torch.tensor(np.asarray(a, dtype=float), requires_grad=True)
    xs, hs, cs, Wi, Wh, bs = t(x), t(h_prev), t(c_prev), t(W_ih), t(W_hh), t(b)
    H = hs.shape[1]
    zz = xs @ Wi.T + hs @ Wh.T + bs
    ii, ff = _torch.sigmoid(zz[:, :H]), _torch.sigmoid(zz[:, H:2 * H])
    gg, oo = _torch.tanh(zz[:, 2 * H:3 * H]), _torch.sigmoid(zz[:, 3 * H:])
    c = ff * cs + ii * gg
    h = oo * _torch.tanh(c)
    ((h * _torch.tensor(dh)).sum() + (c * _torch.tensor(dc)).sum()).backward()
    return tuple(v.grad.numpy() for v in (xs, hs, cs, Wi, Wh, bs))
'''),
    Variant("ex_lstm_step_backward", "finite differences through the library's step",
            kind="bypass", source='''
from dlcourse.core.gradcheck import numerical_gradient
from dlcourse.models.rnn import lstm_cell_forward

def lstm_step_backward(dh, dc, cache):
''' + _RECOVER_BIASES + '''
    arrays = [np.array(a, dtype=float) for a in (x, h_prev, c_prev, W_ih, W_hh, b)]
    def loss():
        h, c, _ = lstm_cell_forward(*arrays[:5], arrays[5], np.zeros_like(arrays[5]))
        return float(np.sum(h * dh) + np.sum(c * dc))
    return tuple(numerical_gradient(loss, a, 1e-6) for a in arrays)
'''),
    Variant("ex_perplexity", "call the library's perplexity", kind="bypass", source='''
from dlcourse.models.language_model import perplexity as _library_perplexity

def perplexity(probs, targets):
    return _library_perplexity(probs, targets)
'''),
    Variant("ex_perplexity", "exp of scikit-learn's log_loss", kind="bypass", source='''
from sklearn.metrics import log_loss

def perplexity(probs, targets):
    probs = np.asarray(probs)
    V = probs.shape[-1]
    return float(np.exp(log_loss(np.ravel(targets), probs.reshape(-1, V), labels=np.arange(V))))
'''),
    Variant("ex_perplexity", "exp of the library's cross-entropy on log-probabilities",
            kind="bypass", source='''
from dlcourse.core.losses import softmax_cross_entropy

def perplexity(probs, targets):
    probs = np.asarray(probs)
    loss, _ = softmax_cross_entropy(np.log(probs.reshape(-1, probs.shape[-1])), np.ravel(targets))
    return float(np.exp(loss))
'''),
    Variant("ex_perplexity", "torch's nll_loss", kind="bypass", source='''
import torch as _torch

def perplexity(probs, targets):
    probs = np.asarray(probs, dtype=float)
    logp = _torch.log(_torch.tensor(probs.reshape(-1, probs.shape[-1])))
    return float(_torch.exp(_torch.nn.functional.nll_loss(logp, _torch.tensor(np.ravel(targets)))))
'''),
]

MISTAKES += [
    # Exercise 5: the LSTM step backward
    Variant("ex_lstm_step_backward", "the tanh'(c) path from dh into dc forgotten",
            expect="tanh'\\(c\\) path", source=_lstm_backward(dc_total="dc")),
    Variant("ex_lstm_step_backward", "tanh' of c missing in the path (dh * o only)",
            expect="dc_total = dc \\+ dh \\* o \\* \\(1 - tanh_c\\*\\*2\\)",
            source=_lstm_backward(dc_total="dc + dh * o")),
    Variant("ex_lstm_step_backward", "sigmoid derivative written sigma * (1 - z)",
            expect="sigmoid's derivative is sigma\\(z\\) \\* \\(1 - sigma\\(z\\)\\)",
            source=_lstm_backward(prelude="z_i = np.log(i / (1 - i))",
                                  dz_i="dc * g * i * (1.0 - z_i)")),
    Variant("ex_lstm_step_backward", "tanh's derivative for the sigmoid gates",
            expect="sigmoid's derivative",
            source=_lstm_backward(dz_i="dc * g * (1.0 - i ** 2)",
                                  dz_f="dc * c_prev * (1.0 - f ** 2)",
                                  dz_o="dh * tanh_c * (1.0 - o ** 2)")),
    Variant("ex_lstm_step_backward", "dc_prev = dc (the forget gate forgotten)",
            expect="through the forget gate", source=_lstm_backward(dc_prev="dc")),
    Variant("ex_lstm_step_backward", "gates stacked i, f, o, g", expect="block order i, f, g, o",
            source=_lstm_backward(order=("i", "f", "o", "g"))),
    Variant("ex_lstm_step_backward", "gates stacked f, i, g, o", expect="block order i, f, g, o",
            source=_lstm_backward(order=("f", "i", "g", "o"))),
    Variant("ex_lstm_step_backward", "db not summed over the batch",
            expect="sum dz over the batch", source=_lstm_backward(db="dz")),
    Variant("ex_lstm_step_backward", "db averaged over the batch", expect="averaged",
            source=_lstm_backward(db="dz.mean(axis=0)")),
    Variant("ex_lstm_step_backward", "dW_hh with the step's output h instead of h_prev",
            expect="state before the step", source=_lstm_backward(h_in_dW="(o * tanh_c)")),
    Variant("ex_lstm_step_backward", "dz allocated in float64", expect="float32", source='''
def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, W_ih, W_hh, i, f, g, o, tanh_c = cache
    N, H = dh.shape
    dc = dc + dh * o * (1.0 - tanh_c ** 2)
    dz = np.zeros((N, 4 * H))
    dz[:, :H], dz[:, H:2 * H] = dc * g * i * (1 - i), dc * c_prev * f * (1 - f)
    dz[:, 2 * H:3 * H], dz[:, 3 * H:] = dc * i * (1 - g ** 2), dh * tanh_c * o * (1 - o)
    return dz @ W_ih, dz @ W_hh, dc * f, dz.T @ x, dz.T @ h_prev, dz.sum(axis=0)
'''),
    # Exercise 6: perplexity
    Variant("ex_perplexity", "the largest probability instead of the target's",
            expect="probability of the target symbol",
            source=_perplexity(pick="probs.max(axis=-1)")),
    Variant("ex_perplexity", "the minus sign forgotten", expect="negative",
            source=_perplexity(body="return float(np.exp(np.mean(np.log(p))))")),
    Variant("ex_perplexity", "sum instead of mean", expect="average over the positions",
            source=_perplexity(body="return float(np.exp(-np.sum(np.log(p))))")),
    Variant("ex_perplexity", "1 / mean probability", expect="geometric",
            source=_perplexity(body="return float(1 / np.mean(p))")),
    Variant("ex_perplexity", "natural log with base-2 exponent", expect="same base",
            source=_perplexity(body="return float(2 ** (-np.mean(np.log(p))))")),
    Variant("ex_perplexity", "product of the probabilities (underflows)", expect="underflows",
            source=_perplexity(body="return float(np.prod(p) ** (-1 / p.size))")),
    Variant("ex_perplexity", "mean of the per-text perplexities",
            expect="averaged the perplexities of the 3 texts",
            source=_perplexity(body="return float(np.mean(np.exp(-np.mean(np.log(p), axis=-1))))")),
    Variant("ex_perplexity", "indexing that works only for 2-D probs",
            expect="index every leading axis",
            source=_perplexity(pick="probs[np.arange(len(targets)), targets]")),
]

CLAIMS += [
    Claim("on the test text the LSTM beats the bigram, the bigram beats the unigram, and both "
          "beat uniform guessing over the 53 symbols",
          "assert test_ppl['LSTM'] < 0.7 * test_ppl['bigram'], test_ppl\n"
          "assert test_ppl['bigram'] < 0.8 * test_ppl['unigram'] < 0.8 * V, test_ppl"),
    Claim("the model's own distribution (T = 1) fits the validation text about best; sharper or "
          "flatter distributions fit it worse",
          "assert best_T in (0.8, 1.0, 1.25), ppl_at_T\n"
          "assert ppl_at_T[1.0] < 1.03 * min(ppl_at_T.values()), ppl_at_T\n"
          "assert ppl_at_T[0.5] > 1.3 * ppl_at_T[1.0] and ppl_at_T[1.5] > ppl_at_T[1.0], ppl_at_T"),
    Claim("greedy decoding loops: few of its 8-character pieces are distinct",
          "assert distinct[0] < 0.3, distinct"),
    Claim("as T rises the samples get more varied and less correct; at T = 1.5 most words are "
          "invented", "assert real_words[0.5] > real_words[1.0] > real_words[1.5], real_words\n"
          "assert distinct[0] < distinct[0.5] < min(distinct[1.0], distinct[1.5]), distinct\n"
          "assert min(distinct[1.0], distinct[1.5]) > 0.97, distinct\n"
          "assert real_words[1.5] < 0.5, real_words"),
]
