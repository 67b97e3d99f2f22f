"""07 CNN: bypasses, typical mistakes and claims (read by tests/notebooks/test_chapters.py)."""

from dlcourse.grading.variants import Claim, Variant


def _conv(*, size="(H + 2 * padding - k) // stride + 1", pad="padding", patch_row="i * stride",
          patch_col="j * stride", weight="W[o]", pad_width=None):
    """The model answer of Exercise 1 with one piece changed."""
    pad_width = pad_width or f"((0, 0), (0, 0), ({pad}, {pad}), ({pad}, {pad}))"
    return f'''
def my_conv2d(x, W, b, stride=1, padding=0):
    x, W, b = np.asarray(x, dtype=float), np.asarray(W, dtype=float), np.asarray(b, dtype=float)
    N, C, H, Wd = x.shape
    C_out, C_in, k, _ = W.shape
    if C != C_in:
        raise ValueError("channel mismatch")
    xp = np.pad(x, {pad_width})
    H_out = {size}
    W_out = {size.replace("H", "Wd")}
    out = np.zeros((N, C_out, H_out, W_out))
    for n in range(N):
        for o in range(C_out):
            for i in range(H_out):
                for j in range(W_out):
                    r, c = {patch_row}, {patch_col}
                    patch = xp[n, :, r:r + k, c:c + k]
                    out[n, o, i, j] = np.sum(patch * {weight}) + b[o]
    return out
'''


def _im2col(*, size="(H + 2 * padding - k) // stride + 1", pad="padding", step="stride",
            layout="cols.reshape(N, C * k * k, H_out * W_out)"):
    """The model answer of Exercise 2 with one piece changed."""
    return f'''
def my_im2col(x, k, stride=1, padding=0):
    x = np.asarray(x)
    N, C, H, W = x.shape
    H_out = {size}
    W_out = {size.replace("H", "W")}
    xp = np.pad(x, ((0, 0), (0, 0), ({pad}, {pad}), ({pad}, {pad})))
    rows, columns = {step} * (H_out - 1) + 1, {step} * (W_out - 1) + 1
    cols = np.empty((N, C, k, k, H_out, W_out), dtype=x.dtype)
    for u in range(k):
        for v in range(k):
            cols[:, :, u, v] = xp[:, :, u:u + rows:{step}, v:v + columns:{step}]
    return {layout}
'''


def _pool(*, default="k", step="s", reduce="np.maximum"):
    """The model answer of Exercise 3 with one piece changed."""
    return f'''
def my_max_pool(x, k, stride=None):
    x = np.asarray(x)
    s = {default} if stride is None else stride
    N, C, H, W = x.shape
    H_out, W_out = (H - k) // {step} + 1, (W - k) // {step} + 1
    rows, columns = {step} * (H_out - 1) + 1, {step} * (W_out - 1) + 1
    out = x[:, :, 0:rows:{step}, 0:columns:{step}].copy()
    for u in range(k):
        for v in range(k):
            out = {reduce}(out, x[:, :, u:u + rows:{step}, v:v + columns:{step}])
    return out
'''


BYPASSES = [
    Variant("ex_conv2d", "call the library's convolution", kind="bypass", source='''
from dlcourse.models.cnn import conv2d

def my_conv2d(x, W, b, stride=1, padding=0):
    return conv2d(x, W, b, stride=stride, padding=padding)
'''),
    Variant("ex_conv2d", "the library's Conv2D layer with the given weights", kind="bypass",
            source='''
from dlcourse.models.cnn import Conv2D as _Layer

def my_conv2d(x, W, b, stride=1, padding=0):
    layer = _Layer(W.shape[1], W.shape[0], W.shape[2], stride=stride, padding=padding,
                   dtype=np.float64)
    layer.params["W"][...] = W
    layer.params["b"][...] = b
    return layer.forward(x)[0]
'''),
    Variant("ex_conv2d", "torch's conv2d", kind="bypass", source='''
import torch as _torch

def my_conv2d(x, W, b, stride=1, padding=0):
    if np.shape(x)[1] != np.shape(W)[1]:
        raise ValueError("channels")
    x, W, b = (_torch.as_tensor(a) for a in (x, W, b))
    return _torch.nn.functional.conv2d(x, W, b, stride=stride, padding=padding).numpy()
'''),
    Variant("ex_conv2d", "scipy's correlate2d per image, filter and channel", kind="bypass",
            source='''
from scipy.signal import correlate2d

def my_conv2d(x, W, b, stride=1, padding=0):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    if x.shape[1] != W.shape[1]:
        raise ValueError("channels")
    C = x.shape[1]
    out = np.array([[sum(correlate2d(x[n, c], W[o, c], mode="valid") for c in range(C)) + b[o]
                     for o in range(W.shape[0])] for n in range(x.shape[0])])
    return out[:, :, ::stride, ::stride]
'''),
    Variant("ex_im2col", "call the library's im2col", kind="bypass", source='''
from dlcourse.models.cnn import im2col

def my_im2col(x, k, stride=1, padding=0):
    return im2col(x, k, stride=stride, padding=padding)
'''),
    Variant("ex_im2col", "numpy's sliding_window_view", kind="bypass", source='''
from numpy.lib.stride_tricks import sliding_window_view

def my_im2col(x, k, stride=1, padding=0):
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    N, C, Ho, Wo = win.shape[:4]
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * k * k, Ho * Wo)
'''),
    Variant("ex_im2col", "torch's unfold", kind="bypass", source='''
import torch as _torch

def my_im2col(x, k, stride=1, padding=0):
    cols = _torch.nn.functional.unfold(_torch.as_tensor(x), k, padding=padding, stride=stride)
    return cols.numpy()
'''),
    Variant("ex_im2col", "a convolution with one-hot filters", kind="bypass", source='''
from dlcourse.models.cnn import conv2d as _conv

def my_im2col(x, k, stride=1, padding=0):
    C = np.shape(x)[1]
    eye = np.eye(C * k * k).reshape(C * k * k, C, k, k)
    out = _conv(x, eye, stride=stride, padding=padding)
    return out.reshape(out.shape[0], C * k * k, -1)
'''),
    Variant("ex_max_pool", "the library's MaxPool2D layer", kind="bypass", source='''
from dlcourse.models.cnn import MaxPool2D

def my_max_pool(x, k, stride=None):
    return MaxPool2D(k, stride=stride)(x)
'''),
    Variant("ex_max_pool", "numpy's sliding_window_view", kind="bypass", source='''
def my_max_pool(x, k, stride=None):
    s = k if stride is None else stride
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))
    return windows[:, :, ::s, ::s].max(axis=(4, 5))
'''),
    Variant("ex_max_pool", "torch's max_pool2d", kind="bypass", source='''
import torch as _torch

def my_max_pool(x, k, stride=None):
    return _torch.nn.functional.max_pool2d(_torch.as_tensor(x), k, stride=stride).numpy()
'''),
]

MISTAKES = [
    # Exercise 1: the naive convolution
    Variant("ex_conv2d", "stride ignored", expect="stride", source=_conv(
        size="H + 2 * padding - k + 1", patch_row="i", patch_col="j")),
    Variant("ex_conv2d", "stride in the output size but not in the patch index", expect="stride",
            source=_conv(patch_row="i", patch_col="j")),
    Variant("ex_conv2d", "off-by-one output size", expect="off by one",
            source=_conv(size="(H + 2 * padding - k) // stride")),
    Variant("ex_conv2d", "flipped filter (true convolution)", expect="flipped",
            source=_conv(weight="W[o, :, ::-1, ::-1]")),
    Variant("ex_conv2d", "padding ignored", expect="padding",
            source=_conv(pad="0", size="(H - k) // stride + 1")),
    Variant("ex_conv2d", "np.pad on every axis", expect="spatial axes only",
            source=_conv(pad_width="padding")),
    # Exercise 2: im2col
    Variant("ex_im2col", "stride ignored in the slices", expect="stride",
            source=_im2col(step="1")),
    Variant("ex_im2col", "padding ignored", expect="padding",
            source=_im2col(pad="0", size="(H - k) // stride + 1")),
    Variant("ex_im2col", "off-by-one output size", expect="H_out",
            source=_im2col(size="(H + 2 * padding - k) // stride")),
    Variant("ex_im2col", "rows ordered (u, v, c) instead of (c, u, v)", expect="channel first",
            source=_im2col(layout="cols.transpose(0, 2, 3, 1, 4, 5)"
                                  ".reshape(N, C * k * k, H_out * W_out)")),
    Variant("ex_im2col", "columns ordered j*H_out + i", expect="column order",
            source=_im2col(layout="cols.transpose(0, 1, 2, 3, 5, 4)"
                                  ".reshape(N, C * k * k, H_out * W_out)")),
    Variant("ex_im2col", "rows and columns swapped (patches as rows)", expect="rows are",
            source=_im2col(layout="cols.reshape(N, C * k * k, H_out * W_out).transpose(0, 2, 1)")),
    # Exercise 3: max pooling
    Variant("ex_max_pool", "max over the wrong axes of the reshape", expect="within each window",
            source='''
def my_max_pool(x, k, stride=None):
    N, C, H, W = x.shape
    x = x[:, :, :H - H % k, :W - W % k]
    return x.reshape(N, C, H // k, k, W // k, k).max(axis=(2, 4))
'''),
    Variant("ex_max_pool", "default stride 1 (overlapping windows by default)",
            expect="default stride", source=_pool(default="1")),
    Variant("ex_max_pool", "stride argument ignored (always k)", expect="stride",
            source=_pool(default="k", step="k")),
    Variant("ex_max_pool", "the reshape trick, which needs H and W divisible by k",
            expect="dropped", source='''
def my_max_pool(x, k, stride=None):
    N, C, H, W = x.shape
    return x.reshape(N, C, H // k, k, W // k, k).max(axis=(3, 5))
'''),
    Variant("ex_max_pool", "average instead of maximum", expect="max of each", source='''
def my_max_pool(x, k, stride=None):
    s = k if stride is None else stride
    N, C, H, W = x.shape
    H_out, W_out = (H - k) // s + 1, (W - k) // s + 1
    rows, columns = s * (H_out - 1) + 1, s * (W_out - 1) + 1
    out = np.zeros((N, C, H_out, W_out))
    for u in range(k):
        for v in range(k):
            out = out + x[:, :, u:u + rows:s, v:v + columns:s] / k ** 2
    return out
'''),
]

CLAIMS = [
    Claim("a dense layer needs thousands of times more parameters than Conv2D(3, 16, 3)",
          "assert dense_weights / Conv2D(3, 16, 3).n_parameters() > 1000"),
    Claim("im2col makes the convolution more than a hundred times faster than the loops",
          "assert t_naive / t_tuned > 100, t_naive / t_tuned"),
    Claim("the numpy im2col layer is in the same ballpark as torch (within a factor of 10)",
          "assert 0.1 < t_np / t_torch < 10, t_np / t_torch"),
    Claim("dW is the correlation of x with dout, dx the full convolution with the flipped "
          "filters (stride 1)",
          "assert error_dW < 1e-10 and error_dx < 1e-10, (error_dW, error_dx)"),
    Claim("Conv2D.backward agrees with finite differences and torch's autograd (float64)",
          "assert max(check_module_gradients(check, x_check, h=1e-4).values()) < 1e-6\n"
          "assert relative_error(dx, grads['x']) < 1e-10"),
    Claim("the torch twin gives the same logits (up to float32 rounding) and classes",
          "assert np.abs(logits_numpy - logits_torch).max() < 1e-4\n"
          "assert np.array_equal(logits_numpy.argmax(1), logits_torch.argmax(1))"),
    Claim("where a sliding window sits on a digit, the prediction is right",
          "assert list(pred[[0, 8, 16]]) == list(y_test[1:4]), pred"),
]


# ---------------------------------------------------------------------------------------
# Exercises 4 and 5: the backward passes
# ---------------------------------------------------------------------------------------

_UNFLIPPED_FULL_CONVOLUTION = """
    # dx as a full convolution of the dilated dout with W, but W is not flipped
    dilated = np.zeros(dout.shape[:2] + (stride * (H_out - 1) + 1, stride * (W_out - 1) + 1))
    dilated[:, :, ::stride, ::stride] = dout
    dpad = np.pad(dilated, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
    for r in range(min(xp.shape[2], dpad.shape[2] - k + 1)):
        for c in range(min(xp.shape[3], dpad.shape[3] - k + 1)):
            patch = dpad[:, :, r:r + k, c:c + k]
            dxp[:, :, r, c] = np.tensordot(patch, W, axes=([1, 2, 3], [0, 2, 3]))"""


def _conv_backward(*, db="dout.sum(axis=(0, 2, 3))", images=":", dx_at="r, c",
                   crop="dxp[:, :, padding:padding + H, padding:padding + Wd]",
                   gather_unflipped=False):
    """The model answer of Exercise 4 with one piece changed (``gather_unflipped``: dx
    computed as a full convolution with the filters not flipped)."""
    dx_r, dx_c = (part.strip() for part in dx_at.split(","))
    scatter = ("" if gather_unflipped else
               f"\n            dxp[:, :, {dx_r}:{dx_r} + k, {dx_c}:{dx_c} + k] += "
               "np.tensordot(g, W, axes=(1, 0))")
    gather = _UNFLIPPED_FULL_CONVOLUTION if gather_unflipped else ""
    return f'''
def conv_backward_naive(dout, x, W, stride=1, padding=0):
    dout, x, W = (np.asarray(a, dtype=float) for a in (dout, x, W))
    N, C, H, Wd = x.shape
    k = W.shape[2]
    H_out, W_out = dout.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp = np.zeros_like(xp)
    dW = np.zeros_like(W)
    db = {db}
    for i in range(H_out):
        for j in range(W_out):
            r, c = i * stride, j * stride
            g = dout[:, :, i, j]
            patch = xp[{images}, :, r:r + k, c:c + k]
            dW += np.tensordot(g[{images}], patch, axes=(0, 0)){scatter}{gather}
    dx = {crop}
    return dx, dW, db
'''


def _pool_backward(*, default="k", step="s", better="values > best", add="+="):
    """The model answer of Exercise 5 with one piece changed."""
    return f'''
def max_pool_backward(dout, x, kernel, stride=None):
    x, dout = np.asarray(x), np.asarray(dout)
    k = kernel
    s = {default} if stride is None else stride
    H_out, W_out = dout.shape[2:]
    rows, columns = {step} * (H_out - 1) + 1, {step} * (W_out - 1) + 1
    best = x[:, :, 0:rows:{step}, 0:columns:{step}]
    where = np.zeros(dout.shape, dtype=int)
    for u in range(k):
        for v in range(k):
            values = x[:, :, u:u + rows:{step}, v:v + columns:{step}]
            better = {better}
            best = np.where(better, values, best)
            where[better] = u * k + v
    dx = np.zeros(x.shape, dtype=np.result_type(dout.dtype, np.float32))
    for u in range(k):
        for v in range(k):
            routed = np.where(where == u * k + v, dout, 0)
            dx[:, :, u:u + rows:{step}, v:v + columns:{step}] {add} routed
    return dx
'''


def _pool_by_windows(share):
    """Exercise 5 spreading each window's gradient: ``share`` is what every pixel gets."""
    return f'''
def max_pool_backward(dout, x, kernel, stride=None):
    x, dout = np.asarray(x), np.asarray(dout)
    k = kernel
    s = k if stride is None else stride
    dx = np.zeros(x.shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = x[:, :, i * s:i * s + k, j * s:j * s + k]
            g = dout[:, :, i, j, None, None]
            dx[:, :, i * s:i * s + k, j * s:j * s + k] += {share}
    return dx
'''


BYPASSES += [
    Variant("ex_conv_backward", "the library's Conv2D layer, forward then backward",
            kind="bypass", source='''
from dlcourse.models.cnn import Conv2D as _Layer

def conv_backward_naive(dout, x, W, stride=1, padding=0):
    layer = _Layer(W.shape[1], W.shape[0], W.shape[2], stride=stride, padding=padding,
                   dtype=np.float64)
    layer.params["W"][...] = W
    _, cache = layer.forward(x, training=True)
    dx = layer.backward(dout, cache)
    return dx, layer.grads["W"].copy(), layer.grads["b"].copy()
'''),
    Variant("ex_conv_backward", "torch's autograd through F.conv2d", kind="bypass", source='''
import torch as _torch

def conv_backward_naive(dout, x, W, stride=1, padding=0):
    x = _torch.tensor(np.asarray(x, dtype=float), requires_grad=True)
    W = _torch.tensor(np.asarray(W, dtype=float), requires_grad=True)
    b = _torch.zeros(W.shape[0], dtype=W.dtype, requires_grad=True)
    out = _torch.nn.functional.conv2d(x, W, b, stride=stride, padding=padding)
    out.backward(_torch.as_tensor(np.asarray(dout, dtype=float)))
    return x.grad.numpy(), W.grad.numpy(), b.grad.numpy()
'''),
    Variant("ex_conv_backward", "torch.nn.grad.conv2d_input / conv2d_weight", kind="bypass",
            source='''
import torch as _torch

def conv_backward_naive(dout, x, W, stride=1, padding=0):
    x, W, d = (_torch.as_tensor(np.asarray(a, dtype=float)) for a in (x, W, dout))
    dx = _torch.nn.grad.conv2d_input(x.shape, W, d, stride=stride, padding=padding)
    dW = _torch.nn.grad.conv2d_weight(x, W.shape, d, stride=stride, padding=padding)
    return dx.numpy(), dW.numpy(), d.sum(dim=(0, 2, 3)).numpy()
'''),
    Variant("ex_conv_backward", "finite differences of the library's conv2d", kind="bypass",
            source='''
from dlcourse.core.gradcheck import numerical_gradient_of_output as _numeric
from dlcourse.models.cnn import conv2d as _conv

def conv_backward_naive(dout, x, W, stride=1, padding=0):
    x, W = np.array(x, dtype=float), np.array(W, dtype=float)
    forward = lambda: _conv(x, W, None, stride=stride, padding=padding)
    return (_numeric(forward, x, dout, h=1e-5), _numeric(forward, W, dout, h=1e-5),
            np.asarray(dout).sum(axis=(0, 2, 3)))
'''),
    Variant("ex_conv_backward", "the notebook's own library_conv_backward", kind="bypass",
            source='''
def conv_backward_naive(dout, x, W, stride=1, padding=0):
    return library_conv_backward(np.asarray(dout, dtype=float), np.asarray(x, dtype=float),
                                 np.asarray(W, dtype=float), stride, padding)
'''),
    Variant("ex_max_pool_backward", "the notebook's own library_max_pool_backward",
            kind="bypass", source='''
def max_pool_backward(dout, x, kernel, stride=None):
    return library_max_pool_backward(np.asarray(dout, dtype=float), np.asarray(x, dtype=float),
                                     kernel, stride)
'''),
    Variant("ex_max_pool_backward", "the library's MaxPool2D layer, forward then backward",
            kind="bypass", source='''
from dlcourse.models.cnn import MaxPool2D as _Pool

def max_pool_backward(dout, x, kernel, stride=None):
    pool = _Pool(kernel, stride)
    _, cache = pool.forward(np.asarray(x, dtype=float))
    return pool.backward(np.asarray(dout, dtype=float), cache)
'''),
    Variant("ex_max_pool_backward", "torch's autograd through max_pool2d", kind="bypass",
            source='''
import torch as _torch

def max_pool_backward(dout, x, kernel, stride=None):
    x = _torch.tensor(np.asarray(x, dtype=float), requires_grad=True)
    out = _torch.nn.functional.max_pool2d(x, kernel, stride=stride)
    out.backward(_torch.as_tensor(np.asarray(dout, dtype=float)))
    return x.grad.numpy()
'''),
    Variant("ex_max_pool_backward", "torch's max_pool2d indices and max_unpool2d",
            kind="bypass", source='''
import torch as _torch

def max_pool_backward(dout, x, kernel, stride=None):
    x = _torch.as_tensor(np.asarray(x, dtype=float))
    _, idx = _torch.nn.functional.max_pool2d_with_indices(x, kernel, stride=stride)
    d = _torch.as_tensor(np.asarray(dout, dtype=float))
    flat = _torch.zeros(x.shape[0], x.shape[1], x.shape[2] * x.shape[3], dtype=d.dtype)
    flat.scatter_add_(2, idx.flatten(2), d.flatten(2))
    return flat.reshape(x.shape).numpy()
'''),
]

MISTAKES += [
    # Exercise 4: the convolution's backward pass
    Variant("ex_conv_backward", "dx without flipping the filters (full correlation with W)",
            expect="flip", source=_conv_backward(gather_unflipped=True)),
    Variant("ex_conv_backward", "db summed over the first image only", expect="batch",
            source=_conv_backward(db="dout[0].sum(axis=(1, 2))")),
    Variant("ex_conv_backward", "db summed over space but not over the batch (shape N, C_out)",
            expect="db has one entry per filter",
            source=_conv_backward(db="dout.sum(axis=(2, 3))")),
    Variant("ex_conv_backward", "dW from the first image only", expect="sum over the images",
            source=_conv_backward(images="0:1")),
    Variant("ex_conv_backward", "stride used in the forward and dW but not in dx",
            expect="stride in dx", source=_conv_backward(dx_at="i, j")),
    Variant("ex_conv_backward", "padding not cropped from dx", expect="crop",
            source=_conv_backward(crop="dxp")),
    Variant("ex_conv_backward", "the padding cropped with p:-p (empty when p = 0)",
            expect="p:-p", source=_conv_backward(
                crop="dxp[:, :, padding:-padding, padding:-padding]")),
    # Exercise 5: the max-pool backward pass
    Variant("ex_max_pool_backward", "the gradient spread to every element of the window",
            expect="every element", source=_pool_by_windows("g * np.ones_like(window)")),
    Variant("ex_max_pool_backward", "dout / k² to every element (average pooling's rule)",
            expect="average pooling", source=_pool_by_windows("g * np.ones_like(window) / k**2")),
    Variant("ex_max_pool_backward", "the gradient to every tied maximum", expect="first maximum",
            source=_pool_by_windows(
                "g * (window == window.max(axis=(2, 3), keepdims=True))")),
    Variant("ex_max_pool_backward", "ties to the last maximum (>=)", expect="first",
            source=_pool_backward(better="values >= best")),
    Variant("ex_max_pool_backward", "overlapping windows overwrite instead of adding",
            expect="overlap", source=_pool_backward(add="=")),
    Variant("ex_max_pool_backward", "stride argument ignored (always the kernel)",
            expect="stride", source=_pool_backward(step="k")),
]

CLAIMS += [
    Claim("dx of a strided convolution is the full convolution of the dilated dout with the "
          "flipped filters",
          "assert error_strided_dx < 1e-10, error_strided_dx"),
    Claim("the one-block network's learning rate is the best of three on validation",
          "assert block_val_acc == max(v[2] for v in candidates.values())"),
    Claim("one block of 8 filters learns the digits in three epochs (validation above 90 %)",
          "assert block_val_acc > 0.9, block_val_acc"),
    Claim("with the model answers' backward passes the network trains exactly as with the "
          "library's (the same loss every epoch, the same accuracy)",
          "assert np.allclose(own_conv_history.train_loss, reference_history.train_loss, "
          "rtol=1e-9)\n"
          "assert np.array_equal(own_pool_history.train_loss, reference_history.train_loss)\n"
          "assert own_conv_val == own_pool_val == block_val_acc"),
    Claim("two blocks with more filters and epochs (small_cnn) beat the single block on "
          "validation",
          "assert val_acc > block_val_acc + 0.02, (val_acc, block_val_acc)"),
    Claim("ties that change the max-pool gradient are common in the trained block (over 1 % "
          "of the windows have a tied positive maximum)",
          "assert tied_positive_share > 0.01, tied_positive_share"),
]
