"""The simulator's WS-Discovery responder: answers a Probe on a loopback UDP port only.

Bound to 127.0.0.1 and never joined to a multicast group, so a test's probe never leaves the
machine. Messages are parsed and built with the `wsdiscovery` library.
"""

from __future__ import annotations

import socket
import threading
import uuid

from wsdiscovery.actions.probematch import constructProbeMatch
from wsdiscovery.message import createSOAPMessage, parseSOAPMessage
from wsdiscovery.namespaces import NS_ACTION_PROBE
from wsdiscovery.qname import QName
from wsdiscovery.scope import Scope
from wsdiscovery.service import Service


class DiscoveryResponder:
    """`with DiscoveryResponder(xaddr, name="Gate cam") as d:` then probe 127.0.0.1:d.port."""

    def __init__(self, xaddr: str, name: str = "OnvifSim"):
        self.service = Service(
            [QName("http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter", "dn"),
             QName("http://www.onvif.org/ver10/device/wsdl", "Device", "tds")],
            [Scope("onvif://www.onvif.org/type/video_encoder"),
             Scope("onvif://www.onvif.org/name/" + name.replace(" ", "%20"))],
            [xaddr], uuid.uuid4().urn, 1)
        self.probes = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="onvif-sim-wsd", daemon=True)

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            env = parseSOAPMessage(data, peer[0])
            if env is None or env.getAction() != NS_ACTION_PROBE:
                continue
            self.probes += 1
            reply = constructProbeMatch([self.service], env.getMessageId())
            self._sock.sendto(createSOAPMessage(reply).encode(), peer)

    def __enter__(self) -> DiscoveryResponder:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()
