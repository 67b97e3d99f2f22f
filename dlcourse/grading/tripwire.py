"""Switching off, while an exercise's tests call the student's code, what the exercise asks for.

An exercise that asks for a convolution is not done by calling ``dlcourse.models.cnn.conv2d``. Each
answer cell may declare, in its metadata, what it forbids::

    "dlcourse": {"forbid": {"task": "write the convolution yourself",
                            "functions": ["dlcourse.models.cnn.conv2d",
                                          "scipy.signal.correlate2d"]}}

While a test calls a function of that answer, :func:`switched_off` watches every call the
student's code makes. The check is on the function *object* (its code, for Python functions),
never on a name, so an alias, the student's own import, a default argument, a closure, a bound
method or a reloaded module are all caught:

- Python functions and methods (dlcourse, numpy's Python layer, scipy, scikit-learn): by their
  code's file and qualified name, seen by a profile hook (``sys.setprofile``);
- C functions and methods (``torch.tanh``, ``Tensor.sigmoid``): by the profile hook's
  ``c_call`` event;
- ufuncs (``scipy.special.expit``), which emit no profile event: every reference to them that
  the garbage collector knows (module attributes, globals, closures, defaults, lists, dicts)
  is replaced by a watched stand-in for the duration.

A forbidden call is recorded, not stopped on the spot (a student's ``try`` could swallow an
error raised there); when the student's function returns, :class:`SwitchedOffError` is raised
instead of its result, naming the function, the task and the student's line that called it.

This guards against the one-line bypass, not against a determined attack on the grader: the
student's code runs in its own process (:mod:`dlcourse.grading.two_process`), and code that
unsets the hook is reported as tampering, but pasted library source is not detected.
"""

from __future__ import annotations

import functools
import gc
import importlib
import os
import sys
import threading
import types
from contextlib import contextmanager
from dataclasses import dataclass, field

METADATA_KEY = "dlcourse"


class SwitchedOffError(RuntimeError):
    """The student's code called a function its exercise asks them to write themselves."""


@dataclass(frozen=True)
class Forbidden:
    """What one exercise switches off: ``functions`` (dotted names) and the ``task`` in words."""

    task: str
    functions: tuple[str, ...] = ()

    @classmethod
    def from_metadata(cls, meta) -> Forbidden | None:
        if not meta:
            return None
        functions = meta.get("functions", [])
        if isinstance(functions, str) or not all(isinstance(f, str) for f in functions):
            raise ValueError(f"forbid.functions must be a list of dotted names, got {functions!r}")
        task = meta.get("task") or "write this yourself"
        return cls(task=str(task), functions=tuple(functions))

    def to_metadata(self) -> dict:
        return {"task": self.task, "functions": list(self.functions)}


def forbidden_of(cell) -> Forbidden | None:
    """The :class:`Forbidden` an answer cell declares in its metadata, or None."""
    meta = (cell.get("metadata", {}) or {}).get(METADATA_KEY, {}) or {}
    return Forbidden.from_metadata(meta.get("forbid"))


# --------------------------------------------------------------------------- resolving names
@functools.cache
def resolve(dotted: str):
    """The object a dotted name such as ``numpy.fft.fft`` or ``torch.Tensor.tanh`` names."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            break
        return obj
    raise ValueError(f"forbid lists {dotted!r}, which names nothing that can be imported")


def _python_function(obj):
    """The plain Python function behind ``obj`` (numpy dispatchers, wrappers, methods)."""
    seen = 0
    while seen < 5:
        seen += 1
        if isinstance(obj, (staticmethod, classmethod)):
            obj = obj.__func__
        elif isinstance(obj, types.MethodType):
            obj = obj.__func__
        elif isinstance(obj, types.FunctionType) and hasattr(obj, "__wrapped__"):
            obj = obj.__wrapped__     # a decorator's wrapper is shared by many functions
        elif isinstance(obj, types.FunctionType):
            return obj
        elif hasattr(obj, "_implementation"):        # numpy's array-function dispatcher
            obj = obj._implementation
        elif hasattr(obj, "__wrapped__"):
            obj = obj.__wrapped__
        else:
            return None
    return None


def _scipy_fft_backend(obj):
    """The pocketfft function behind a ``scipy.fft`` multimethod (uarray dispatches to it
    without running the Python stub that ``__wrapped__`` leads to)."""
    if type(obj).__module__ != "uarray" and not type(obj).__name__ == "_Function":
        return None
    module = sys.modules.get("scipy.fft._pocketfft")
    target = getattr(module, getattr(obj, "__name__", ""), None) if module else None
    target = getattr(target, "func", target)          # a functools.partial
    return target if isinstance(target, types.FunctionType) else None


@dataclass
class _Targets:
    """Everything switched off at one moment, indexed for the profile hook."""

    by_code: dict = field(default_factory=dict)      # (filename, qualname) -> (name, task)
    c_by_name: dict = field(default_factory=dict)    # __name__ -> [(object, name, task)]
    other: list = field(default_factory=list)        # (object, name, task): ufuncs and kin

    def add(self, dotted: str, task: str) -> None:
        obj = resolve(dotted)
        backend = _scipy_fft_backend(obj)
        if backend is not None:     # a uarray multimethod: its stub never runs
            code = backend.__code__
            self.by_code[(code.co_filename, code.co_qualname)] = (dotted, task)
        function = _python_function(obj)
        if function is not None:
            code = function.__code__
            self.by_code[(code.co_filename, code.co_qualname)] = (dotted, task)
        elif isinstance(obj, (types.BuiltinFunctionType, types.MethodDescriptorType,
                              types.WrapperDescriptorType, types.ClassMethodDescriptorType)):
            self.c_by_name.setdefault(obj.__name__, []).append((obj, dotted, task))
        elif callable(obj):
            self.other.append((obj, dotted, task))
        else:
            raise ValueError(f"forbid lists {dotted!r}, which is not a function")

    def c_match(self, called):
        for obj, dotted, task in self.c_by_name.get(getattr(called, "__name__", None), ()):
            if called is obj:
                return dotted, task
            owner = getattr(called, "__self__", None)
            if isinstance(obj, types.BuiltinFunctionType):
                if called == obj:
                    return dotted, task
            elif owner is not None and getattr(type(owner), obj.__name__, None) is obj:
                return dotted, task
        return None


# --------------------------------------------------------------------------- the watch
class _Watch:
    """The active tripwire of this process: specs pushed by nested student calls."""

    def __init__(self):
        self.stack: list[Forbidden] = []
        self.targets = _Targets()
        self.violations: list[str] = []
        self.previous_profile = None
        self.swapped: list[tuple] = []     # (restore function) for the ufunc stand-ins

    def hook(self, frame, event, arg):
        if event == "call":
            code = frame.f_code
            hit = self.targets.by_code.get((code.co_filename, code.co_qualname))
            if hit is not None:
                self.record(hit, frame.f_back)
        elif event == "c_call":
            hit = self.targets.c_match(arg)
            if hit is not None:
                self.record(hit, frame)
        return None

    def record(self, hit, frame) -> None:
        if self.violations and _is_library(frame):
            return        # a forbidden function calling another: report the first only
        dotted, task = hit
        where = _student_line(frame)
        message = (f"this exercise asks you to {task}; `{dotted}` is switched off while its "
                   f"tests run{where}")
        if message not in self.violations:
            self.violations.append(message)

    def start(self) -> None:
        self.targets = _Targets()
        for spec in self.stack:
            for dotted in spec.functions:
                self.targets.add(dotted, spec.task)
        self.previous_profile = sys.getprofile()
        self._swap_others()
        sys.setprofile(self.hook)
        threading.setprofile(self.hook)

    def stop(self) -> str:
        """Remove the hook; return a description of tampering, or ''."""
        tampered = "" if sys.getprofile() == self.hook else (
            "the profile hook the grader watches calls with was removed or replaced "
            "(sys.setprofile) while your function ran")
        sys.setprofile(self.previous_profile)
        threading.setprofile(None)
        for restore in reversed(self.swapped):
            restore()
        self.swapped.clear()
        return tampered

    def _swap_others(self) -> None:
        for obj, dotted, task in self.targets.other:
            stand_in = _stand_in(obj, lambda d=dotted, t=task: self.record(
                (d, t), sys._getframe(2)))
            own = {id(cell) for cell in stand_in.__closure__ or ()}
            for referrer in gc.get_referrers(obj):
                if id(referrer) not in own:       # the stand-in itself must reach obj
                    self.swapped.extend(_replace_in(referrer, obj, stand_in))


def _stand_in(obj, on_call):
    def watched(*args, **kwargs):
        on_call()
        return obj(*args, **kwargs)

    watched.__name__ = getattr(obj, "__name__", "watched")
    watched.__doc__ = getattr(obj, "__doc__", None)
    return watched


def _replace_in(container, old, new) -> list:
    """Point ``container``'s references from ``old`` to ``new``; return the undo functions."""
    undo = []
    if isinstance(container, dict) and not _is_class_dict(container):
        for key, value in list(container.items()):
            if value is old:
                container[key] = new
                undo.append(lambda c=container, k=key: c.__setitem__(k, old))
    elif isinstance(container, list):
        for i, value in enumerate(container):
            if value is old:
                container[i] = new
                undo.append(lambda c=container, i=i: c.__setitem__(i, old))
    elif isinstance(container, types.CellType):
        container.cell_contents = new
        undo.append(lambda c=container: setattr(c, "cell_contents", old))
    elif isinstance(container, tuple):     # a function's defaults
        for function in gc.get_referrers(container):
            if not isinstance(function, types.FunctionType):
                continue
            if function.__defaults__ is container:
                function.__defaults__ = tuple(new if v is old else v for v in container)
                undo.append(lambda f=function, d=container: setattr(f, "__defaults__", d))
    return undo


def _is_class_dict(d: dict) -> bool:
    """A class's namespace (written to only through setattr): it has ``__module__`` but,
    unlike a module's, no ``__name__``. Cheap: a search of the heap per dict took seconds."""
    return "__module__" in d and "__name__" not in d


_LIBRARIES = tuple({os.path.dirname(os.path.dirname(os.__file__)), sys.prefix,
                    sys.base_prefix, os.path.dirname(os.path.dirname(__file__))})


def _is_library(frame) -> bool:
    return frame is not None and frame.f_code.co_filename.startswith(_LIBRARIES)


def _student_line(frame) -> str:
    """' (called in my_conv2d, line 3)': the nearest caller outside the libraries."""
    while frame is not None:
        if not _is_library(frame):
            return f" (called in {frame.f_code.co_name}, line {frame.f_lineno})"
        frame = frame.f_back
    return ""


_WATCH = _Watch()


@contextmanager
def switched_off(spec: Forbidden | None):
    """Watch the calls made inside the ``with`` block; raise if ``spec`` forbids one.

    Nested blocks (a student function calling another) add their specs to the outer one's.
    """
    if spec is None or not spec.functions:
        yield
        return
    outer = bool(_WATCH.stack)
    if outer:
        _WATCH.stop()
    else:
        _WATCH.violations = []
    _WATCH.stack.append(spec)
    _WATCH.start()
    failed = None
    try:
        yield
    except BaseException as exc:  # noqa: BLE001 — re-raised below unless a violation explains it
        failed = exc
    finally:
        tampered = _WATCH.stop()
        _WATCH.stack.pop()
        if _WATCH.stack:
            _WATCH.start()
    violations = list(_WATCH.violations)
    if tampered:
        violations.insert(0, tampered)
    if violations and not outer:
        raise SwitchedOffError("; ".join(violations)) from failed
    if failed is not None:
        raise failed


# --------------------------------------------------------------------------- one-kernel mode
_GUARDED_ATTR = "__dlcourse_guarded__"


def guard(function, spec: Forbidden):
    """``function`` wrapped so that each call runs under :func:`switched_off` (``spec``)."""
    @functools.wraps(function)
    def guarded(*args, **kwargs):
        with switched_off(spec):
            return function(*args, **kwargs)

    setattr(guarded, _GUARDED_ATTR, function)
    return guarded


def arm(namespace: dict, specs: dict) -> list[str]:
    """Guard each answer function ``namespace[name]`` with ``specs[name]``, for one test cell.

    Used where the tests and the student's code share one kernel (``dlcourse check``, and
    ``dlcourse grade --single-kernel``): only calls through the student's names are watched,
    so a test's own reference implementation still runs. Returns the names guarded.
    """
    armed = []
    for name, meta in specs.items():
        spec = meta if isinstance(meta, Forbidden) else Forbidden.from_metadata(meta)
        function = namespace.get(name)
        if (spec is None or not callable(function) or isinstance(function, type)
                or hasattr(function, _GUARDED_ATTR)):
            continue
        namespace[name] = guard(function, spec)
        armed.append(name)
    return armed


def disarm(namespace: dict, names) -> None:
    """Undo :func:`arm` for ``names`` (only where the guard is still in place)."""
    for name in names:
        function = namespace.get(name)
        original = getattr(function, _GUARDED_ATTR, None)
        if original is not None:
            namespace[name] = original


# --------------------------------------------------------------------------- notebooks
def defined_names(source: str) -> list[str]:
    """The names an answer cell binds at its top level: its ``def``s and plain assignments
    (``my_conv2d = conv2d`` is an answer too, and must be guarded like one)."""
    import ast

    from .conventions import strip_markers

    try:
        tree = ast.parse(strip_markers(source))
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.extend(t.id for t in targets if isinstance(t, ast.Name))
    return names


def guards_of(nb, names_from=None) -> dict[str, dict]:
    """``{function name: forbid metadata}`` for the answer cells of ``nb`` that forbid anything.

    The specs are read from ``nb``; the names from ``names_from`` (the notebook as the student
    handed it in, whose answer cell may bind the name differently) as well as from ``nb``.
    """
    from .conventions import grade_id, is_answer

    answers = {grade_id(c): c for c in (names_from or nb).cells
               if is_answer(c) and c.cell_type == "code"}
    guards = {}
    for cell in nb.cells:
        spec = forbidden_of(cell) if is_answer(cell) else None
        if spec is None:
            continue
        names = defined_names(cell.source)
        other = answers.get(grade_id(cell))
        if other is not None:
            names += defined_names(other.source)
        for name in dict.fromkeys(names):
            guards[name] = spec.to_metadata()
    return guards


def arm_code(guards: dict) -> str:
    """The line a kernel runs before a test cell (shared-kernel mode)."""
    return (f"__import__('dlcourse.grading.tripwire', fromlist=['arm']).arm(globals(), "
            f"{guards!r})")


def disarm_code(guards: dict) -> str:
    return (f"__import__('dlcourse.grading.tripwire', fromlist=['disarm']).disarm(globals(), "
            f"{list(guards)!r})")


# --------------------------------------------------------------------------- for the instructor
_TAMPER_SIGNS = {
    "sys.setprofile": "sets a profile hook", "sys.settrace": "sets a trace hook",
    "threading.setprofile": "sets a profile hook", "sys.monitoring": "uses sys.monitoring",
    "gc.get_referrers": "searches the garbage collector", "__code__": "rewrites code objects",
    "dlcourse.grading": "imports the grader", "student_side": "touches the grader's relay",
    "tripwire": "touches the tripwire",
}


def tampering_signs(nb) -> list[str]:
    """What in a submission's code cells looks like an attack on the grader's machinery.

    The tripwire runs in the student's own process, so code that goes for it could switch it
    off; such code has no place in an exercise. ``dlcourse grade`` writes these signs into
    the student's note for the instructor to read; they do not change the score.
    """
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for needle, what in _TAMPER_SIGNS.items():
            if needle in cell.source and what not in found:
                found.append(what)
    return found
