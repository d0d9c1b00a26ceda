"""PullPoint end to end: simulator → onvif-zeep/zeep over HTTP → PullPointPoller → SensorEvents."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from prometheus_client import REGISTRY

from rules.sensor_events import SensorEvent
from tests.onvif.conftest import PASSWORD
from tests.support.onvif_sim import SimEvent

VSC = {"VideoSourceConfigurationToken": "vsc-1", "VideoAnalyticsConfigurationToken": "va-1"}


class FakeClock:
    """Monotonic clock the test moves by hand, so renewal is tested without waiting."""

    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _poll_until(poller, n: int, rounds: int = 10) -> list[SensorEvent]:
    out: list[SensorEvent] = []
    for _ in range(rounds):
        out += poller.poll()
        if len(out) >= n:
            break
    return out


def test_camera_events_become_sensor_events(camera, sim):
    sim.emit(
        SimEvent("tns1:VideoSource/MotionAlarm", {"Source": "VideoSource_1"}, {"State": "true"}),
        SimEvent("tns1:RuleEngine/TamperDetector/Tamper", {**VSC, "Rule": "Tamper"}, {"IsTamper": "false"}),
        SimEvent("tns1:Device/Trigger/DigitalInput", {"InputToken": "DI_0"}, {"LogicalState": "true"}),
        SimEvent("tns1:RuleEngine/LineDetector/Crossed", {**VSC, "Rule": "Gate line"}, {"ObjectId": "17"}),
        SimEvent("tns1:RuleEngine/FieldDetector/ObjectsInside", {**VSC, "Rule": "Yard"}, {"IsInside": "true"}),
        SimEvent("tns1:Monitoring/ProcessorUsage", {"Token": "cpu"}, {"Value": "12"}),  # not mapped
    )
    with camera.events(pull_timeout_s=1, message_limit=10) as poller:
        events = _poll_until(poller, 5)
        assert [(e.kind, e.active, e.zone) for e in events] == [
            ("motion", True, None), ("tamper", False, "Tamper"), ("digital_input", True, None),
            ("line_crossed", None, "Gate line"), ("field_intrusion", True, "Yard")]
        assert all(e.source == "onvif" and e.camera_id == "gate-cam" for e in events)
        assert [e.sensor_id for e in events] == [
            "gate-cam:motion:VideoSource_1", "gate-cam:tamper:Tamper", "gate-cam:digital_input:DI_0",
            "gate-cam:line_crossed:Gate_line", "gate-cam:field_intrusion:Yard"]
        assert events[3].payload["data_items"] == {"ObjectId": "17"}
        assert events[3].payload["topic"] == "tns1:RuleEngine/LineDetector/Crossed"
        assert poller.ignored == 1 and poller.events == 5 and not poller.errors
    # zeep's WS-Addressing plugin names the subscription in `To`; the simulator routes on it.
    assert sim.wsa_to and all("/onvif/subscription/" in to for to in sim.wsa_to)
    assert sim.count("CreatePullPointSubscription") == 1  # the stock constructor's extra one is gone
    assert sim.unsubscribed == [1]


def test_a_malformed_reply_is_logged_counted_and_polling_goes_on(camera, sim, caplog):
    before = REGISTRY.get_sample_value("lookout_onvif_errors_total", {"camera": "gate-cam", "reason": "malformed"}) or 0
    with camera.events(pull_timeout_s=1) as poller:
        assert poller.poll() == []  # subscribes; nothing queued yet
        sim.malformed["PullMessages"] = 1
        assert poller.poll() == []
        assert poller.errors == {"malformed": 1}
        assert "gate-cam" in caplog.text and "malformed" in caplog.text
        sim.emit(SimEvent("tns1:VideoSource/MotionAlarm", {"Source": "VideoSource_1"}, {"State": "true"}))
        events = _poll_until(poller, 1)
        assert [e.kind for e in events] == ["motion"]
        assert poller.subscriptions == 1  # a garbled reply does not cost the subscription
    after = REGISTRY.get_sample_value("lookout_onvif_errors_total", {"camera": "gate-cam", "reason": "malformed"})
    assert after == before + 1


def test_unreadable_notifications_are_skipped_and_the_rest_delivered(camera, sim, caplog):
    sim.emit(
        SimEvent("tns1:VideoSource/MotionAlarm", raw_message="<nothing/>"),
        SimEvent("tns1:Device/Trigger/DigitalInput", {"InputToken": "DI_0"}, {"LogicalState": "maybe"}),
        SimEvent("tns1:RuleEngine/FieldDetector/ObjectsInside", {"Rule": "Yard"}, {}),
        SimEvent("tns1:Device/Trigger/DigitalInput", {"InputToken": "DI_1"}, {"LogicalState": "false"}),
    )
    with camera.events(pull_timeout_s=1, message_limit=10) as poller:
        events = _poll_until(poller, 1)
        assert [(e.sensor_id, e.active) for e in events] == [("gate-cam:digital_input:DI_1", False)]
        assert poller.errors == {"no_message": 1, "bad_state": 1, "no_state": 1}
    assert caplog.text.count("gate-cam: ONVIF notification skipped") == 3


def test_subscription_is_renewed_before_it_expires(camera, sim):
    clock = FakeClock()
    with camera.events(pull_timeout_s=1, subscription_s=60, clock=clock) as poller:
        poller.poll()
        assert sim.count("Renew") == 0
        poller.poll()
        assert sim.count("Renew") == 0
        clock.t += 45  # camera and poller 45 s on: 15 of 60 s left < pull timeout + a third (21 s)
        sim.clock_offset += timedelta(seconds=45)
        poller.poll()
        assert sim.count("Renew") == 1 and poller.renewals == 1
        assert poller.subscriptions == 1 and not poller.errors


def test_lost_subscription_is_replaced(camera, sim):
    with camera.events(pull_timeout_s=1) as poller:
        poller.poll()
        sim.drop_subscriptions()  # camera rebooted
        assert poller.poll() == []
        assert poller.errors == {"fault": 1} and not poller.subscribed
        sim.emit(SimEvent("tns1:VideoSource/MotionAlarm", {"Source": "VideoSource_1"}, {"State": "false"}))
        events = _poll_until(poller, 1)
        assert [(e.kind, e.active) for e in events] == [("motion", False)]
        assert poller.subscriptions == 2


def test_iterating_yields_events_and_close_unsubscribes(camera, sim):
    sim.emit(*[SimEvent("tns1:Device/Trigger/DigitalInput", {"InputToken": f"DI_{i}"}, {"LogicalState": "true"})
               for i in range(3)])
    poller = camera.events(pull_timeout_s=1)
    got = []
    for ev in poller:
        got.append(ev.sensor_id)
        if len(got) == 3:
            threading.Thread(target=poller.close).start()
    assert got == [f"gate-cam:digital_input:DI_{i}" for i in range(3)]
    assert sim.unsubscribed == [1] and not sim.subscriptions


def test_credentials_never_appear_in_logs(sim, caplog):
    from ingest.onvif.client import OnvifCamera

    caplog.set_level(logging.DEBUG)  # zeep logs whole envelopes at DEBUG
    cam = OnvifCamera(sim.host, sim.port, "operator", PASSWORD, camera_id="gate-cam")
    cam.device_info()
    sim.emit(SimEvent("tns1:VideoSource/MotionAlarm", {"Source": "VideoSource_1"}, {"State": "true"}))
    with cam.events(pull_timeout_s=1) as poller:
        sim.malformed["PullMessages"] = 1
        poller.poll()
        _poll_until(poller, 1)
    assert "PullMessages" in caplog.text  # the debug logs were really captured
    assert PASSWORD not in caplog.text and PASSWORD not in repr(cam)


def test_camera_behind_nat_that_names_its_internal_address(sim):
    from ingest.onvif.client import OnvifCamera

    sim.advertised = "192.168.1.64:80"  # what the camera believes its address is
    cam = OnvifCamera(sim.host, sim.port, "operator", PASSWORD, camera_id="nat-cam")
    assert cam.stream_uri() == "rtsp://127.0.0.1:8554/live"
    sim.emit(SimEvent("tns1:Device/Trigger/DigitalInput", {"InputToken": "DI_0"}, {"LogicalState": "true"}))
    with cam.events(pull_timeout_s=1) as poller:
        assert [e.kind for e in _poll_until(poller, 1)] == ["digital_input"]
    assert sim.unsubscribed == [1] and all("192.168.1.64" in to for to in sim.wsa_to)


def test_a_long_poll_longer_than_the_request_timeout_is_not_a_timeout(sim):
    from ingest.onvif.client import OnvifCamera

    cam = OnvifCamera(sim.host, sim.port, "operator", PASSWORD, camera_id="slow-cam", timeout_s=1)
    with cam.events(pull_timeout_s=1.5) as poller:  # the simulator holds an empty pull for 1.5 s
        assert poller.poll() == [] and poller.poll() == []
        assert not poller.errors and poller.subscriptions == 1
