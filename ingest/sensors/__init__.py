"""Sensors, drone telemetry and their transports (MQTT, webhook) for the worker."""
