"""Pick responders for one tier: available units with a known ETA, fastest first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from api.dispatch.eta import Eta, estimate
from api.store.models import ResponderRow


@dataclass(frozen=True)
class Candidate:
    responder_id: str
    tier: int
    eta: Eta


def rank(
    responders: Iterable[ResponderRow],
    *,
    tier: int,
    target: tuple[float, float] | None,
    now: float,
    detour_factor: float,
    stale_s: float,
    exclude: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[Candidate]:
    """All eligible units of `tier`, best first. Units with unknown ETA are left out: we cannot
    promise the 1-3-5 deadline for a unit we cannot place. Ties break on id for determinism."""
    out: list[Candidate] = []
    for r in responders:
        if r.tier != tier or r.status != "available" or r.id in exclude:
            continue
        live = (r.lat, r.lon) if r.lat is not None and r.lon is not None else None
        post = (r.post_lat, r.post_lon) if r.post_lat is not None and r.post_lon is not None else None
        eta = estimate(
            target=target, live=live, live_at=r.position_at, post=post, speed_mps=r.speed_mps,
            now=now, detour_factor=detour_factor, stale_s=stale_s,
        )
        if eta.seconds is not None:
            out.append(Candidate(r.id, tier, eta))
    out.sort(key=lambda c: (c.eta.seconds, c.responder_id))
    return out


def select(responders: Iterable[ResponderRow], n: int, **kw) -> list[Candidate]:  # noqa: ANN003
    """The best `n` of `rank(...)`."""
    return rank(responders, **kw)[:n]
