"""Dispatch: turn alerts into incidents and orders (the 1-3-5 response model in DESIGN.md)."""

from api.dispatch.engine import DispatchEngine
from api.dispatch.states import IllegalTransition, OrderState

__all__ = ["DispatchEngine", "IllegalTransition", "OrderState"]
