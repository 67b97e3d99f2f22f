"""What crosses between the grader's trusted test process and the student's sandboxed kernel.

Trusted → student: the arguments of a call, pickled. The student's process may unpickle what
the grader sends; the reverse never happens.

Student → trusted: **plain data only**, as a JSON skeleton plus one ``.npz`` of arrays read
with ``allow_pickle=False``. Nothing the student's process sends is unpickled, evaluated, or
asked for its ``__eq__``/``__bool__``/``__array__``: the decoder below builds fresh builtin
values, base-class ``numpy.ndarray``s and numpy scalars, and refuses anything else. An
ndarray subclass that lies, or a patched numpy, stays on the student's side.

The skeleton's tags (every dict is tagged, so a student's own dict cannot pose as one):

======================  ===================================================================
``{"$d": [[k, v]…]}``   a dict (keys: str, int, float, bool, None, tuples of those)
``{"$t": […]}``         a tuple; a JSON list is a list
``{"$a": "k"}``         an ndarray (numeric, bool or str dtype) stored under key k
``{"$s": "k"}``         a numpy scalar (a 0-d array under key k)
``{"$c": [re, im]}``    a complex number
``{"$f": "nan"}``       a float NaN or ±inf
``{"$ref": i}``         the i-th object the grader sent (identity is kept: ``out is a``)
``{"$torch": …}``       a torch tensor: values, requires_grad, and a handle for its backward
``{"$tensor": …}``      a ``dlcourse.core.autograd.Tensor``: data, grad, op, parents, handle
======================  ===================================================================

The objects the grader sends are *tracked*: after the call, their new state (arrays changed
in place, a module's weights and gradients, an optimizer's moments, an estimator's fitted
attributes, autograd gradients) comes back as plain data and is copied into the grader's own
objects. That is how a test can hand a model to the student's ``train_step`` and inspect it
afterwards.
"""

from __future__ import annotations

import io
import json
import math
import re
import sys

import numpy as np

MAX_DEPTH = 64
MAX_ITEMS = 1_000_000           # JSON nodes in one reply
MAX_BYTES = 512 * 2**20         # one reply's arrays
REPLAYABLE_OPS = {"+", "*", "@", "sum", "tanh", "relu", "exp", "log", "sigmoid"}
_POWER_OP = re.compile(r"^\*\*(-?[0-9.e+-]+)$")


class WireError(ValueError):
    """The student's process sent something that is not plain data."""


# --------------------------------------------------------------------------- type tests
# Torch and the course's autograd are looked up only if already imported: a chapter that
# never touches torch never imports it here.

def _torch():
    return sys.modules.get("torch")


def is_torch_tensor(obj) -> bool:
    torch = _torch()
    return torch is not None and isinstance(obj, torch.Tensor)


def is_course_tensor(obj) -> bool:
    autograd = sys.modules.get("dlcourse.core.autograd")
    return autograd is not None and isinstance(obj, autograd.Tensor)


def _kind(obj) -> str | None:
    """The tracked kind of an object the grader sends, or None (sent, not tracked)."""
    if type(obj) is np.ndarray:
        return "array"
    if is_course_tensor(obj):
        return "tensor"
    if is_torch_tensor(obj):
        return "torch"
    torch = _torch()
    if torch is not None:
        if isinstance(obj, torch.nn.Module):
            return "module"
        if isinstance(obj, torch.optim.Optimizer):
            return "optimizer"
    layers = sys.modules.get("dlcourse.core.module")
    if layers is not None and isinstance(obj, layers.Module):
        return "layer"
    sklearn_base = sys.modules.get("sklearn.base")
    if sklearn_base is not None and isinstance(obj, sklearn_base.BaseEstimator):
        return "estimator"
    return None


def track(args, kwargs) -> list:
    """Every object in the arguments whose state must come back, each once, in a fixed order."""
    found, seen = [], set()

    def visit(obj, depth=0):
        if depth > MAX_DEPTH or id(obj) in seen:
            return
        if isinstance(obj, (list, tuple)):
            for item in obj:
                visit(item, depth + 1)
            return
        if isinstance(obj, dict):
            for item in obj.values():
                visit(item, depth + 1)
            return
        kind = _kind(obj)
        if kind is None:
            return
        seen.add(id(obj))
        if kind == "tensor":      # the whole graph below it, parents first
            for parent in obj._parents:
                visit(parent, depth + 1)
        found.append(obj)

    visit((args, kwargs))
    return found


# --------------------------------------------------------------------------- plain data out
class Encoder:
    """Turn a value from the student's side into (skeleton, arrays); see the module doc."""

    def __init__(self, refs: dict[int, int], handles: dict[int, object] | None = None):
        self.refs = refs              # id(sent object) -> index
        self.handles = handles if handles is not None else {}
        self.arrays: dict[str, np.ndarray] = {}
        self.nodes = 0

    def _store(self, arr) -> str:
        arr = np.asarray(arr)
        if arr.dtype.kind not in "biufcUS?":
            raise WireError(f"an array of dtype {arr.dtype} is not plain data")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = np.array(arr, copy=True, subok=False)
        return key

    def _handle(self, obj) -> int:
        handle = len(self.handles) + 1
        while handle in self.handles:
            handle += 1
        self.handles[handle] = obj
        return handle

    def encode(self, obj, depth=0):
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_ITEMS:
            raise WireError("the value is nested too deeply or is too large")
        if id(obj) in self.refs and not isinstance(obj, (bool, int, float, str, type(None))):
            return {"$ref": self.refs[id(obj)]}
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and not isinstance(obj, np.integer):
            return int(obj)
        if isinstance(obj, float) and not isinstance(obj, np.floating):
            return float(obj) if math.isfinite(obj) else {"$f": repr(float(obj))}
        if isinstance(obj, complex) and not isinstance(obj, np.complexfloating):
            return {"$c": [self.encode(obj.real), self.encode(obj.imag)]}
        if isinstance(obj, np.generic):
            return {"$s": self._store(np.asarray(obj))}
        if isinstance(obj, np.ndarray):
            return {"$a": self._store(obj)}
        if isinstance(obj, tuple):
            return {"$t": [self.encode(v, depth + 1) for v in obj]}
        if isinstance(obj, list):
            return [self.encode(v, depth + 1) for v in obj]
        if isinstance(obj, dict):
            return {"$d": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                           for k, v in obj.items()]}
        if is_torch_tensor(obj):
            return {"$torch": self._store(obj.detach().cpu().numpy()),
                    "requires_grad": bool(obj.requires_grad),
                    "handle": self._handle(obj) if obj.requires_grad else None}
        if is_course_tensor(obj):
            return {"$tensor": self._handle(obj), "data": self._store(obj.data),
                    "grad": None if obj.grad is None else self._store(obj.grad),
                    "op": str(obj._op), "name": str(obj.name),
                    "parents": [self.encode(p, depth + 1) for p in obj._parents]}
        raise WireError(f"returned an object of type {type(obj).__name__}; the grader "
                        "accepts numbers, strings, None, lists, tuples, dicts, numpy arrays "
                        "and tensors")

    def state(self, obj, kind: str):
        """The state of a tracked object after the call, as plain data."""
        if kind == "array":
            return self.encode(obj)
        if kind == "tensor":
            return {"data": self.encode(obj.data),
                    "grad": None if obj.grad is None else self.encode(np.asarray(obj.grad))}
        if kind == "torch":
            return {"data": self.encode(obj.detach().cpu().numpy()),
                    "grad": None if obj.grad is None else self.encode(obj.grad.cpu().numpy())}
        if kind == "module":
            return {"params": {n: self._param_state(p) for n, p in obj.named_parameters()},
                    "buffers": {n: self.encode(b.detach().cpu().numpy())
                                for n, b in obj.named_buffers()}}
        if kind == "optimizer":
            return self.encode(_tensors_to_arrays(obj.state_dict()))
        if kind == "layer":
            return {"params": {n: self.encode(p) for n, p, _ in obj.named_parameters()},
                    "grads": {n: self.encode(g) for n, _, g in obj.named_parameters()}}
        if kind == "estimator":
            fitted = {}
            for name, value in vars(obj).items():
                if name.endswith("_") and not name.startswith("_"):
                    try:        # arrays it stored before failing are simply unused
                        fitted[name] = self.encode(value)
                    except WireError:
                        fitted[name] = {"$opaque": type(value).__name__}
            return {"fitted": fitted}
        raise WireError(kind)

    def _param_state(self, p):
        return {"data": self.encode(p.detach().cpu().numpy()),
                "grad": None if p.grad is None else self.encode(p.grad.cpu().numpy())}

    def pack(self, skeleton) -> tuple[bytes, bytes]:
        buffer = io.BytesIO()
        np.savez(buffer, **self.arrays)
        return json.dumps(skeleton).encode(), buffer.getvalue()


def _tensors_to_arrays(obj):
    if is_torch_tensor(obj):
        return obj.detach().cpu().numpy()
    if isinstance(obj, dict):
        return {k: _tensors_to_arrays(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_tensors_to_arrays(v) for v in obj)
    return obj


# --------------------------------------------------------------------------- plain data in
_KEY_TYPES = (str, int, float, bool, type(None), tuple)


class Decoder:
    """Rebuild plain values from (skeleton bytes, npz bytes) sent by the student's process.

    ``refs`` are the objects the grader sent (a ``{"$ref": i}`` becomes ``refs[i]`` itself);
    ``make_tensor``/``make_torch`` build the grader-side stand-ins for autograd results.
    """

    def __init__(self, skeleton: bytes, arrays: bytes, refs: list, make_tensor=None,
                 make_torch=None):
        if len(skeleton) > 64 * 2**20 or len(arrays) > MAX_BYTES:
            raise WireError("the reply is too large")
        try:
            self.skeleton = json.loads(skeleton)
        except (ValueError, RecursionError) as exc:
            raise WireError(f"the reply is not valid JSON: {exc}") from None
        try:
            with np.load(io.BytesIO(arrays), allow_pickle=False) as npz:
                self.arrays = {k: npz[k] for k in npz.files}
        except Exception as exc:  # a malformed or pickled payload: refuse it, whatever it is
            raise WireError(f"the arrays are not plain data: {exc}") from None
        self.refs = refs
        self.make_tensor = make_tensor
        self.make_torch = make_torch
        self.nodes = 0

    def _array(self, key) -> np.ndarray:
        if not isinstance(key, str) or key not in self.arrays:
            raise WireError(f"unknown array {key!r}")
        arr = self.arrays[key]
        if type(arr) is not np.ndarray or arr.dtype.kind not in "biufcUS?":
            raise WireError("an array that is not plain data")
        return arr.copy()

    def decode(self, node, depth=0):
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_ITEMS:
            raise WireError("the reply is nested too deeply or is too large")
        if node is None or type(node) in (bool, str):
            return node
        if type(node) is int:
            return int(node)
        if type(node) is float:
            return float(node)
        if type(node) is list:
            return [self.decode(v, depth + 1) for v in node]
        if type(node) is not dict or not node:
            raise WireError(f"unexpected {type(node).__name__} in the reply")
        tag = next(iter(node))
        value = node[tag]
        if tag == "$t":
            return tuple(self.decode(v, depth + 1) for v in self._list(value))
        if tag == "$d":
            out = {}
            for pair in self._list(value):
                if type(pair) is not list or len(pair) != 2:
                    raise WireError("a malformed dict entry")
                key = self.decode(pair[0], depth + 1)
                if not _hashable_plain(key):
                    raise WireError(f"a dict key of type {type(key).__name__}")
                out[key] = self.decode(pair[1], depth + 1)
            return out
        if tag == "$a":
            return self._array(value)
        if tag == "$s":
            arr = self._array(value)
            if arr.ndim != 0:
                raise WireError("a scalar that is not 0-d")
            return arr[()]
        if tag == "$c":
            re_, im = (self.decode(v, depth + 1) for v in self._list(value, 2))
            if not all(type(x) in (int, float) for x in (re_, im)):
                raise WireError("a malformed complex number")
            return complex(re_, im)
        if tag == "$f":
            if value not in ("nan", "inf", "-inf"):
                raise WireError("a malformed float")
            return float(value)
        if tag == "$ref":
            if type(value) is not int or not 0 <= value < len(self.refs):
                raise WireError("a reference to an object the grader did not send")
            return self.refs[value]
        if tag == "$torch":
            arr = self._array(value)
            handle = node.get("handle")
            if handle is not None and type(handle) is not int:
                raise WireError("a malformed handle")
            return self.make_torch(arr, handle)
        if tag == "$tensor":
            if type(value) is not int:
                raise WireError("a malformed handle")
            parents = tuple(self.decode(p, depth + 1) for p in self._list(node.get("parents")))
            grad = node.get("grad")
            return self.make_tensor(value, self._array(node.get("data")),
                                    None if grad is None else self._array(grad),
                                    str(node.get("op", "")), str(node.get("name", "")),
                                    parents)
        if tag == "$opaque":
            return Opaque(str(value))
        raise WireError(f"unknown tag {tag!r} in the reply")

    @staticmethod
    def _list(value, length=None) -> list:
        if type(value) is not list or (length is not None and len(value) != length):
            raise WireError("a malformed list in the reply")
        return value


def _hashable_plain(key) -> bool:
    if isinstance(key, tuple):
        return all(_hashable_plain(k) for k in key)
    return isinstance(key, _KEY_TYPES) or isinstance(key, np.generic)


class Opaque:
    """Stands in for a fitted attribute the grader cannot copy (``hasattr`` still works)."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} in the student's process>"


# --------------------------------------------------------------------------- applying state
def apply_state(obj, kind: str, state, decoder: Decoder) -> None:
    """Copy a tracked object's new state (plain data from the student's side) into ``obj``."""
    if kind == "array":
        new = decoder.decode(state)
        if isinstance(new, np.ndarray) and new.shape == obj.shape:
            if not np.array_equal(new, obj, equal_nan=obj.dtype.kind in "fc"):
                obj[...] = new
        return
    if kind == "tensor":
        obj.data = decoder.decode(state["data"])
        grad = state.get("grad")
        obj.grad = None if grad is None else decoder.decode(grad)
        return
    torch = _torch()
    if kind == "torch":
        with torch.no_grad():
            data = decoder.decode(state["data"])
            if tuple(data.shape) == tuple(obj.shape):
                obj.copy_(torch.from_numpy(data))
        _set_grad(obj, state.get("grad"), decoder)
        return
    if kind == "module":
        params = dict(obj.named_parameters())
        with torch.no_grad():
            for name, pstate in _dict(state.get("params")).items():
                if name in params:
                    data = decoder.decode(pstate["data"])
                    if tuple(data.shape) == tuple(params[name].shape):
                        params[name].copy_(torch.from_numpy(data))
                    _set_grad(params[name], pstate.get("grad"), decoder)
            buffers = dict(obj.named_buffers())
            for name, bstate in _dict(state.get("buffers")).items():
                if name in buffers:
                    data = decoder.decode(bstate)
                    if tuple(data.shape) == tuple(buffers[name].shape):
                        buffers[name].copy_(torch.from_numpy(data))
        return
    if kind == "optimizer":
        obj.load_state_dict(_arrays_to_tensors(decoder.decode(state)))
        return
    if kind == "layer":
        own = {n: (p, g) for n, p, g in obj.named_parameters()}
        for key in ("params", "grads"):
            for name, value in _dict(state.get(key)).items():
                if name in own:
                    target = own[name][0 if key == "params" else 1]
                    new = decoder.decode(value)
                    if isinstance(new, np.ndarray) and new.shape == target.shape:
                        target[...] = new
        return
    if kind == "estimator":
        current = {n for n in vars(obj) if n.endswith("_") and not n.startswith("_")}
        fitted = _dict(state.get("fitted"))
        for name in current - fitted.keys():
            delattr(obj, name)
        for name, value in fitted.items():
            if isinstance(name, str) and name.endswith("_") and name.isidentifier():
                if isinstance(value, dict) and set(value) == {"$opaque"}:
                    if not hasattr(obj, name):   # fitted in the student's process only
                        setattr(obj, name, Opaque(str(value["$opaque"])))
                else:
                    setattr(obj, name, decoder.decode(value))
        return


def _dict(value) -> dict:
    if not isinstance(value, dict):
        raise WireError("a malformed state")
    return value


def _set_grad(tensor, grad_state, decoder) -> None:
    torch = _torch()
    if grad_state is None:
        tensor.grad = None
        return
    grad = decoder.decode(grad_state)
    if isinstance(grad, np.ndarray) and tuple(grad.shape) == tuple(tensor.shape):
        tensor.grad = torch.from_numpy(grad).to(tensor.dtype)


def _arrays_to_tensors(obj):
    torch = _torch()
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(obj)
    if isinstance(obj, dict):
        return {k: _arrays_to_tensors(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_arrays_to_tensors(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_arrays_to_tensors(v) for v in obj)
    return obj


# --------------------------------------------------------------------------- the autograd graph
def tensor_table(tracked: list) -> list[dict]:
    """The course Tensors among ``tracked`` as a table the student's side can rebuild.

    Closures cannot be pickled, so each Tensor is sent as data, grad, name and op; a Tensor
    made by a library operation is rebuilt by replaying that operation on its rebuilt
    parents (which recreates its backward closure); any other becomes a leaf.
    """
    index = {id(t): i for i, t in enumerate(tracked)}
    table = []
    for t in tracked:
        if not is_course_tensor(t):
            table.append(None)
            continue
        replay = (not getattr(t, "_remote_handle", None)
                  and (t._op in REPLAYABLE_OPS or bool(_POWER_OP.match(t._op)))
                  and all(id(p) in index for p in t._parents))
        table.append({"data": np.array(t.data), "grad": None if t.grad is None
                      else np.array(t.grad), "name": t.name, "op": t._op,
                      "parents": [index[id(p)] for p in t._parents] if replay else None})
    return table


def rebuild_tensors(table: list, Tensor) -> dict[int, object]:
    """The student's side of :func:`tensor_table`: index -> a Tensor of the local library."""
    built: dict[int, object] = {}
    for i, row in enumerate(table):
        if row is None:
            continue
        parents = [built[j] for j in row["parents"]] if row["parents"] else None
        if parents:
            t = _replay(row["op"], parents)
            t.data = row["data"]
        else:
            t = Tensor(row["data"], (), row["op"], name=row["name"])
        t.name = row["name"]
        t.grad = row["grad"]
        built[i] = t
    return built


def _replay(op: str, parents):
    a = parents[0]
    if op == "+":
        return a + parents[1]
    if op == "*":
        return a * parents[1]
    if op == "@":
        return a @ parents[1]
    if op in ("sum", "tanh", "relu", "exp", "log", "sigmoid"):
        return getattr(a, op)()
    return a ** float(_POWER_OP.match(op).group(1))
