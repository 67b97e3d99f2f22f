"""Sliced polling recovers a message whose wake-up was missed (nbclient issue 312)."""

import asyncio
import time
from queue import Empty

from dlcourse.grading.kernel import poll_in_slices


class MissedWakeupChannel:
    """A channel that, like the bug, only sees messages already there when a poll starts."""

    def __init__(self, arrives_after: float):
        self.arrival = time.monotonic() + arrives_after

    async def get_msg(self, timeout=None):
        if time.monotonic() >= self.arrival:
            return {"msg": "reply"}
        await asyncio.sleep(min(timeout, 0.3) if timeout is not None else 0.3)
        raise Empty  # the arrival during the wait is never noticed


def test_unsliced_poll_misses_the_reply():
    channel = MissedWakeupChannel(arrives_after=0.05)
    try:
        asyncio.run(channel.get_msg(timeout=0.2))
    except Empty:
        pass
    else:
        raise AssertionError("the model channel should miss the reply")


def test_sliced_poll_gets_the_reply_before_the_timeout():
    channel = MissedWakeupChannel(arrives_after=0.05)
    poll_in_slices(channel, slice_seconds=0.1)
    assert asyncio.run(channel.get_msg(timeout=5)) == {"msg": "reply"}


def test_sliced_poll_still_times_out():
    channel = MissedWakeupChannel(arrives_after=60)
    poll_in_slices(channel, slice_seconds=0.05)
    try:
        asyncio.run(channel.get_msg(timeout=0.2))
    except Empty:
        return
    raise AssertionError("no message: the sliced poll must raise Empty at the deadline")


def test_both_execution_paths_poll_in_slices():
    """nbgrader (nbconvert's ExecutePreprocessor) and NotebookClient.execute both use it."""
    from nbformat.v4 import new_code_cell, new_notebook

    from dlcourse.grading.kernel import RobustExecute, RobustNotebookClient

    nb = new_notebook(cells=[new_code_cell("1 + 1")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    seen = {}

    def sliced(kc):
        return all(getattr(ch.get_msg, "sliced", False)
                   for ch in (kc.shell_channel, kc.iopub_channel))

    class ProbeExecute(RobustExecute):
        def preprocess_cell(self, cell, resources, index):
            seen["nbgrader"] = sliced(self.kc)
            return super().preprocess_cell(cell, resources, index)

    class ProbeClient(RobustNotebookClient):
        async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
            seen["nbclient"] = sliced(self.kc)
            return await super().async_execute_cell(cell, cell_index, *args, **kwargs)

    ProbeExecute(timeout=60).preprocess(nb, {"metadata": {"path": "."}})
    ProbeClient(nb, timeout=60, kernel_name="python3").execute()
    assert seen == {"nbgrader": True, "nbclient": True}


def test_server_extension_makes_validate_use_sliced_polling():
    from nbgrader import validator

    from dlcourse.grading.jupyter_extension import _load_jupyter_server_extension

    class FakeServer:
        class log:
            @staticmethod
            def info(message):
                pass

    trait = validator.Validator.class_traits()["preprocessors"]
    before = trait.default_value
    try:
        _load_jupyter_server_extension(FakeServer)
        names = [p.__name__ for p in validator.Validator().preprocessors]
        assert names == ["CheckCellMetadata", "ClearOutput", "RobustExecute"]
    finally:
        trait.default_value = before
