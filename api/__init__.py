"""Lookout API service: REST, SSE push, console, and the dispatcher that turns alerts into orders.

Entry point: `api.app.create_app`. Layering: may import alerts, rules and detectors; never ingest.
"""
