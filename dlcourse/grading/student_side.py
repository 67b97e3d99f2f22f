"""The few lines the grader runs inside the student's (sandboxed) kernel to call an answer.

The grader writes a request file into the sandbox's work folder and executes
``serve(path, globals())`` in the student's kernel. The request (pickled by the trusted side:
the student's process may unpickle what the grader sends) names a function the student
defined and its arguments; the reply is plain data (:mod:`dlcourse.grading.wire`).

Nothing here is a secret and nothing here is trusted: a student may replace this module in
their own process, and the grader still only reads plain data back.
"""

from __future__ import annotations

import os
import pickle
import traceback

from . import tripwire, wire

_HANDLES: dict[int, object] = {}      # handle -> autograd result kept for its backward
_INPUTS: dict[int, list] = {}         # handle -> the tracked arguments of its call
_FORBID: dict[int, object] = {}       # handle -> what its exercise switches off


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, tensors):
        super().__init__(file)
        self.tensors = tensors

    def persistent_load(self, pid):
        return self.tensors[pid[1]]


def serve(path: str, namespace: dict) -> None:
    """Answer the request in ``path`` + '.request'; write '.json' and '.npz' beside it."""
    with open(path + ".request", "rb") as f:
        request = pickle.load(f)
    try:
        skeleton, encoder = _answer(request, namespace)
    except BaseException as exc:  # noqa: BLE001 — every failure of student code is reported
        encoder = wire.Encoder({})
        skeleton = {"error": {"type": type(exc).__name__, "message": _message(exc),
                              "traceback": _student_traceback(exc)}}
    try:
        data, arrays = encoder.pack(skeleton)
    except Exception as exc:  # noqa: BLE001 — e.g. the student's value could not be encoded
        encoder = wire.Encoder({})
        data, arrays = encoder.pack({"error": {"type": "TypeError", "message": str(exc),
                                               "traceback": ""}})
    for suffix, payload in ((".npz", arrays), (".json", data)):
        with open(path + suffix + ".part", "wb") as f:
            f.write(payload)
        os.replace(path + suffix + ".part", path + suffix)


def _answer(request: dict, namespace: dict):
    kind = request["kind"]
    if kind == "call":
        return _call(request, namespace)
    if kind == "tensor_backward":
        return _tensor_backward(request)
    if kind == "torch_backward":
        return _torch_backward(request)
    raise ValueError(f"unknown request {kind!r}")


def _call(request, namespace):
    import io

    tensors = {}
    if any(row is not None for row in request["table"]):
        from dlcourse.core.autograd import Tensor

        tensors = wire.rebuild_tensors(request["table"], Tensor)
    args, kwargs, tracked = _Unpickler(io.BytesIO(request["payload"]), tensors).load()
    function = namespace.get(request["name"])
    if not callable(function):
        raise NameError(f"name {request['name']!r} is not defined: run the cell that "
                        "defines it")
    before = set(_HANDLES)
    forbid = tripwire.Forbidden.from_metadata(request.get("forbid"))
    with tripwire.switched_off(forbid):
        result = function(*args, **kwargs)
    refs = {id(obj): i for i, obj in enumerate(tracked)}
    encoder = wire.Encoder(refs, _HANDLES)
    skeleton = {"result": encoder.encode(result),
                "states": [encoder.state(obj, kind) if kind else None
                           for obj, kind in zip(tracked, request["kinds"], strict=True)]}
    for handle in set(_HANDLES) - before:
        _INPUTS[handle] = tracked
        _FORBID[handle] = forbid
    return skeleton, encoder


def _tensor_backward(request):
    import numpy as np

    out = _HANDLES[request["handle"]]
    out.grad = np.array(request["grad"])
    for parent, grad in zip(out._parents, request["parent_grads"], strict=True):
        parent.grad = None if grad is None else np.array(grad)
    with tripwire.switched_off(_FORBID.get(request["handle"])):
        out._backward()
    encoder = wire.Encoder({})
    grads = [None if p.grad is None else encoder.encode(np.asarray(p.grad))
             for p in out._parents]
    return {"result": grads}, encoder


def _torch_backward(request):
    import torch

    out = _HANDLES[request["handle"]]
    inputs = [_INPUTS[request["handle"]][i] for i in request["inputs"]]
    with tripwire.switched_off(_FORBID.get(request["handle"])):
        grads = torch.autograd.grad(out, inputs, grad_outputs=torch.as_tensor(request["grad"]),
                                    retain_graph=True, allow_unused=True)
    encoder = wire.Encoder({})
    return {"result": [None if g is None else encoder.encode(g.detach().numpy())
                       for g in grads]}, encoder


def _message(exc: BaseException) -> str:
    try:
        return str(exc)[:10_000]
    except Exception:  # noqa: BLE001 — a student's __str__ may itself raise
        return f"<{type(exc).__name__} whose message could not be read>"


def _student_traceback(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    # Only the student's own frames (their cells), not this module's.
    lines = [f"  {f.name}, line {f.lineno}: {f.line}" for f in frames
             if not f.filename.endswith(("student_side.py", "wire.py", "tripwire.py",
                                         "contextlib.py"))]
    return "\n".join(lines[-8:])
