"""The trusted side runs only the instructor cells that the tests need."""

from __future__ import annotations

from dlcourse.grading.pruning import cell_names, needed_cells


def _plan(*cells):
    steps = []
    for cell in cells:
        if cell.startswith("TEST "):
            steps.append(("test", cell.split()[1]))
        elif cell.startswith("BIND "):
            steps.append(("bind", {cell.split()[1]: None}))
        else:
            steps.append(("run", cell))
    return steps


def _kept(steps, tests):
    return [arg for kind, arg in needed_cells(steps, tests) if kind == "run"]


def test_a_demo_is_skipped_but_its_imports_run():
    steps = _plan("import numpy as np\nX = np.ones(3)",
                  "import matplotlib.pyplot as plt\nplt.plot(X)\nplt.show()",
                  "BIND f", "TEST t")
    assert _kept(steps, {"t": "assert f(X).shape == (3,)"}) == [
        "import numpy as np\nX = np.ones(3)", "import matplotlib.pyplot as plt"]


def test_what_a_test_reads_is_kept_with_what_it_depends_on():
    steps = _plan("import numpy as np", "a = np.arange(3)", "b = a * 2", "c = 5", "TEST t")
    assert _kept(steps, {"t": "assert b.sum() == 6"}) == [
        "import numpy as np", "a = np.arange(3)", "b = a * 2"]


def test_a_cell_that_changes_an_object_the_test_reads_is_kept():
    steps = _plan("model = Model()", "model.fit(X)", "history.append(1)", "TEST t")
    kept = _kept(steps, {"t": "assert model.score() > 0.9"})
    assert kept == ["model = Model()", "model.fit(X)"]
    steps = _plan("weights = [1]", "update(weights)", "TEST t")
    assert _kept(steps, {"t": "assert weights"}) == ["weights = [1]", "update(weights)"]


def test_names_a_test_binds_itself_need_no_earlier_cell():
    steps = _plan("rng = make_rng(1)\nk = 3", "TEST t")
    source = "rng = make_rng(0)\nfor k in (1, 2):\n    assert f(rng, k)\n"
    assert _kept(steps, {"t": source}) == []


def test_global_state_and_unparsable_cells_are_kept():
    steps = _plan("torch.manual_seed(0)", "torch.set_default_dtype(torch.float64)",
                  "this is ( not python", "TEST t")
    assert _kept(steps, {"t": "assert True"}) == [
        "torch.manual_seed(0)", "torch.set_default_dtype(torch.float64)",
        "this is ( not python"]


def test_a_test_that_cannot_be_parsed_keeps_everything():
    steps = _plan("a = 1", "TEST t")
    assert needed_cells(steps, {"t": "assert ("}) == steps


def test_cell_names_sees_through_magics_loops_and_functions():
    names = cell_names("%matplotlib inline\nfor i in range(3):\n    total += i\n"
                       "def g(x):\n    y = x + offset\n    return y\n")
    assert {"total", "offset"} <= names.uses
    assert not {"i", "x", "y"} & names.uses
    assert {"i", "g"} <= names.binds and names.kills == {"g"}
