"""FrameRing: slots in shared memory shared by a producer and a consumer process."""

from __future__ import annotations

import multiprocessing as mp
import queue

import numpy as np
import pytest

from ingest.shm import FrameRing

SHAPE = (48, 64, 3)


def produce(spec: dict, q, n: int, result_q) -> None:
    """Child process: attach to the ring and put n frames filled with their index, never blocking."""
    ring = FrameRing(spec["name"], spec["slots"], spec["shape"], create=False, queue=q)
    sent = 0
    for i in range(n):
        if ring.try_put(np.full(SHAPE, i, np.uint8), {"i": i}) is not None:
            sent += 1
    result_q.put({"sent": sent, "dropped": ring.dropped})
    ring.close()


def test_put_get_release_and_drop_in_one_process():
    ring = FrameRing(None, 2, SHAPE, create=True)
    try:
        a = ring.try_put(np.full(SHAPE, 1, np.uint8))
        b = ring.try_put(np.full(SHAPE, 2, np.uint8))
        assert {a, b} == {0, 1}
        assert ring.try_put(np.full(SHAPE, 3, np.uint8)) is None and ring.dropped == 1
        assert ring.get(a).mean() == 1 and ring.get(b).mean() == 2
        ring.release(a)
        c = ring.try_put(np.full(SHAPE, 4, np.uint8))
        assert c == a and ring.get(c).mean() == 4
        with pytest.raises(ValueError):
            ring.try_put(np.zeros((10, 10, 3), np.uint8))
    finally:
        ring.unlink()
        ring.close()


def test_ring_across_processes_counts_drops_and_keeps_pixels():
    ctx = mp.get_context("spawn")
    q, result_q = ctx.Queue(), ctx.Queue()
    ring = FrameRing(None, 4, SHAPE, create=True)
    try:
        # The consumer takes nothing while the producer runs: 4 frames fit, the rest are dropped.
        proc = ctx.Process(target=produce, args=(ring.spec(), q, 20, result_q))
        proc.start()
        result = result_q.get(timeout=60)
        proc.join(30)
        assert proc.exitcode == 0
        assert result == {"sent": 4, "dropped": 16}
        got = [q.get(timeout=10) for _ in range(4)]
        for slot, header in got:
            assert ring.get(slot).min() == ring.get(slot).max() == header["i"]
            ring.release(slot)
        assert [h["i"] for _, h in got] == [0, 1, 2, 3]
        assert ring.in_use() == 0
        with pytest.raises(queue.Empty):
            q.get(timeout=0.2)
        # Released slots are reusable by a second producer run.
        proc = ctx.Process(target=produce, args=(ring.spec(), q, 3, result_q))
        proc.start()
        assert result_q.get(timeout=60) == {"sent": 3, "dropped": 0}
        proc.join(30)
    finally:
        ring.unlink()
        ring.close()


def test_unlink_name_is_idempotent():
    ring = FrameRing(None, 1, SHAPE, create=True)
    name = ring.name
    ring.close()
    FrameRing.unlink_name(name)
    FrameRing.unlink_name(name)
    with pytest.raises(FileNotFoundError):
        FrameRing(name, 1, SHAPE, create=False)
