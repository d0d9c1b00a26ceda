"""In-memory responder index: every unit's rank columns as numpy arrays, kept in this process.

Why: with 10,000 units the per-decision SQLite query that loaded a tier's ~3,333 rows cost p99
~22 ms, five times the ranking itself (docs/benchmarks.md "Dispatch"). The index serves a tier's
units as ready arrays instead.

Staying correct:
- This instance's writes patch the index as they commit: a session listener collects changed
  ResponderRow values at flush and applies them after commit (nothing on rollback), so a status
  change drops a unit out of the candidates on the very next decision.
- Other instances' writes (several APIs on one PostgreSQL, or a bulk UPDATE that bypasses the ORM)
  are caught by a version check at most every `refresh_s`: count of units, newest position time,
  newest status time and the sum of tiers; a changed version reloads everything (this instance's
  own patches move the expected version along, so they cause no reload). Until then this
  instance may see another's change up to `refresh_s` late; busy-ness from open orders is still
  read from the store per decision by the engine, so a unit is never double-booked through it.
- New or deleted units, or a tier change, reload at the next use rather than patch.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from api.dispatch.selection import RANK_COLUMNS, Units
from api.store.models import ResponderRow

_COLUMNS = (*RANK_COLUMNS, "node", "status_at")
_PATCHES = "lookout.responder_index"  # key in Session.info: {index id: {unit id: values | None}}


class ResponderIndex:
    def __init__(self, sessions: sessionmaker[Session], refresh_s: float = 2.0,
                 monotonic: Callable[[], float] = time.monotonic):
        self.sessions = sessions
        self.refresh_s = refresh_s
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._all: Units | None = None
        self._nodes = np.empty(0, dtype=object)
        self._pos: dict[str, int] = {}
        self._by_tier: dict[int, np.ndarray] = {}
        self._version: tuple | None = None
        self._checked_at = -math.inf
        self._stale = True
        self.reloads = 0  # for tests and the benchmark: how often the whole table was read
        event.listen(sessions, "after_flush", self._after_flush)
        event.listen(sessions, "after_commit", self._after_commit)
        event.listen(sessions, "after_soft_rollback", self._after_rollback)

    # ---- reads ------------------------------------------------------------------------------

    def units(self, tier: int, nodes: set[str] | frozenset[str] | None = None) -> Units:
        """The tier's units (every status: `rank` filters on availability) as column arrays; a
        copy, so a patch landing meanwhile cannot change a decision halfway."""
        self._refresh_if_due()
        with self._lock:
            assert self._all is not None
            idx = self._by_tier.get(tier, np.zeros(0, dtype=np.int64))
            if nodes is not None:
                idx = idx[np.fromiter((n in nodes for n in self._nodes[idx]), bool, len(idx))]
            return self._all.take(idx)

    def invalidate(self) -> None:
        with self._lock:
            self._stale = True

    # ---- refresh ----------------------------------------------------------------------------

    def _version_now(self, s: Session) -> tuple:
        r = ResponderRow
        return tuple(s.execute(select(func.count(), func.max(r.position_at), func.max(r.status_at),
                                      func.sum(r.tier))).one())

    def _refresh_if_due(self) -> None:
        now = self.monotonic()
        with self._lock:
            stale, due = self._stale or self._all is None, now - self._checked_at >= self.refresh_s
        if not stale and not due:
            return
        with self.sessions() as s:
            version = self._version_now(s)
            if not stale and version == self._version:
                with self._lock:
                    self._checked_at = now
                return
            rows = s.execute(select(*(getattr(ResponderRow, c) for c in _COLUMNS))).all()
        units = Units.from_rows(r[:-2] for r in rows)
        nodes = np.array([r[-2] for r in rows], dtype=object)
        with self._lock:
            self._all, self._nodes = units, nodes
            self._pos = {str(i): k for k, i in enumerate(units.ids)}
            self._by_tier = {int(t): np.flatnonzero(units.tier == t) for t in np.unique(units.tier)}
            self._version, self._checked_at, self._stale = version, now, False
            self.reloads += 1

    # ---- this instance's writes -------------------------------------------------------------

    def _after_flush(self, session: Session, _ctx: Any) -> None:
        patches = session.info.setdefault(_PATCHES, {}).setdefault(id(self), {})
        for obj in (*session.new, *session.deleted):
            if isinstance(obj, ResponderRow):
                patches[obj.id] = None  # a unit added or removed: reload
        for obj in session.dirty:
            if isinstance(obj, ResponderRow) and not (obj.id in patches and patches[obj.id] is None):
                patches[obj.id] = tuple(getattr(obj, c) for c in _COLUMNS)

    def _after_commit(self, session: Session) -> None:
        patches = session.info.get(_PATCHES, {}).pop(id(self), None)
        if patches:
            self._apply(patches)

    def _after_rollback(self, session: Session, _previous: Any) -> None:
        session.info.get(_PATCHES, {}).pop(id(self), None)

    def _apply(self, patches: dict[str, tuple | None]) -> None:
        with self._lock:
            u = self._all
            if u is None or self._stale:
                return  # the next read reloads anyway
            for uid, values in patches.items():
                k = self._pos.get(uid)
                if values is None or k is None or int(values[1]) != int(u.tier[k]):
                    self._stale = True  # new, deleted or moved between tiers: rebuild the layout
                    return
                _, _, status, speed, lat, lon, at, plat, plon, typ, node, status_at = values
                u.status[k], u.speed[k], u.types[k], self._nodes[k] = status, speed, typ, node
                for arr, v in ((u.lat, lat), (u.lon, lon), (u.at, at), (u.plat, plat), (u.plon, plon)):
                    arr[k] = np.nan if v is None else v
                # The store's version after our own write, so the next check does not reload for it:
                # only a newer time than ours (another instance's write) reads as a change.
                if self._version is not None:
                    n, pos_max, status_max, tiers = self._version
                    self._version = (n, _newest(pos_max, at), _newest(status_max, status_at), tiers)


def _newest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)
