"""Pick responders for one tier: available units with a known ETA, fastest first.

Vectorised with numpy: a dispatch decision over thousands of units is one pass of array maths
(bench/dispatch.py: 10,000 responders), where a per-unit Python loop took tens of milliseconds.
The rule is the same as `eta.estimate`: fresh live position, else the post, else unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from api.dispatch.eta import EARTH_RADIUS_M, Eta

# The row layout `rank` reads, by position (the engine's candidate query selects these columns).
RANK_COLUMNS = ("id", "tier", "status", "speed_mps", "lat", "lon", "position_at", "post_lat", "post_lon", "type")


@dataclass(frozen=True)
class Candidate:
    responder_id: str
    tier: int
    eta: Eta


@dataclass(frozen=True)
class Units:
    """Responders as column arrays (one entry per unit): what `rank` computes on. The in-memory
    responder index keeps these between decisions; `from_rows` builds them from query rows."""

    ids: np.ndarray  # object (str)
    tier: np.ndarray  # int
    status: np.ndarray  # object (str)
    speed: np.ndarray  # float, m/s
    lat: np.ndarray  # float, nan: no live position
    lon: np.ndarray
    at: np.ndarray  # position time, nan: none
    plat: np.ndarray  # post, nan: none
    plon: np.ndarray
    types: np.ndarray  # object (str): responder type, for the road graph's travel mode

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_rows(cls, rows: Iterable[Any]) -> "Units":
        # One pass turns the rows into a 2-D object array (positional RANK_COLUMNS order; plain
        # tuples or SQLAlchemy rows), then numeric columns convert at once (None → nan). Attribute
        # access per row and column cost ~10 ms per 3,000 units; this is ~1 ms.
        rows = [tuple(r) for r in rows]
        table = np.empty((len(rows), len(RANK_COLUMNS)), dtype=object)
        if rows:
            table[:] = rows
        num = table[:, 3:9].astype(float)
        return cls(table[:, 0], table[:, 1].astype(int) if rows else np.zeros(0, int), table[:, 2], *num.T,
                   table[:, 9])

    def take(self, idx: np.ndarray) -> "Units":
        return Units(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))


def rank(
    responders: Iterable[Any] | Units,
    *,
    tier: int,
    target: tuple[float, float] | None,
    now: float,
    detour_factor: float,
    stale_s: float,
    exclude: set[str] = frozenset(),  # type: ignore[assignment]
    limit: int | None = None,
    roads: Any = None,
) -> list[Candidate]:
    """Eligible units of `tier`, best first (the best `limit` when given). Units with unknown ETA
    are left out: we cannot promise the 1-3-5 deadline for a unit we cannot place. Ties break on
    id for determinism. `responders` are `Units` or rows in RANK_COLUMNS order. With `roads` (an
    `api.dispatch.roads.RoadGraph`) the ETA follows the graph; units it cannot place keep the
    straight line (flagged `straight_fallback`)."""
    if target is None:
        return []
    u = responders if isinstance(responders, Units) else Units.from_rows(responders)
    if not len(u):
        return []
    ids, speed, lat, lon, at = u.ids, u.speed, u.lat, u.lon, u.at
    keep = (u.tier == tier) & (u.status == "available") & (speed > 0)
    if exclude:
        # Set lookups, not np.isin: isin on object arrays sorts them (tens of ms for thousands).
        keep &= np.fromiter((i not in exclude for i in ids), bool, len(ids))
    live = ~np.isnan(lat) & ~np.isnan(lon) & ~np.isnan(at) & (now - np.nan_to_num(at, nan=-np.inf) <= stale_s)
    olat, olon = np.where(live, lat, u.plat), np.where(live, lon, u.plon)
    known = keep & ~np.isnan(olat) & ~np.isnan(olon)
    p1, p2 = np.radians(olat), np.radians(target[0])
    dp, dl = p2 - p1, np.radians(target[1] - olon)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    dist = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(np.nan_to_num(a)))) * detour_factor
    secs = dist / np.where(speed > 0, speed, np.nan)
    method = None
    if roads is not None:
        kidx = np.flatnonzero(known)
        r = roads.etas(target, olat[kidx], olon[kidx], speed[kidx], u.types[kidx])
        on_road = ~np.isnan(r.seconds)
        secs, dist = secs.copy(), dist.copy()
        secs[kidx[on_road]], dist[kidx[on_road]] = r.seconds[on_road], r.distance_m[on_road]
        method = np.full(len(ids), "straight_fallback", dtype=object)
        method[kidx[on_road]] = "road"
    idx = np.flatnonzero(known)
    if limit is not None and len(idx) > limit:
        # Partial sort: only the best few need ordering; keep ties at the cut for the id tie-break.
        cut = np.partition(secs[idx], limit - 1)[limit - 1]
        idx = idx[secs[idx] <= cut]
    order = sorted(idx.tolist(), key=lambda i: (secs[i], ids[i]))
    if limit is not None:
        order = order[:limit]
    return [Candidate(str(ids[i]), tier, Eta(float(secs[i]), float(dist[i]), "live" if live[i] else "post",
                                             method[i] if method is not None else "straight"))
            for i in order]


def select(responders: Iterable[Any] | Units, n: int, **kw) -> list[Candidate]:  # noqa: ANN003
    """The best `n` of `rank(...)`."""
    return rank(responders, limit=n, **kw)
