"""ONVIF cameras: device/media queries, PullPoint events as SensorEvents, WS-Discovery.

Submodules import onvif-zeep lazily (`ingest.onvif.config` never does), so reading a
cameras.yaml with an `onvif:` block costs no SOAP stack.
"""
