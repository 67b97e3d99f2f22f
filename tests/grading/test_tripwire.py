"""The tripwire switches off a function object, however the student's code reaches it."""

from __future__ import annotations

import importlib
import sys
import threading

import numpy as np
import pytest

from dlcourse.grading.tripwire import (
    Forbidden,
    SwitchedOffError,
    arm,
    disarm,
    forbidden_of,
    resolve,
    switched_off,
)

CONV = Forbidden(task="write the convolution yourself", functions=("dlcourse.models.cnn.conv2d",))


def _call(spec, function, *args):
    with switched_off(spec):
        return function(*args)


def _conv_inputs():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((1, 1, 5, 5)).astype(np.float32),
            rng.standard_normal((1, 1, 3, 3)).astype(np.float32), np.zeros(1, np.float32))


def test_message_names_the_function_the_task_and_the_line():
    from dlcourse.models.cnn import conv2d as my_alias

    def my_conv2d(x, W, b):
        return my_alias(x, W, b)

    with pytest.raises(SwitchedOffError) as info:
        _call(CONV, my_conv2d, *_conv_inputs())
    message = str(info.value)
    assert "write the convolution yourself" in message
    assert "`dlcourse.models.cnn.conv2d` is switched off" in message
    assert "called in my_conv2d, line" in message
    assert "im2col" not in message       # what conv2d calls itself is not reported


def test_default_argument_closure_and_module_attribute_are_caught():
    import dlcourse.models.cnn

    def with_default(x, W, b, f=dlcourse.models.cnn.conv2d):
        return f(x, W, b)

    def make_closure():
        g = dlcourse.models.cnn.conv2d
        return lambda x, W, b: g(x, W, b)

    def through_module(x, W, b):
        return dlcourse.models.cnn.conv2d(x, W, b)

    for function in (with_default, make_closure(), through_module):
        with pytest.raises(SwitchedOffError):
            _call(CONV, function, *_conv_inputs())


def test_a_reloaded_module_is_still_switched_off():
    def reloading(x, W, b):
        fresh = importlib.reload(sys.modules["dlcourse.models.cnn"])
        return fresh.conv2d(x, W, b)

    with pytest.raises(SwitchedOffError):
        _call(CONV, reloading, *_conv_inputs())


def test_a_swallowed_error_does_not_help():
    from dlcourse.models.cnn import conv2d

    def sneaky(x, W, b):
        try:
            return conv2d(x, W, b)
        except Exception:
            return None

    with pytest.raises(SwitchedOffError):
        _call(CONV, sneaky, *_conv_inputs())


def test_bound_methods_of_the_course_classes():
    from dlcourse.core.autograd import Tensor

    spec = Forbidden(task="build tanh from exp", functions=("dlcourse.core.autograd.Tensor.tanh",))
    a = Tensor(np.array([0.5, -1.0]))
    bound = a.tanh
    for function in (lambda t: t.tanh(), lambda t: bound()):
        with pytest.raises(SwitchedOffError, match="Tensor.tanh"):
            _call(spec, function, a)


def test_numpy_dispatchers_are_caught_by_their_implementation():
    spec = Forbidden(task="write the DFT as a matrix product", functions=("numpy.fft.fft",))
    fft = np.fft.fft
    with pytest.raises(SwitchedOffError, match="numpy.fft.fft"):
        _call(spec, lambda x: fft(x), np.ones(8))


def test_ufuncs_through_alias_closure_default_and_list():
    from scipy.special import expit

    spec = Forbidden(task="write the sigmoid yourself", functions=("scipy.special.expit",))
    holder = [expit]

    def with_default(z, f=expit):
        return f(z)

    cases = [lambda z: expit(z), with_default, lambda z: holder[0](z),
             lambda z: importlib.import_module("scipy.special").expit(z)]
    for function in cases:
        with pytest.raises(SwitchedOffError, match="expit"):
            _call(spec, function, np.zeros(3))
    # everything is put back afterwards
    import scipy.special

    assert scipy.special.expit is expit and holder[0] is expit
    assert with_default.__defaults__[0] is expit
    assert expit(0.0) == 0.5


def test_c_functions_and_methods_of_torch():
    torch = pytest.importorskip("torch")
    spec = Forbidden(task="build tanh yourself", functions=("torch.tanh", "torch.Tensor.tanh"))
    t = torch.zeros(3)
    for function in (lambda x: torch.tanh(x), lambda x: x.tanh()):
        with pytest.raises(SwitchedOffError, match="tanh"):
            _call(spec, function, t)
    assert _call(spec, lambda x: torch.exp(x).sum(), t).item() == 3.0


def test_allowed_code_runs_and_everything_is_restored():
    previous = sys.getprofile()
    from dlcourse.models.cnn import conv2d

    def honest(x, W, b):
        return np.asarray(x).sum() + np.asarray(W).sum() + np.asarray(b).sum()

    x, W, b = _conv_inputs()
    assert _call(CONV, honest, x, W, b) == pytest.approx(x.sum() + W.sum())
    assert sys.getprofile() is previous
    assert conv2d(x, W, b).shape == (1, 1, 3, 3)        # the reference works outside


def test_removing_the_hook_is_reported_as_tampering():
    def tamper(x):
        sys.setprofile(None)
        return x

    with pytest.raises(SwitchedOffError, match="sys.setprofile"):
        _call(CONV, tamper, 1)


def test_threads_started_by_the_student_are_watched():
    from dlcourse.models.cnn import conv2d

    def threaded(x, W, b):
        out = []
        worker = threading.Thread(target=lambda: out.append(conv2d(x, W, b)))
        worker.start()
        worker.join()
        return out[0]

    with pytest.raises(SwitchedOffError):
        _call(CONV, threaded, *_conv_inputs())


def test_nested_student_calls_keep_the_outer_spec():
    from dlcourse.models.cnn import conv2d

    inner_spec = Forbidden(task="t", functions=("numpy.fft.fft",))

    def inner(x, W, b):
        with switched_off(inner_spec):
            return 1
    def outer(x, W, b):
        inner(x, W, b)
        return conv2d(x, W, b)

    with pytest.raises(SwitchedOffError, match="conv2d"):
        _call(CONV, outer, *_conv_inputs())


def test_arm_guards_only_the_students_names():
    from dlcourse.models.cnn import conv2d

    namespace = {"my_conv2d": conv2d, "conv2d": conv2d}
    names = arm(namespace, {"my_conv2d": CONV.to_metadata()})
    assert names == ["my_conv2d"]
    x, W, b = _conv_inputs()
    with pytest.raises(SwitchedOffError):
        namespace["my_conv2d"](x, W, b)
    assert namespace["conv2d"](x, W, b).shape == (1, 1, 3, 3)
    disarm(namespace, names)
    assert namespace["my_conv2d"] is conv2d


def test_metadata_round_trip_and_bad_names():
    cell = {"metadata": {"dlcourse": {"forbid": CONV.to_metadata()}}}
    assert forbidden_of(cell) == CONV
    assert forbidden_of({"metadata": {}}) is None
    with pytest.raises(ValueError, match="names nothing"):
        resolve("dlcourse.models.cnn.no_such_function")
    with pytest.raises(ValueError, match="list of dotted names"):
        Forbidden.from_metadata({"functions": "numpy.fft.fft"})


# --------------------------------------------------------------------------- in notebooks
def _tiny_course(root):
    """A one-chapter course whose exercise forbids numpy's own mean."""
    import shutil

    from dlcourse.grading import authoring

    from ..nbtools import ROOT

    nb = authoring.build_notebook([
        authoring.code("import numpy as np"),
        authoring.answer("ex_average", '''
            def average(x):
                ### BEGIN SOLUTION
                return sum(x) / len(x)
                ### END SOLUTION''', forbid={"task": "average without numpy",
                                            "functions": ["numpy.mean", "numpy.average"]}),
        authoring.tests("test_average", '''
            assert average([1.0, 2.0, 6.0]) == np.mean([1.0, 2.0, 6.0]) == 3.0
            ### BEGIN HIDDEN TESTS
            assert average([2.0]) == 2.0
            ### END HIDDEN TESTS''', points=1),
    ])
    folder = root / "solutions" / "01_tiny"
    folder.mkdir(parents=True)
    authoring.write_notebook(nb, folder / "01_tiny.ipynb")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    return nb


BYPASS = "def average(x):\n    return np.mean(x)\n"
DEFAULT_ARG = "def average(x, f=np.average):\n    return float(f(x))\n"


@pytest.mark.notebooks
def test_dlcourse_check_switches_off_the_forbidden_function(tmp_path):
    import nbformat

    from dlcourse.grading.selfcheck import run_check

    nb = _tiny_course(tmp_path)
    for source, passes in ((None, True), (BYPASS, False), (DEFAULT_ARG, False)):
        student = nbformat.from_dict(nb)
        if source:
            student.cells[1].source = source
        path = tmp_path / "student.ipynb"
        nbformat.write(student, str(path))
        [result] = run_check(path).tests
        assert result.passed is passes, (source, result.message)
        if not passes:
            assert "average without numpy" in result.message
            assert "switched off" in result.message


@pytest.mark.nbgrader
@pytest.mark.parametrize("mode", ["single_kernel", "two_process"])
def test_the_graders_switch_it_off_too(tmp_path, mode):
    import nbformat

    from dlcourse.grading.autograde import grade_class

    from ..nbtools import sandbox_or_skip

    nb = _tiny_course(tmp_path)
    subs = tmp_path / "submitted"
    for student, source in (("honest", None), ("bypass", BYPASS), ("default", DEFAULT_ARG)):
        sub = nbformat.from_dict(nb)
        if source:
            sub.cells[1].source = source
        (subs / student).mkdir(parents=True)
        nbformat.write(sub, str(subs / student / "01_tiny.ipynb"))
    report = grade_class("01_tiny", subs, tmp_path / "out", root=tmp_path, timeout=30, jobs=2,
                         sandbox=mode == "two_process" and sandbox_or_skip(),
                         single_kernel=mode == "single_kernel")
    totals = {r.student: r.total for r in report.results}
    assert totals == {"honest": 1.0, "bypass": 0.0, "default": 0.0}, report.results


def test_signs_of_tampering_are_listed_for_the_instructor():
    from dlcourse.grading import authoring
    from dlcourse.grading.tripwire import tampering_signs

    honest = authoring.build_notebook([authoring.code("def f(x):\n    return x + 1")])
    attack = authoring.build_notebook([authoring.code(
        "import sys\nsys.setprofile(None)\nimport dlcourse.grading.student_side as s")])
    assert tampering_signs(honest) == []
    assert tampering_signs(attack) == ["sets a profile hook", "imports the grader",
                                       "touches the grader's relay"]


def test_scipy_fft_multimethods_are_caught():
    import scipy.fft

    spec = Forbidden(task="write the DCT yourself", functions=("scipy.fft.dct",))
    with pytest.raises(SwitchedOffError, match="scipy.fft.dct"):
        _call(spec, lambda x: scipy.fft.dct(x, norm="ortho"), np.ones(8))
    fft_spec = Forbidden(task="write the DFT yourself", functions=("scipy.fft.fft",))
    with pytest.raises(SwitchedOffError, match="scipy.fft.fft"):
        _call(fft_spec, lambda x: scipy.fft.fft(x), np.ones(8))


def test_a_decorated_function_is_switched_off_alone():
    """sklearn wraps many functions in one decorator: forbidding one leaves the others."""
    from sklearn.model_selection import cross_val_predict, train_test_split

    spec = Forbidden(task="t", functions=("sklearn.model_selection.cross_val_predict",))
    assert len(_call(spec, lambda: train_test_split([1, 2, 3, 4], test_size=0.5,
                                                     random_state=0))) == 2
    from sklearn.linear_model import LogisticRegression

    X, y = np.arange(20.0).reshape(10, 2), np.array([0, 1] * 5)
    with pytest.raises(SwitchedOffError, match="cross_val_predict"):
        _call(spec, lambda: cross_val_predict(LogisticRegression(), X, y, cv=2))


def test_a_numpy_c_function_is_caught_with_the_right_message():
    spec = Forbidden(task="count yourself", functions=("numpy.bincount",))
    with pytest.raises(SwitchedOffError) as info:
        _call(spec, lambda x: np.bincount(x), np.array([1, 1, 2]))
    assert "numpy.bincount" in str(info.value) and "setprofile" not in str(info.value)
    assert list(np.bincount(np.array([1, 1, 2]))) == [0, 2, 1]
