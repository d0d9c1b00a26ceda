"""PTZ presets against the simulator."""

from __future__ import annotations

import pytest

from ingest.onvif.client import OnvifCamera, OnvifError
from ingest.onvif.ptz import Preset, PtzPresets
from tests.onvif.conftest import PASSWORD


def test_list_goto_and_save_presets(camera, sim):
    ptz = PtzPresets(camera, "SubStream")
    assert ptz.presets() == [Preset("1", "Gate"), Preset("2", "Yard")]
    ptz.goto("Yard")
    ptz.goto("1")
    assert sim.ptz_moves == [("profile_sub", "2"), ("profile_sub", "1")]
    token = ptz.save("Car park")
    assert Preset(token, "Car park") in ptz.presets()


def test_unknown_preset_and_camera_without_ptz(camera, sim):
    with pytest.raises(OnvifError) as err:
        PtzPresets(camera).goto("Roof")
    assert err.value.reason == "no_preset" and "1 (Gate)" in str(err.value)
    sim.ptz = False
    plain = OnvifCamera(sim.host, sim.port, "operator", PASSWORD, camera_id="fixed-cam")
    with pytest.raises(OnvifError) as err:
        PtzPresets(plain)
    assert err.value.reason == "no_ptz"
