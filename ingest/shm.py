"""A ring of fixed-size frame slots in shared memory, for one producer and one consumer process.

Images never go through pickle: the producer copies the pixels into a free slot and sends only
a small header (slot, shape, timestamps) on a queue; the consumer views the slot and releases it.
Slot ownership is one flag byte per slot at the start of the block (0 = free, 1 = filled): the
producer only turns 0 into 1 and the consumer only 1 into 0, so no lock is needed; the queue
hand-off (a pipe write and read) orders the pixel writes before the consumer's reads.

When no slot is free the put fails at once (None) and the caller counts a drop: a slow
consumer never blocks a decoder (DESIGN.md: backpressure is explicit).
"""

from __future__ import annotations

import queue as queue_mod
import secrets
from multiprocessing import shared_memory
from typing import Any

import numpy as np

_FREE, _FILLED = 0, 1
_ALIGN = 64  # keep slot data cache-line aligned


def _round_up(n: int, to: int = _ALIGN) -> int:
    return (n + to - 1) // to * to


class FrameRing:
    """`slots` frames of `shape` (uint8) in one shared-memory block named `name`.

    The creator owns the block (`create=True`; a name is chosen when `name` is None); the
    other side attaches with the same name, slots and shape (`spec()` gives them). With `queue`
    (a multiprocessing queue shared with the consumer), `try_put` also sends `(slot, header)`.
    """

    def __init__(self, name: str | None, slots: int, shape: tuple[int, ...], create: bool,
                 queue: Any | None = None):
        if slots < 1:
            raise ValueError("a ring needs at least one slot")
        self.slots = slots
        self.shape = tuple(int(s) for s in shape)
        self.frame_bytes = int(np.prod(self.shape))
        self._data_off = _round_up(slots)
        self._stride = _round_up(self.frame_bytes)
        size = self._data_off + self._stride * slots
        if create and name is None:
            name = f"lookout-{secrets.token_hex(6)}"
        self._shm = shared_memory.SharedMemory(name=name, create=create, size=size if create else 0)
        self.name = self._shm.name
        self.created = create
        self.queue = queue
        self._flags = np.ndarray((slots,), dtype=np.uint8, buffer=self._shm.buf)
        if create:
            self._flags[:] = _FREE
        self._next = 0
        self.dropped = 0
        # Consumer-side bookkeeping: frames announced to the consumer's users and not yet
        # released; a retired ring is unmapped only when this is back to zero.
        self.outstanding = 0

    def spec(self) -> dict[str, Any]:
        """What the other process needs to attach: FrameRing(**spec, create=False)."""
        return {"name": self.name, "slots": self.slots, "shape": self.shape}

    def _view(self, slot: int) -> np.ndarray:
        off = self._data_off + slot * self._stride
        return np.ndarray(self.shape, dtype=np.uint8, buffer=self._shm.buf, offset=off)

    def try_put(self, image: np.ndarray, header: dict[str, Any] | None = None) -> int | None:
        """Copy `image` into a free slot and return the slot, or None (and count a drop) when
        the ring, or the attached queue, is full. Never blocks."""
        if image.shape != self.shape or image.dtype != np.uint8:
            raise ValueError(f"image {image.shape} {image.dtype} does not fit ring {self.shape} uint8")
        for i in range(self.slots):
            slot = (self._next + i) % self.slots
            if self._flags[slot] == _FREE:
                break
        else:
            self.dropped += 1
            return None
        np.copyto(self._view(slot), image)
        self._flags[slot] = _FILLED
        self._next = (slot + 1) % self.slots
        if self.queue is not None:
            try:
                self.queue.put_nowait((slot, header or {}))
            except queue_mod.Full:
                self._flags[slot] = _FREE
                self.dropped += 1
                return None
        return slot

    def get(self, slot: int) -> np.ndarray:
        """A view on the slot's pixels: valid until `release(slot)`."""
        return self._view(slot)

    def release(self, slot: int) -> None:
        """Give the slot back to the producer."""
        self._flags[slot] = _FREE

    def in_use(self) -> int:
        return int(np.count_nonzero(self._flags))

    def close(self) -> bool:
        """Unmap; False while a view handed out by get() is still alive (try again later)."""
        try:
            self._flags = None  # type: ignore[assignment]
            self._shm.close()
            return True
        except BufferError:
            self._flags = np.ndarray((self.slots,), dtype=np.uint8, buffer=self._shm.buf)
            return False

    def unlink(self) -> None:
        """Remove the block's name (mappings stay valid until closed); missing is fine."""
        try:
            self._shm.unlink()
        except FileNotFoundError:
            pass

    @staticmethod
    def unlink_name(name: str) -> None:
        """Remove a block by name, e.g. the ring of a decoder that was killed."""
        try:
            shm = shared_memory.SharedMemory(name=name, create=False)
        except FileNotFoundError:
            return
        shm.close()
        try:
            shm.unlink()
        except FileNotFoundError:
            pass
