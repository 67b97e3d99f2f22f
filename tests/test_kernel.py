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
