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
from queue import Empty

from nbclient import NotebookClient
from nbgrader.preprocessors import Execute

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


class RobustNotebookClient(SlicedPolling, NotebookClient):
    """nbclient's NotebookClient with sliced polling (used by ``dlcourse check``)."""


class RobustExecute(SlicedPolling, Execute):
    """nbgrader's Execute preprocessor with sliced polling (set in nbgrader_config.py).

    Configured as ``Execute`` is: ``c.Execute.timeout`` applies to it.
    """
