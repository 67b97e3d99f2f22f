"""The grader's trusted process: instructor cells and tests, never a line of student code.

``python -m dlcourse.grading.trusted_side FD`` talks to the grader (which also drives the
student's sandboxed kernel) over the socket FD, with pickled messages between these two
trusted parties:

- grader → here: ``("run", key, source, capture)``, ``("bind", {name: forbid})``,
  ``("exit",)``,
  and, while a cell waits on a call, ``("reply", skeleton_bytes, npz_bytes)`` or
  ``("failed", exception_type, message)``;
- here → grader: ``("call", request_bytes)`` when a test calls a student's function, and
  ``("done", key, outputs)`` when a cell has run (nbformat outputs when ``capture``).

A name the student's answers define is bound here to a :class:`StudentFunction`. Calling it
sends the arguments to the student's kernel and rebuilds the result from plain data
(:mod:`dlcourse.grading.wire`), so the tests' ``assert``, numpy and torch are this process's
own, beyond the student's reach.
"""

from __future__ import annotations

import builtins
import io
import os
import pickle
import socket
import struct
import sys
import traceback

from . import wire


# --------------------------------------------------------------------------- framing
def send(sock: socket.socket, message) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(struct.pack("!Q", len(data)) + data)


def receive(sock: socket.socket):
    """One message; only ever used between the grader and this trusted process."""
    header = _exactly(sock, 8)
    return pickle.loads(_exactly(sock, struct.unpack("!Q", header)[0]))


def _exactly(sock, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------- calls
class StudentError(RuntimeError):
    """An exception of a type that is not a builtin, raised by the student's code."""


def _rebuild_exception(kind: str, message: str, where: str) -> BaseException:
    text = f"{message}\n(raised in your code:\n{where})" if where else message
    cls = getattr(builtins, kind, None)
    if isinstance(cls, type) and issubclass(cls, Exception) and cls is not StopIteration:
        try:
            return cls(text)
        except Exception:  # noqa: BLE001 — builtins with unusual constructors
            pass
    return StudentError(f"{kind}: {text}")


class _Pickler(pickle.Pickler):
    def __init__(self, file, tensor_index):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.tensor_index = tensor_index

    def persistent_id(self, obj):
        if wire.is_course_tensor(obj) and id(obj) in self.tensor_index:
            return ("tensor", self.tensor_index[id(obj)])
        return None


class Session:
    """The connection to the grader, used by every StudentFunction of this process."""

    def __init__(self, sock: socket.socket):
        self.sock = sock

    def request(self, request: dict) -> tuple[bytes, bytes]:
        send(self.sock, ("call", pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)))
        message = receive(self.sock)
        if message[0] == "failed":
            raise _rebuild_exception(message[1], message[2], "")
        return message[1], message[2]

    def call(self, name: str, args: tuple, kwargs: dict, forbid: dict | None = None):
        tracked = wire.track(args, kwargs)
        kinds = [wire._kind(obj) for obj in tracked]
        index = {id(obj): i for i, obj in enumerate(tracked) if kinds[i] == "tensor"}
        buffer = io.BytesIO()
        try:
            _Pickler(buffer, index).dump((args, kwargs, tracked))
        except Exception as exc:  # an instructor's test passed something unpicklable
            raise TypeError(f"the grader cannot send these arguments to {name}: {exc}") from None
        skeleton, arrays = self.request({"kind": "call", "name": name, "kinds": kinds,
                                         "forbid": forbid,
                                         "payload": buffer.getvalue(),
                                         "table": wire.tensor_table(tracked)})
        decoder = self._decoder(skeleton, arrays, tracked)
        reply = decoder.skeleton
        if not isinstance(reply, dict):
            raise wire.WireError("a malformed reply")
        if "error" in reply:
            error = reply["error"]
            raise _rebuild_exception(str(error.get("type")), str(error.get("message")),
                                     str(error.get("traceback", "")))
        states = reply.get("states")
        if not isinstance(states, list) or len(states) != len(tracked):
            raise wire.WireError("a malformed reply")
        for obj, kind, state in zip(tracked, kinds, states, strict=True):
            if kind and state is not None:
                wire.apply_state(obj, kind, state, decoder)
        return decoder.decode(reply.get("result"))

    def _decoder(self, skeleton, arrays, tracked):
        return wire.Decoder(skeleton, arrays, tracked,
                            make_tensor=self._make_tensor,
                            make_torch=lambda arr, handle: self._make_torch(arr, handle,
                                                                            tracked))

    # ---- autograd results: values here, backward in the student's process ----
    def _make_tensor(self, handle, data, grad, op, name, parents):
        from dlcourse.core.autograd import Tensor

        out = Tensor(data, parents, op, name=name)
        if grad is not None:
            out.grad = grad
        out._remote_handle = handle
        session = self

        def _backward():
            skeleton, arrays = session.request({
                "kind": "tensor_backward", "handle": handle, "grad": out.grad,
                "parent_grads": [p.grad for p in out._parents]})
            reply = wire.Decoder(skeleton, arrays, []).skeleton
            if "error" in reply:
                error = reply["error"]
                raise _rebuild_exception(str(error.get("type")), str(error.get("message")),
                                         str(error.get("traceback", "")))
            decoder = wire.Decoder(skeleton, arrays, [])
            grads = decoder.decode(reply["result"])
            for parent, g in zip(out._parents, grads, strict=True):
                parent.grad = g

        out._backward = _backward
        return out

    def _make_torch(self, arr, handle, tracked):
        import torch

        value = torch.from_numpy(arr)
        if handle is None:
            return value
        indices = [i for i, obj in enumerate(tracked)
                   if wire.is_torch_tensor(obj) and obj.requires_grad]
        if not indices:
            return value.requires_grad_(True) if value.is_floating_point() else value
        return _remote_function().apply(value, self, handle, indices,
                                        *[tracked[i] for i in indices])

    def torch_backward(self, handle, grad, indices):
        skeleton, arrays = self.request({"kind": "torch_backward", "handle": handle,
                                         "grad": grad, "inputs": indices})
        decoder = wire.Decoder(skeleton, arrays, [])
        reply = decoder.skeleton
        if "error" in reply:
            error = reply["error"]
            raise _rebuild_exception(str(error.get("type")), str(error.get("message")),
                                     str(error.get("traceback", "")))
        return decoder.decode(reply["result"])


_REMOTE_FUNCTION = None


def _remote_function():
    """A torch autograd Function whose backward runs in the student's process."""
    global _REMOTE_FUNCTION
    if _REMOTE_FUNCTION is None:
        import torch

        class RemoteBackward(torch.autograd.Function):
            @staticmethod
            def forward(ctx, value, session, handle, indices, *inputs):
                ctx.session, ctx.handle, ctx.indices = session, handle, indices
                ctx.dtypes = [t.dtype for t in inputs]
                return value.clone()

            @staticmethod
            def backward(ctx, grad_out):
                grads = ctx.session.torch_backward(ctx.handle, grad_out.detach().numpy(),
                                                   ctx.indices)
                rebuilt = [None if g is None else torch.from_numpy(g).to(dtype)
                           for g, dtype in zip(grads, ctx.dtypes, strict=True)]
                return (None, None, None, None, *rebuilt)

        _REMOTE_FUNCTION = RemoteBackward
    return _REMOTE_FUNCTION


class StudentFunction:
    """Stands for a function the student defined; calling it runs it in their process."""

    def __init__(self, name: str, session: Session, forbid: dict | None = None):
        self.__name__ = self.__qualname__ = name
        self._session = session
        self._forbid = forbid       # what the exercise switches off while this runs

    def __call__(self, *args, **kwargs):
        return self._session.call(self.__name__, args, kwargs, self._forbid)

    def __repr__(self) -> str:
        return f"<student function {self.__name__}>"


# --------------------------------------------------------------------------- running cells
def _outputs(captured, error) -> list[dict]:
    outputs = []
    if captured.stdout:
        outputs.append({"output_type": "stream", "name": "stdout", "text": captured.stdout})
    if captured.stderr:
        outputs.append({"output_type": "stream", "name": "stderr", "text": captured.stderr})
    for rich in captured.outputs:
        data = {k: v for k, v in rich.data.items() if isinstance(v, str)}
        if data:
            outputs.append({"output_type": "display_data", "data": data,
                            "metadata": rich.metadata or {}})
    if error is not None:
        outputs.append(error)
    return outputs


def _error_output(exc: BaseException) -> dict:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return {"output_type": "error", "ename": type(exc).__name__, "evalue": str(exc),
            "traceback": [line.rstrip("\n") for line in lines[-6:]]}


def main(fd: int) -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    sock = socket.socket(fileno=fd)
    session = Session(sock)
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False      # no history database shared between graders
    shell = InteractiveShell.instance(config=config)
    shell.register_magic_function(lambda line: None, "line", "matplotlib")
    last_error: list[BaseException] = []
    shell.showtraceback = lambda *a, **k: None
    shell.showsyntaxerror = lambda *a, **k: None
    while True:
        message = receive(sock)
        if message[0] == "exit":
            return
        if message[0] == "bind":
            for name, forbid in message[1].items():
                shell.user_ns[name] = StudentFunction(name, session, forbid)
            continue
        if message[0] != "run":
            raise RuntimeError(f"unexpected message {message[0]!r}")
        _, key, source, capture = message
        last_error.clear()
        with capture_output(display=True) as captured:
            result = shell.run_cell(source, store_history=False, silent=False)
        error = result.error_before_exec or result.error_in_exec
        outputs = _outputs(captured, _error_output(error) if error else None)
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
        send(sock, ("done", key, outputs if capture else
                    [o for o in outputs if o["output_type"] == "error"]))


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    main(int(sys.argv[1]))
