"""What the student's process may send the grader: plain data, rebuilt fresh, nothing else."""

from __future__ import annotations

import io
import json
import pickle

import numpy as np
import pytest

from dlcourse.grading import wire
from dlcourse.grading.trusted_side import _rebuild_exception


def round_trip(value, sent=()):
    refs = {id(obj): i for i, obj in enumerate(sent)}
    encoder = wire.Encoder(refs)
    skeleton, arrays = encoder.pack({"result": encoder.encode(value)})
    decoder = wire.Decoder(skeleton, arrays, list(sent))
    return decoder.decode(decoder.skeleton["result"])


def test_plain_values_come_back_equal_and_of_the_same_types():
    value = {"a": [1, 2.5, None, True, "x"], 3: (np.float32(1.5), np.int64(7)),
             (1, "k"): np.arange(6, dtype=np.float32).reshape(2, 3), "c": 1 + 2j,
             "nan": float("nan"), "inf": -float("inf"), "s": np.array(["ab", "c"])}
    back = round_trip(value)
    assert back.keys() == value.keys()
    assert back["a"] == value["a"] and type(back[3]) is tuple
    assert type(back[3][0]) is np.float32 and back[3][0] == 1.5
    assert type(back[3][1]) is np.int64
    arr = back[(1, "k")]
    assert type(arr) is np.ndarray and arr.dtype == np.float32 and arr.shape == (2, 3)
    assert back["c"] == 1 + 2j and np.isnan(back["nan"]) and back["inf"] == -np.inf
    assert list(back["s"]) == ["ab", "c"]


def test_a_lying_ndarray_subclass_comes_back_as_its_plain_values():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    back = round_trip(np.zeros(3).view(Liar))
    assert type(back) is np.ndarray and not np.array_equal(back, [1, 2, 3])


def test_objects_that_are_not_plain_data_are_refused_on_the_student_side():
    class Thing:
        pass

    with pytest.raises(wire.WireError, match="type Thing"):
        round_trip(Thing())
    with pytest.raises(wire.WireError, match="dtype object"):
        round_trip(np.array([Thing()], dtype=object))


def _decoder(skeleton, arrays=None):
    buffer = io.BytesIO()
    np.savez(buffer, **(arrays or {}))
    return wire.Decoder(json.dumps(skeleton).encode(), buffer.getvalue(), [])


@pytest.mark.parametrize("node", [
    {"$eval": "1+1"}, {"$ref": 0}, {"$a": "missing"}, {"$d": [[{"$a": "a0"}, 1]]},
    {"$f": "1e400"}, {"$c": ["1", 2]}, {}, {"$t": 5}])
def test_malformed_replies_are_refused(node):
    decoder = _decoder({"result": node}, {"a0": np.zeros(2)})
    with pytest.raises(wire.WireError):
        decoder.decode(decoder.skeleton["result"])


def test_pickled_payloads_are_never_unpickled():
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    buffer = io.BytesIO()
    np.save(buffer, np.array([Boom()], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError):
        wire.Decoder(b'{"result": null}', buffer.getvalue(), [])
    with pytest.raises(wire.WireError):
        wire.Decoder(b'{"result": null}', pickle.dumps(Boom()), [])
    with pytest.raises(wire.WireError, match="JSON"):
        wire.Decoder(b"not json", b"", [])


def test_identity_of_sent_objects_is_kept_through_references():
    a = np.ones(2)
    back = round_trip((a, [a]), sent=[a])
    assert back[0] is a and back[1][0] is a


def test_arrays_changed_in_place_are_copied_back_into_the_graders_array():
    original = np.zeros(3)
    student_copy = original.copy()
    student_copy[1] = 5.0
    encoder = wire.Encoder({})
    state = encoder.state(student_copy, "array")
    skeleton, arrays = encoder.pack({"s": state})
    decoder = wire.Decoder(skeleton, arrays, [])
    wire.apply_state(original, "array", decoder.skeleton["s"], decoder)
    assert list(original) == [0.0, 5.0, 0.0]


def test_course_autograd_graphs_are_rebuilt_with_working_backward():
    from dlcourse.core.autograd import Tensor

    u, v = Tensor(np.array(3.0)), Tensor(np.array(-2.0))
    out = (u * v + u).tanh()
    tracked = wire.track((out,), {})
    assert tracked[-1] is out and len(tracked) == 5
    table = wire.tensor_table(tracked)
    rebuilt = wire.rebuild_tensors(pickle.loads(pickle.dumps(table)), Tensor)
    rebuilt[len(tracked) - 1].backward()
    out.backward()
    for i, t in enumerate(tracked):
        assert np.allclose(rebuilt[i].grad, t.grad), i


def copy_states_back(pairs) -> None:
    """What the grader does after a call: (grader's object, student's copy, kind) triples."""
    encoder = wire.Encoder({})
    skeleton, arrays = encoder.pack([encoder.state(remote, kind) for _, remote, kind in pairs])
    decoder = wire.Decoder(skeleton, arrays, [])
    for (local, _, kind), state in zip(pairs, decoder.skeleton, strict=True):
        wire.apply_state(local, kind, state, decoder)


def test_torch_modules_and_optimizers_get_their_new_state_back():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=0.1)
    remote_net, remote_opt = pickle.loads(pickle.dumps((net, opt)))
    remote_net(torch.ones(4, 3)).sum().backward()
    remote_opt.step()
    copy_states_back([(net, remote_net, "module"), (opt, remote_opt, "optimizer")])
    assert torch.equal(net.weight, remote_net.weight) and net.weight.grad is not None
    assert opt.state_dict()["state"][0]["step"] == remote_opt.state_dict()["state"][0]["step"]


def test_student_exceptions_come_back_as_the_same_builtin_type():
    assert type(_rebuild_exception("ValueError", "bad shape", "")) is ValueError
    assert type(_rebuild_exception("NotImplementedError", "", "")) is NotImplementedError
    odd = _rebuild_exception("MyOwnError", "boom", "  f, line 1: raise")
    assert isinstance(odd, RuntimeError) and "MyOwnError: boom" in str(odd)
    assert not isinstance(_rebuild_exception("SystemExit", "x", ""), SystemExit)


def test_fitted_estimators_passed_in_come_back_with_their_fitted_attributes():
    from sklearn.naive_bayes import GaussianNB
    from sklearn.tree import DecisionTreeClassifier

    X, y = np.arange(20.0).reshape(10, 2), np.array([0, 1] * 5)
    mine, theirs = DecisionTreeClassifier(), GaussianNB().fit(X, y)
    remote_mine, remote_theirs = pickle.loads(pickle.dumps((mine, theirs)))
    remote_mine.fit(X, y)           # the student's code fitted the model it was given
    copy_states_back([(mine, remote_mine, "estimator"), (theirs, remote_theirs, "estimator")])
    assert list(mine.classes_) == [0, 1] and isinstance(mine.tree_, wire.Opaque)
    assert np.array_equal(theirs.theta_, remote_theirs.theta_)
    fitted_tree = DecisionTreeClassifier().fit(X, y)
    copy_states_back([(fitted_tree, pickle.loads(pickle.dumps(fitted_tree)), "estimator")])
    assert fitted_tree.predict(X).shape == (10,), "a model the grader fitted keeps working"
