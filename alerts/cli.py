"""`lookout bridge mqtt|webhook`: forward alerts from the bus to systems that do not speak Kafka.

Registered on the `lookout` command through the `lookout.commands` entry point.
"""

from __future__ import annotations

import logging
import os
import signal

import typer

bridge_app = typer.Typer(help="Forward alerts from the bus over MQTT or signed webhooks.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(bridge_app, name="bridge")


def _run(bus_url: str, sink, group: str) -> None:
    from alerts.bridges.loop import BridgeLoop
    from alerts.bus import open_bus

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    loop = BridgeLoop(open_bus(bus_url), sink, group)
    for sig in (signal.SIGINT, signal.SIGTERM):  # finish the batch in hand, then stop
        signal.signal(sig, lambda *_: loop.stopping.set())
    try:
        loop.run()
    finally:
        sink.close()


@bridge_app.command("mqtt")
def mqtt(
    bus: str = typer.Option(..., "--bus", envvar="LOOKOUT_BUS_URL", help="embedded:///path.db or kafka://host:port"),
    mqtt_host: str = typer.Option("127.0.0.1", help="MQTT broker host"),
    mqtt_port: int = typer.Option(1883, help="MQTT broker port"),
    topic_prefix: str = typer.Option("lookout/alerts", help="Topic prefix; site/source/rule_kind follow"),
    payload: str = typer.Option("alert", help="alert (Alert v1 JSON) or deepstream"),
    group: str = typer.Option("lookout-bridge-mqtt", help="Consumer group on the alert topic"),
    username: str | None = typer.Option(None, envvar="LOOKOUT_MQTT_USERNAME", help="MQTT user"),
    password: str | None = typer.Option(None, envvar="LOOKOUT_MQTT_PASSWORD", help="MQTT password"),
) -> None:
    """Publish each alert with QoS 1 to <prefix>/<site>/<source>/<rule_kind>."""
    from alerts.bridges.mqtt import MqttBridgeConfig, MqttSink

    config = MqttBridgeConfig(host=mqtt_host, port=mqtt_port, topic_prefix=topic_prefix, payload=payload,
                              username=username, password=password)
    _run(bus, MqttSink(config), group)


@bridge_app.command("webhook")
def webhook(
    bus: str = typer.Option(..., "--bus", envvar="LOOKOUT_BUS_URL", help="embedded:///path.db or kafka://host:port"),
    url: str = typer.Option(..., help="Receiver URL"),
    secret_env: str = typer.Option("LOOKOUT_WEBHOOK_SECRET", help="Name of the variable holding the secret"),
    group: str = typer.Option("lookout-bridge-webhook", help="Consumer group on the alert topic"),
    max_attempts: int = typer.Option(5, help="Attempts per alert before the batch is retried later"),
) -> None:
    """POST each alert, signed with HMAC-SHA256 (X-Lookout-Signature, X-Lookout-Timestamp)."""
    from alerts.bridges.webhook import WebhookConfig, WebhookSink

    secret = os.environ.get(secret_env)
    if not secret:  # never on the command line: it would show in `ps`
        raise typer.BadParameter(f"set the webhook secret in ${secret_env}", param_hint="--secret-env")
    _run(bus, WebhookSink(WebhookConfig(url=url, secret=secret, max_attempts=max_attempts)), group)
