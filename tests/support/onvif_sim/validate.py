"""Checks the simulator's answers against the WSDL that onvif-zeep bundles.

zeep deserialises a reply envelope exactly as the client will, but in strict mode: a missing
required element or a wrong type raises here, in the simulator, with the operation's name.
"""

from __future__ import annotations

import functools
from importlib.util import find_spec
from pathlib import Path

from lxml import etree
from zeep import Client, Settings

# Found without importing `onvif` (its import reconfigures the root logger); same folder the
# client uses: onvif-zeep ships it as top-level `wsdl/` beside the `onvif` package.
WSDL_DIR = Path(find_spec("onvif").origin).resolve().parents[1] / "wsdl"
_EV = "{http://www.onvif.org/ver10/events/wsdl}"
# operation -> (wsdl file, binding QName)
BINDINGS = {
    **{op: ("devicemgmt.wsdl", "{http://www.onvif.org/ver10/device/wsdl}DeviceBinding")
       for op in ("GetSystemDateAndTime", "GetCapabilities", "GetServices", "GetDeviceInformation")},
    **{op: ("media.wsdl", "{http://www.onvif.org/ver10/media/wsdl}MediaBinding")
       for op in ("GetProfiles", "GetStreamUri", "GetSnapshotUri")},
    **{op: ("events.wsdl", f"{_EV}EventBinding") for op in ("GetEventProperties", "CreatePullPointSubscription")},
    **{op: ("events.wsdl", f"{_EV}PullPointSubscriptionBinding") for op in ("PullMessages", "SetSynchronizationPoint")},
    **{op: ("events.wsdl", f"{_EV}SubscriptionManagerBinding") for op in ("Renew", "Unsubscribe")},
    **{op: ("ptz.wsdl", "{http://www.onvif.org/ver20/ptz/wsdl}PTZBinding")
       for op in ("GetPresets", "GotoPreset", "SetPreset")},
}


class InvalidReply(AssertionError):
    """The simulator produced a reply that does not match the WSDL."""


@functools.cache
def _client(wsdl: str) -> Client:
    return Client(str(WSDL_DIR / wsdl), settings=Settings(strict=True, xml_huge_tree=True))


def check_reply(operation: str, body: bytes):
    """Deserialise `body` (a whole SOAP envelope) as `operation`'s output; returns zeep's object."""
    wsdl, binding_name = BINDINGS[operation]
    binding = _client(wsdl).wsdl.bindings[binding_name]
    try:
        return binding.get(operation).process_reply(etree.fromstring(body))
    except Exception as exc:  # zeep raises several types; all mean the same here
        raise InvalidReply(f"{operation}: {type(exc).__name__}: {exc}") from exc
