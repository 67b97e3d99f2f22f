"""Notebook execution that does not stall on a missed wake-up (nbclient issue 312).

nbclient waits for a kernel's messages with one long poll (up to the whole cell timeout).
Under load, with widget cells, that poll sometimes misses the message's arrival and sleeps
until the timeout even though the reply is already there (jupyter/nbclient#312; seen on this
project's 2-core machines: a fast cell "taking" exactly the timeout, or failing with
CellTimeoutError). Polling in short slices re-checks the socket every second, so a missed
wake-up costs at most a second. The timeout itself is unchanged.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from queue import Empty

from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbgrader.preprocessors import Execute
from traitlets import Unicode

from . import conventions, tripwire

SLICE_SECONDS = 1.0


def poll_in_slices(channel, slice_seconds: float = SLICE_SECONDS) -> None:
    """Make an async channel's ``get_msg(timeout)`` poll every ``slice_seconds``."""
    original = channel.get_msg
    if not inspect.iscoroutinefunction(original):
        return

    async def get_msg(timeout: float | None = None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            wait = slice_seconds if remaining is None else min(slice_seconds, remaining)
            try:
                return await original(timeout=wait)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    get_msg.sliced = True
    channel.get_msg = get_msg


def _slice_channels(kc):
    for channel in (kc.shell_channel, kc.iopub_channel):
        if not getattr(channel.get_msg, "sliced", False):
            poll_in_slices(channel)
    return kc


class SlicedPolling:
    """Mixin for NotebookClient subclasses: short polls on the shell and IOPub channels.

    Both entry points are covered: ``NotebookClient.execute`` starts the client through the
    async method, nbconvert's ``ExecutePreprocessor`` (and so nbgrader) through the sync one,
    which nbclient binds to the original async function.
    """

    async def async_start_new_kernel_client(self):
        return _slice_channels(await super().async_start_new_kernel_client())

    def start_new_kernel_client(self):
        return _slice_channels(super().start_new_kernel_client())


class GuardedTests:
    """Mixin for NotebookClient subclasses: the tripwire is armed around every test cell.

    Where the tests share the student's kernel, the kernel runs
    :func:`dlcourse.grading.tripwire.arm` (silently) before each autograded test cell and
    :func:`~dlcourse.grading.tripwire.disarm` after it, so that calls to the student's answer
    functions run with their exercise's forbidden functions switched off. ``guards`` maps
    each answer function's name to its exercise's forbid metadata
    (:func:`dlcourse.grading.tripwire.guards_of`).
    """

    guards: dict = {}

    async def async_execute_cell(self, cell, cell_index, execution_count=None,
                                 store_history=True):
        armed = bool(self.guards) and conventions.is_autograded_test(cell)
        if armed:
            await self._run_silently(tripwire.arm_code(self.guards))
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        finally:
            if armed:
                await self._run_silently(tripwire.disarm_code(self.guards))

    execute_cell = run_sync(async_execute_cell)

    async def _run_silently(self, code: str) -> None:
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False,
                                 stop_on_error=False)
        await self.async_wait_for_reply(msg_id)


class RobustNotebookClient(GuardedTests, SlicedPolling, NotebookClient):
    """nbclient's NotebookClient with sliced polling and armed tests (``dlcourse check``)."""


class RobustExecute(GuardedTests, SlicedPolling, Execute):
    """nbgrader's Execute preprocessor with sliced polling and armed tests (the one-kernel
    grader, ``dlcourse grade --single-kernel``).

    Configured as ``Execute`` is: ``c.Execute.timeout`` applies to it. The forbid lists come
    from the instructor's copy of the notebook, never from the submission.
    """

    instructor_notebook = Unicode("", help="The instructor's copy of this notebook (release or "
                                           "source); default: the source directory's").tag(
                                               config=True)

    def preprocess(self, nb, resources=None, km=None):
        resources = resources if resources is not None else {}
        source = (Path(self.instructor_notebook) if self.instructor_notebook
                  else instructor_notebook_path(self.config, resources))
        if source is not None and source.is_file():
            import nbformat

            self.guards = tripwire.guards_of(nbformat.read(str(source), as_version=4),
                                             names_from=nb)
        return super().preprocess(nb, resources, km)


def instructor_notebook_path(config, resources):
    """Where nbgrader keeps the instructor's (source) copy of the notebook being graded."""
    from nbgrader.coursedir import CourseDirectory

    info = resources.get("nbgrader", {})
    if not info.get("notebook"):
        return None
    coursedir = CourseDirectory(config=config)
    folder = Path(coursedir.format_path(coursedir.source_directory, ".",
                                        info.get("assignment", "")))
    return folder / f"{info['notebook']}.ipynb"
