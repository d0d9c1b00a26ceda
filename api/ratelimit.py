"""Token-bucket rate limits per key (a unit id, a client address), on the injectable clock.

In-process: each API instance limits on its own, which bounds abuse per instance; a shared limit
would need the store or a broker and is not worth a round trip per position update.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000):
        self.rate, self.burst, self.clock, self.max_keys = rate_per_s, burst, clock, max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, last refill time)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - last) * self.rate)
            ok = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if ok else tokens, now)
            if len(self._buckets) > self.max_keys:
                # Full buckets carry no state worth keeping; dropping them bounds memory under key floods.
                self._buckets = {k: v for k, v in self._buckets.items() if v[0] < self.burst - 1}
            return ok

    def retry_after(self) -> int:
        """Seconds until one token is back, for the Retry-After header."""
        return max(1, int(1.0 / self.rate + 0.999)) if self.rate > 0 else 60
