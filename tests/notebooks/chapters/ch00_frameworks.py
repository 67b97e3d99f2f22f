"""00 frameworks: bypasses, typical mistakes and claims (read by test_chapters.py)."""

from dlcourse.grading.variants import Claim, Variant

BYPASSES = [
    Variant("ex_tanh", "call the autograd's own tanh", kind="bypass", source='''
def tanh(a):
    return a.tanh()
'''),
    Variant("ex_tanh", "torch's tanh for the value, the library's backward", kind="bypass",
            source='''
def tanh(a):
    out = a.tanh()
    out.data = torch.tanh(torch.from_numpy(a.data)).numpy()
    return out
'''),
    Variant("ex_matmul", "the autograd's own @", kind="bypass", source='''
def matmul(a, b):
    return a @ b
'''),
    Variant("ex_matmul", "the method, called by name", kind="bypass", source='''
from dlcourse.core.autograd import Tensor as _T
def matmul(a, b, _mm=_T.__matmul__):
    return _mm(a, b)
'''),
    Variant("ex_run_backward", "the library's backward and topological order", kind="bypass",
            source='''
def run_backward(out):
    out.backward()
    return out.topological_order()
'''),
]

MISTAKES = [
    # --- tanh
    Variant("ex_tanh", "local derivative without the upstream gradient", expect=r"out\.grad",
            source='''
def tanh(a):
    t = np.tanh(a.data)
    out = Tensor(t, (a,), "tanh")
    def _backward():
        a.grad += 1 - t ** 2
    out._backward = _backward
    return out
'''),
    Variant("ex_tanh", "assigns the gradient instead of adding it", expect=r"used twice.*\+=",
            source='''
def tanh(a):
    t = np.tanh(a.data)
    out = Tensor(t, (a,), "tanh")
    def _backward():
        a.grad = (1 - t ** 2) * out.grad
    out._backward = _backward
    return out
'''),
    Variant("ex_tanh", "derivative written with the input, 1 - a^2", expect=r"1 - a\^2", source='''
def tanh(a):
    out = Tensor(np.tanh(a.data), (a,), "tanh")
    def _backward():
        a.grad += (1 - a.data ** 2) * out.grad
    out._backward = _backward
    return out
'''),
    Variant("ex_tanh", "closure never attached", expect=r"out\._backward", source='''
def tanh(a):
    t = np.tanh(a.data)
    out = Tensor(t, (a,), "tanh")
    def _backward():
        a.grad += (1 - t ** 2) * out.grad
    return out
'''),
    # --- matmul
    Variant("ex_matmul", "forgets to transpose b", expect=r"transpose", source='''
def matmul(a, b):
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"cannot multiply {a.shape} by {b.shape}")
    out = Tensor(a.data @ b.data, (a, b), "@")
    def _backward():
        a.grad += out.grad @ b.data
        b.grad += a.data.T @ out.grad
    out._backward = _backward
    return out
'''),
    Variant("ex_matmul", "dL/db transposed (out.grad.T @ a)", expect=r"shape.*transpose", source='''
def matmul(a, b):
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"cannot multiply {a.shape} by {b.shape}")
    out = Tensor(a.data @ b.data, (a, b), "@")
    def _backward():
        a.grad += out.grad @ b.data.T
        b.grad += out.grad.T @ a.data
    out._backward = _backward
    return out
'''),
    Variant("ex_matmul", "assigns instead of adding", expect=r"used twice.*\+=", source='''
def matmul(a, b):
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"cannot multiply {a.shape} by {b.shape}")
    out = Tensor(a.data @ b.data, (a, b), "@")
    def _backward():
        a.grad = out.grad @ b.data.T
        b.grad = a.data.T @ out.grad
    out._backward = _backward
    return out
'''),
    Variant("ex_matmul", "relies on numpy's error, which names no shapes",
            expect=r"name both shapes", source='''
def matmul(a, b):
    out = Tensor(a.data @ b.data, (a, b), "@")
    def _backward():
        a.grad += out.grad @ b.data.T
        b.grad += a.data.T @ out.grad
    out._backward = _backward
    return out
'''),
    # --- run_backward
    Variant("ex_run_backward", "never resets the gradients", expect=r"second run.*zeros", source='''
def run_backward(out):
    order, seen = [], set()
    def visit(t):
        if id(t) not in seen:
            seen.add(id(t))
            for parent in t._parents:
                visit(parent)
            order.append(t)
    visit(out)
    out.grad = np.ones_like(out.data)
    for t in reversed(order):
        t._backward()
    return order
'''),
    Variant("ex_run_backward", "calls _backward leaves first", expect=r"reverse topological order",
            source='''
def run_backward(out):
    order, seen = [], set()
    def visit(t):
        if id(t) not in seen:
            seen.add(id(t))
            for parent in t._parents:
                visit(parent)
            order.append(t)
    visit(out)
    for t in order:
        t.grad = np.zeros_like(t.data)
    out.grad = np.ones_like(out.data)
    for t in order:
        t._backward()
    return order
'''),
    Variant("ex_run_backward", "no visited set: shared tensors collected twice",
            expect=r"collected twice.*set", source='''
def run_backward(out):
    order = []
    def visit(t):
        for parent in t._parents:
            visit(parent)
        order.append(t)
    visit(out)
    for t in order:
        t.grad = np.zeros_like(t.data)
    out.grad = np.ones_like(out.data)
    for t in reversed(order):
        t._backward()
    return order
'''),
    Variant("ex_run_backward", "appends before visiting the parents (pre-order)",
            expect=r"after its parents", source='''
def run_backward(out):
    order, seen = [], set()
    def visit(t):
        if id(t) not in seen:
            seen.add(id(t))
            order.append(t)
            for parent in t._parents:
                visit(parent)
    visit(out)
    for t in order:
        t.grad = np.zeros_like(t.data)
    out.grad = np.ones_like(out.data)
    for t in reversed(order):
        t._backward()
    return order
'''),
    Variant("ex_run_backward", "resets after seeding out.grad", expect=r"out\.grad must start at 1",
            source='''
def run_backward(out):
    order, seen = [], set()
    def visit(t):
        if id(t) not in seen:
            seen.add(id(t))
            for parent in t._parents:
                visit(parent)
            order.append(t)
    visit(out)
    out.grad = np.ones_like(out.data)
    for t in order:
        t.grad = np.zeros_like(t.data)
    for t in reversed(order):
        t._backward()
    return order
'''),
]

CLAIMS = [
    Claim("torch.fx must refuse a branch that depends on the data",
          "assert fx_refused"),
    Claim("torch.jit.trace silently freezes the branch: the traced function gives a wrong answer",
          "assert frozen(negative).tolist() != branchy(negative).tolist()\n"
          "assert branchy(negative).tolist() == [1.0, 1.0, 1.0]"),
    Claim("the chain rule by hand gives autograd's numbers",
          "assert chain_rule_matches"),
    Claim("the micro-autograd is under 200 lines",
          "assert len(inspect.getsource(dlcourse.core.autograd).splitlines()) < 200"),
    Claim("numpy layers, the micro-autograd and PyTorch agree to round-off (float64)",
          "assert largest_error < 1e-12, largest_error\n"
          "assert abs(loss_np - float(loss_ag.data)) < 1e-12\n"
          "assert abs(loss_np - loss_t.item()) < 1e-12"),
    Claim("the graph of the tiny model has 18 nodes (printed)",
          "assert len(graph) == 18"),
]
