"""The project's own ONVIF camera simulator for tests (no such simulator exists in the registries)."""

from tests.support.onvif_sim.responses import SimEvent, SimProfile
from tests.support.onvif_sim.server import OnvifSimulator

__all__ = ["OnvifSimulator", "SimEvent", "SimProfile"]
