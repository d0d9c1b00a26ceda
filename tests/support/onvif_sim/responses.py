"""SOAP 1.2 answers of the simulated camera, as text built from the device's state.

Each function returns the body element only; `envelope()` wraps it. Every answer here is checked
against the WSDL bundled with onvif-zeep by `validate.py` (the simulator does that on each reply
in tests), so a template that drifts from the schema fails loudly instead of teaching the client
something no real camera sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from xml.sax.saxutils import escape, quoteattr

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "tptz": "http://www.onvif.org/ver20/ptz/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "wstop": "http://docs.oasis-open.org/wsn/t-1",
    "tns1": "http://www.onvif.org/ver10/topics",
    "ter": "http://www.onvif.org/ver10/error",
}
_XMLNS = " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items())
TOPIC_DIALECT = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"


@dataclass
class SimProfile:
    """One media profile: its token, name, resolution and the URIs GetStreamUri/GetSnapshotUri give."""

    token: str
    name: str
    stream_uri: str
    snapshot_uri: str = "http://127.0.0.1/snapshot.jpg"
    width: int = 1280
    height: int = 720


@dataclass
class SimEvent:
    """One notification to hand out through PullPoint (`topic` uses the tns1: prefix)."""

    topic: str
    source: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    utc_time: datetime | None = None
    operation: str = "Changed"
    # Replaces the <wsnt:Message> content verbatim: lets a test send a message without tt:Message.
    raw_message: str | None = None


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(body: str, header: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope {_XMLNS}><s:Header>{header}</s:Header>'
            f"<s:Body>{body}</s:Body></s:Envelope>").encode()


def fault(code: str, subcode: str, reason: str) -> bytes:
    return envelope(
        f"<s:Fault><s:Code><s:Value>s:{code}</s:Value><s:Subcode><s:Value>{subcode}</s:Value></s:Subcode>"
        f'</s:Code><s:Reason><s:Text xml:lang="en">{escape(reason)}</s:Text></s:Reason></s:Fault>'
    )


def system_date_and_time(now: datetime) -> str:
    u = now.astimezone(timezone.utc)
    return (
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
        "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
        "<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>"
        f"<tt:UTCDateTime><tt:Time><tt:Hour>{u.hour}</tt:Hour><tt:Minute>{u.minute}</tt:Minute>"
        f"<tt:Second>{u.second}</tt:Second></tt:Time><tt:Date><tt:Year>{u.year}</tt:Year>"
        f"<tt:Month>{u.month}</tt:Month><tt:Day>{u.day}</tt:Day></tt:Date></tt:UTCDateTime>"
        "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
    )


def capabilities(base: str, ptz: bool = True) -> str:
    ptz_cap = f"<tt:PTZ><tt:XAddr>{base}/onvif/ptz_service</tt:XAddr></tt:PTZ>" if ptz else ""
    return (
        "<tds:GetCapabilitiesResponse><tds:Capabilities>"
        f"<tt:Device><tt:XAddr>{base}/onvif/device_service</tt:XAddr></tt:Device>"
        f"<tt:Events><tt:XAddr>{base}/onvif/events_service</tt:XAddr>"
        "<tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>"
        "<tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
        "<tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport>"
        "</tt:Events>"
        f"<tt:Media><tt:XAddr>{base}/onvif/media_service</tt:XAddr><tt:StreamingCapabilities>"
        "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>"
        "<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>"
        f"{ptz_cap}</tds:Capabilities></tds:GetCapabilitiesResponse>"
    )


def services(base: str) -> str:
    items = (("http://www.onvif.org/ver10/device/wsdl", "device_service"),
             ("http://www.onvif.org/ver10/media/wsdl", "media_service"),
             ("http://www.onvif.org/ver10/events/wsdl", "events_service"))
    body = "".join(
        f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{base}/onvif/{path}</tds:XAddr>"
        "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>"
        for ns, path in items)
    return f"<tds:GetServicesResponse>{body}</tds:GetServicesResponse>"


def device_information(manufacturer: str, model: str, firmware: str, serial: str) -> str:
    return (
        f"<tds:GetDeviceInformationResponse><tds:Manufacturer>{escape(manufacturer)}</tds:Manufacturer>"
        f"<tds:Model>{escape(model)}</tds:Model><tds:FirmwareVersion>{escape(firmware)}</tds:FirmwareVersion>"
        f"<tds:SerialNumber>{escape(serial)}</tds:SerialNumber><tds:HardwareId>sim-1</tds:HardwareId>"
        "</tds:GetDeviceInformationResponse>"
    )


def _profile(p: SimProfile) -> str:
    return (
        f'<trt:Profiles token={quoteattr(p.token)} fixed="true"><tt:Name>{escape(p.name)}</tt:Name>'
        '<tt:VideoSourceConfiguration token="VideoSourceConfig_1"><tt:Name>VideoSourceConfig</tt:Name>'
        "<tt:UseCount>1</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken>"
        f'<tt:Bounds x="0" y="0" width="{p.width}" height="{p.height}"/></tt:VideoSourceConfiguration>'
        f'<tt:VideoEncoderConfiguration token="VideoEncoder_{escape(p.token)}"><tt:Name>H264</tt:Name>'
        "<tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>"
        f"<tt:Resolution><tt:Width>{p.width}</tt:Width><tt:Height>{p.height}</tt:Height></tt:Resolution>"
        "<tt:Quality>5</tt:Quality><tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type>"
        "<tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>1</tt:TTL>"
        "<tt:AutoStart>false</tt:AutoStart></tt:Multicast><tt:SessionTimeout>PT60S</tt:SessionTimeout>"
        "</tt:VideoEncoderConfiguration></trt:Profiles>"
    )


def profiles(items: list[SimProfile]) -> str:
    return f"<trt:GetProfilesResponse>{''.join(_profile(p) for p in items)}</trt:GetProfilesResponse>"


def media_uri(element: str, uri: str) -> str:
    return (f"<trt:{element}><trt:MediaUri><tt:Uri>{escape(uri)}</tt:Uri>"
            "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
            f"<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:{element}>")


def event_properties() -> str:
    # A short topic set: the topics this simulator can emit, without message descriptions.
    return (
        "<tev:GetEventPropertiesResponse>"
        "<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>"
        "<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>"
        "<wstop:TopicSet><tns1:VideoSource><MotionAlarm wstop:topic=\"true\"/></tns1:VideoSource>"
        "<tns1:RuleEngine><LineDetector><Crossed wstop:topic=\"true\"/></LineDetector>"
        "<FieldDetector><ObjectsInside wstop:topic=\"true\"/></FieldDetector></tns1:RuleEngine>"
        "<tns1:Device><Trigger><DigitalInput wstop:topic=\"true\"/></Trigger></tns1:Device></wstop:TopicSet>"
        f"<wsnt:TopicExpressionDialect>{TOPIC_DIALECT}</wsnt:TopicExpressionDialect>"
        "<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter"
        "</tev:MessageContentFilterDialect>"
        "<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd"
        "</tev:MessageContentSchemaLocation></tev:GetEventPropertiesResponse>"
    )


def create_pull_point(address: str, now: datetime, termination: datetime) -> str:
    return (
        "<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>"
        f"<wsa:Address>{escape(address)}</wsa:Address></tev:SubscriptionReference>"
        f"<wsnt:CurrentTime>{iso(now)}</wsnt:CurrentTime>"
        f"<wsnt:TerminationTime>{iso(termination)}</wsnt:TerminationTime>"
        "</tev:CreatePullPointSubscriptionResponse>"
    )


def _items(tag: str, items: dict[str, str]) -> str:
    inner = "".join(f"<tt:SimpleItem Name={quoteattr(k)} Value={quoteattr(v)}/>" for k, v in items.items())
    return f"<tt:{tag}>{inner}</tt:{tag}>"


def notification(ev: SimEvent, now: datetime) -> str:
    if ev.raw_message is not None:
        message = ev.raw_message
    else:
        message = (f'<tt:Message UtcTime="{iso(ev.utc_time or now)}" PropertyOperation={quoteattr(ev.operation)}>'
                   f"{_items('Source', ev.source)}{_items('Data', ev.data)}</tt:Message>")
    return (f'<wsnt:NotificationMessage><wsnt:Topic Dialect="{TOPIC_DIALECT}">{escape(ev.topic)}</wsnt:Topic>'
            f"<wsnt:Message>{message}</wsnt:Message></wsnt:NotificationMessage>")


def pull_messages(events: list[SimEvent], now: datetime, termination: datetime) -> str:
    return (f"<tev:PullMessagesResponse><tev:CurrentTime>{iso(now)}</tev:CurrentTime>"
            f"<tev:TerminationTime>{iso(termination)}</tev:TerminationTime>"
            f"{''.join(notification(e, now) for e in events)}</tev:PullMessagesResponse>")


def renew(now: datetime, termination: datetime) -> str:
    return (f"<wsnt:RenewResponse><wsnt:TerminationTime>{iso(termination)}</wsnt:TerminationTime>"
            f"<wsnt:CurrentTime>{iso(now)}</wsnt:CurrentTime></wsnt:RenewResponse>")


def presets(items: dict[str, str]) -> str:
    """GetPresets: `items` maps preset token -> name."""
    body = "".join(f"<tptz:Preset token={quoteattr(t)}><tt:Name>{escape(n)}</tt:Name></tptz:Preset>"
                   for t, n in items.items())
    return f"<tptz:GetPresetsResponse>{body}</tptz:GetPresetsResponse>"


def set_preset(token: str) -> str:
    return f"<tptz:SetPresetResponse><tptz:PresetToken>{escape(token)}</tptz:PresetToken></tptz:SetPresetResponse>"


EMPTY = {
    "GotoPreset": "<tptz:GotoPresetResponse/>",
    "Unsubscribe": "<wsnt:UnsubscribeResponse/>",
    "SetSynchronizationPoint": "<tev:SetSynchronizationPointResponse/>",
}
