"""The simulator itself: its canned replies match the WSDL that the client parses them with."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.support.onvif_sim import responses as r
from tests.support.onvif_sim.validate import BINDINGS, InvalidReply, check_reply

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
EVENT = r.SimEvent("tns1:RuleEngine/LineDetector/Crossed", {"Rule": "Gate"}, {"ObjectId": "3"})
REPLIES = {
    "GetSystemDateAndTime": r.system_date_and_time(NOW),
    "GetCapabilities": r.capabilities("http://127.0.0.1:1"),
    "GetServices": r.services("http://127.0.0.1:1"),
    "GetDeviceInformation": r.device_information("M", "X", "1", "S"),
    "GetProfiles": r.profiles([r.SimProfile("p1", "Main", "rtsp://127.0.0.1/x")]),
    "GetStreamUri": r.media_uri("GetStreamUriResponse", "rtsp://127.0.0.1/x"),
    "GetSnapshotUri": r.media_uri("GetSnapshotUriResponse", "http://127.0.0.1/s.jpg"),
    "GetEventProperties": r.event_properties(),
    "CreatePullPointSubscription": r.create_pull_point("http://127.0.0.1:1/onvif/subscription/1", NOW, NOW),
    "PullMessages": r.pull_messages([EVENT], NOW, NOW),
    "Renew": r.renew(NOW, NOW),
    "Unsubscribe": r.EMPTY["Unsubscribe"],
    "SetSynchronizationPoint": r.EMPTY["SetSynchronizationPoint"],
    "GetPresets": r.presets({"1": "Gate"}),
    "GotoPreset": r.EMPTY["GotoPreset"],
    "SetPreset": r.set_preset("3"),
}


def test_every_operation_a_client_needs_has_a_reply():
    assert set(REPLIES) == set(BINDINGS)


@pytest.mark.parametrize("operation", sorted(REPLIES))
def test_reply_matches_the_wsdl(operation):
    check_reply(operation, r.envelope(REPLIES[operation]))


def test_a_reply_that_drifts_from_the_wsdl_is_caught():
    broken = REPLIES["GetStreamUri"].replace("<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>", "")
    with pytest.raises(InvalidReply, match="GetStreamUri"):
        check_reply("GetStreamUri", r.envelope(broken))


def test_wrong_password_is_refused_by_the_simulator(sim):
    from ingest.onvif.client import OnvifCamera, OnvifError

    with pytest.raises(OnvifError) as err:
        OnvifCamera(sim.host, sim.port, "operator", "wrong-password", camera_id="gate-cam")
    assert err.value.reason == "unauthorized"
    assert "gate-cam" in str(err.value) and "wrong-password" not in str(err.value)
    assert sim.auth_failures == 1
