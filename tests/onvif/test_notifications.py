"""Notification → SensorEvent mapping on XML alone: topic prefixes, camera clocks, vendor topics."""

from __future__ import annotations

import pytest
from lxml import etree

from ingest.onvif.events import NotificationError, to_sensor_event

RECEIVED = 1_795_000_000.0


def _note(topic: str, message: str, topic_ns: str = 'xmlns:tns1="http://www.onvif.org/ver10/topics"'):
    return etree.fromstring(
        f'<wsnt:NotificationMessage xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" '
        f'xmlns:tt="http://www.onvif.org/ver10/schema" {topic_ns}><wsnt:Topic Dialect="x">{topic}</wsnt:Topic>'
        f"<wsnt:Message>{message}</wsnt:Message></wsnt:NotificationMessage>")


def _msg(utc: str, state: str = "true") -> str:
    return (f'<tt:Message UtcTime="{utc}" PropertyOperation="Initialized"><tt:Source>'
            '<tt:SimpleItem Name="InputToken" Value="DI 0"/></tt:Source>'
            f'<tt:Data><tt:SimpleItem Name="LogicalState" Value="{state}"/></tt:Data></tt:Message>')


def test_camera_time_is_used_when_plausible():
    ev = to_sensor_event(_note("tns1:Device/Trigger/DigitalInput", _msg("2026-11-23T12:00:00Z")), "cam", RECEIVED)
    assert ev.t == 1795435200.0 and ev.active is True and "t_source" not in ev.payload
    assert ev.payload["property_operation"] == "Initialized" and ev.sensor_id == "cam:digital_input:DI_0"


def test_a_camera_clock_in_1970_gets_the_receive_time():
    ev = to_sensor_event(_note("tns1:Device/Trigger/DigitalInput", _msg("1970-01-01T00:05:00Z", "0")), "cam", RECEIVED)
    assert ev.t == RECEIVED and ev.payload["t_source"] == "received" and ev.active is False


def test_any_prefix_bound_to_the_onvif_topic_namespace_works():
    note = _note("ns7:Device/Trigger/DigitalInput", _msg("2026-11-23T12:00:00Z"),
                 'xmlns:ns7="http://www.onvif.org/ver10/topics"')
    assert to_sensor_event(note, "cam", RECEIVED).kind == "digital_input"


def test_vendor_topics_and_image_quality_alarms():
    vendor = _note("tnsvendor:Device/Trigger/DigitalInput", _msg("2026-11-23T12:00:00Z"),
                   'xmlns:tnsvendor="http://vendor.example/topics"')
    assert to_sensor_event(vendor, "cam", RECEIVED) is None
    scene = _note("tns1:VideoSource/GlobalSceneChange/ImagingService",
                  '<tt:Message UtcTime="2026-11-23T12:00:00Z"><tt:Source><tt:SimpleItem Name="Source" '
                  'Value="VS1"/></tt:Source><tt:Data><tt:SimpleItem Name="State" Value="true"/></tt:Data></tt:Message>')
    ev = to_sensor_event(scene, "cam", RECEIVED)
    assert (ev.kind, ev.active, ev.sensor_id) == ("tamper", True, "cam:tamper:VS1")


def test_a_notification_without_topic_is_an_error():
    with pytest.raises(NotificationError) as err:
        to_sensor_event(_note("", _msg("2026-11-23T12:00:00Z")), "cam", RECEIVED)
    assert err.value.reason == "no_topic"
