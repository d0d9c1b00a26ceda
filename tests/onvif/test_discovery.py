"""WS-Discovery on loopback only: a directed Probe to the simulator's UDP responder."""

from __future__ import annotations

import socket
import threading

from ingest.onvif.client import OnvifCamera
from ingest.onvif.discovery import probe
from tests.onvif.conftest import PASSWORD
from tests.support.onvif_sim.discovery import DiscoveryResponder


def test_probe_finds_the_simulator_and_its_device_service_answers(sim):
    xaddr = f"{sim.base}/onvif/device_service"
    with DiscoveryResponder(xaddr, name="Gate cam") as responder:
        found = probe("127.0.0.1", responder.port, timeout_s=1, bind="127.0.0.1")
    assert responder.probes == 1 and len(found) == 1
    dev = found[0]
    assert dev.xaddrs == (xaddr,) and dev.name == "Gate cam" and dev.responder == "127.0.0.1"
    assert "http://www.onvif.org/ver10/network/wsdl:NetworkVideoTransmitter" in dev.types
    host, port = dev.xaddrs[0].split("/")[2].split(":")
    assert OnvifCamera(host, int(port), "operator", PASSWORD).device_info().model == "OnvifSim"


def test_garbage_answers_are_ignored():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as junk:
        junk.bind(("127.0.0.1", 0))
        junk.settimeout(2)

        def answer():
            try:
                _, peer = junk.recvfrom(65535)
                junk.sendto(b"\x00not xml at all", peer)
            except OSError:
                pass

        t = threading.Thread(target=answer)
        t.start()
        assert probe("127.0.0.1", junk.getsockname()[1], timeout_s=0.5, bind="127.0.0.1") == []
        t.join()
