"""WS-Discovery: find ONVIF cameras with a Probe for dn:NetworkVideoTransmitter.

The messages come from the `wsdiscovery` library (its Probe builder and ProbeMatch parser); the
socket is ours. `wsdiscovery`'s own ThreadedWSDiscovery joins the multicast group on every
interface and runs background threads; we want one Probe to one address and the answers that
come back within a timeout, so the destination is an argument: the standard multicast group
239.255.255.250:3702 on a site network (TTL 1: never routed off the segment), or a unicast
address (a directed probe, what the tests use on loopback).
"""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

MULTICAST_GROUP = "239.255.255.250"
WS_DISCOVERY_PORT = 3702
ONVIF_NETWORK_NS = "http://www.onvif.org/ver10/network/wsdl"
MAX_DATAGRAM = 65535


@dataclass(frozen=True)
class DiscoveredDevice:
    """One ProbeMatch: the device's endpoint reference, service addresses, types and scopes."""

    epr: str
    xaddrs: tuple[str, ...]
    types: tuple[str, ...]
    scopes: tuple[str, ...]
    responder: str  # IP address the answer came from

    @property
    def name(self) -> str | None:
        """The `onvif://www.onvif.org/name/...` scope, if the device announces one."""
        for s in self.scopes:
            if s.startswith("onvif://www.onvif.org/name/"):
                return s.rsplit("/", 1)[1].replace("%20", " ")
        return None


def probe(address: str = MULTICAST_GROUP, port: int = WS_DISCOVERY_PORT, timeout_s: float = 3.0,
          bind: str = "0.0.0.0") -> list[DiscoveredDevice]:
    """Send one Probe to `address:port` and collect ProbeMatches for `timeout_s` (deduplicated by EPR)."""
    from wsdiscovery.actions.probe import constructProbe
    from wsdiscovery.message import createSOAPMessage, parseSOAPMessage
    from wsdiscovery.namespaces import NS_ACTION_PROBE_MATCH
    from wsdiscovery.qname import QName

    env = constructProbe([QName(ONVIF_NETWORK_NS, "NetworkVideoTransmitter", "dn")], [])
    message_id = env.getMessageId()
    found: dict[str, DiscoveredDevice] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        sock.bind((bind, 0))
        sock.sendto(createSOAPMessage(env).encode(), (address, port))
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, (ip, _) = sock.recvfrom(MAX_DATAGRAM)
            except TimeoutError:
                break
            reply = parseSOAPMessage(data, ip)  # None for anything that is not WS-Discovery
            if reply is None or reply.getAction() != NS_ACTION_PROBE_MATCH or reply.getRelatesTo() != message_id:
                log.debug("WS-Discovery: ignored a datagram from %s", ip)
                continue
            for m in reply.getProbeResolveMatches():
                epr = m.getEPR()
                found[epr] = DiscoveredDevice(
                    epr, tuple(m.getXAddrs()), tuple(f"{q.getNamespace()}:{q.getLocalname()}" for q in m.getTypes()),
                    tuple(s.getValue() for s in m.getScopes()), ip)
    return list(found.values())
