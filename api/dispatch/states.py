"""The order state machine (DESIGN.md, Dispatch). Illegal moves raise IllegalTransition (HTTP 409)."""

from __future__ import annotations

from enum import StrEnum


class OrderState(StrEnum):
    pending = "pending"          # created, not yet delivered to the unit
    notified = "notified"        # delivered on the unit's stream
    acknowledged = "acknowledged"
    en_route = "en_route"
    on_scene = "on_scene"
    resolved = "resolved"
    declined = "declined"
    expired = "expired"          # no acknowledge before the deadline; the next candidate is ordered
    escalated = "escalated"      # acknowledged but not on scene in time; still live, command room told
    cancelled = "cancelled"


S = OrderState
_ALLOWED: dict[OrderState, frozenset[OrderState]] = {
    S.pending: frozenset({S.notified, S.acknowledged, S.declined, S.expired, S.cancelled}),
    S.notified: frozenset({S.acknowledged, S.declined, S.expired, S.cancelled}),
    S.acknowledged: frozenset({S.en_route, S.on_scene, S.resolved, S.escalated, S.cancelled}),
    S.en_route: frozenset({S.on_scene, S.resolved, S.escalated, S.cancelled}),
    # An escalated unit keeps going: its late arrival still counts and must be recorded.
    S.escalated: frozenset({S.en_route, S.on_scene, S.resolved, S.cancelled}),
    S.on_scene: frozenset({S.resolved, S.cancelled}),
    S.resolved: frozenset(),
    S.declined: frozenset(),
    S.expired: frozenset(),
    S.cancelled: frozenset(),
}

TERMINAL = frozenset(s for s, nxt in _ALLOWED.items() if not nxt)
OPEN = frozenset(OrderState) - TERMINAL
AWAITING_ACK = frozenset({S.pending, S.notified})
AWAITING_ARRIVAL = frozenset({S.acknowledged, S.en_route})

# The actions a unit or operator may post, and the state each leads to.
ACTIONS: dict[str, OrderState] = {
    "acknowledge": S.acknowledged,
    "en_route": S.en_route,
    "on_scene": S.on_scene,
    "resolve": S.resolved,
    "decline": S.declined,
}


class IllegalTransition(ValueError):
    def __init__(self, order_id: int, old: str, new: str):
        self.order_id, self.old, self.new = order_id, old, new
        allowed = ", ".join(sorted(_ALLOWED[OrderState(old)])) or "none (final state)"
        super().__init__(f"order {order_id}: cannot go from {old} to {new}; allowed from {old}: {allowed}")


def check(order_id: int, old: str, new: str) -> None:
    if OrderState(new) not in _ALLOWED[OrderState(old)]:
        raise IllegalTransition(order_id, old, new)
