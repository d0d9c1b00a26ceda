"""`create_app`: the FastAPI service — REST, SSE push, console, dispatcher and deadline ticks."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import console_health, errors
from api.config import load_api_config
from api.dispatch.engine import DispatchEngine
from api.push import PushHub, fanout
from api.ratelimit import RateLimiter
from api.receipts import Receipts
from api.routes import (
    alerts, console, console_fences, console_patrol, console_site, console_unit, health, operations, orders, reports,
    streams,
)
from api.routes import console_health as console_health_routes, console_incidents, console_photos, console_reports
from api.routes import auth as auth_routes
from api.routes import evidence as evidence_routes
from api.routes import planning as planning_routes
from api.routes import console_replay
from api.settings import Settings
from api.store import make_engine, make_session_factory, migrate
from api.webhooks import WebhookChannel

log = logging.getLogger(__name__)


def _start_dispatcher(app: FastAPI, settings: Settings, engine: DispatchEngine) -> None:
    from alerts.bus import BusError, open_bus
    from api.dispatcher import Dispatcher

    try:
        bus = open_bus(settings.bus_url)
    except (BusError, ImportError) as exc:
        # The API stays useful (orders, reports) without the bus; /healthz shows dispatcher false.
        log.error("dispatcher not started: cannot open bus %s: %s", settings.bus_url, exc)
        return
    from api.publisher import BackgroundPublisher

    try:
        # Wrapped: order changes and ticks never wait on the broker (see api.publisher).
        engine.producer = BackgroundPublisher(bus.producer())
    except BusError as exc:
        log.warning("dispatch events will not be published: %s", exc)
    d = Dispatcher(bus, engine, settings.group_id)
    d.start()
    app.state.dispatcher = d
    console_health.start_feed(app, bus)  # camera health records for the command room


def create_app(settings: Settings | None = None, clock: Callable[[], float] | None = None,
               start_background: bool = True) -> FastAPI:
    settings = settings or Settings()
    clock = clock or time.time

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(migrate, settings.db_url)
        config = load_api_config(settings.config_dir)
        db = make_engine(settings.db_url)
        sessions = make_session_factory(db)
        hub = PushHub()
        hub.bind(asyncio.get_running_loop())
        receipts = Receipts(sessions, clock)
        limiter = RateLimiter(settings.position_rate_per_s, settings.position_burst, clock)
        channels: list = [hub.publish]
        webhooks = WebhookChannel(settings.webhooks, receipts, clock) if settings.webhooks else None
        if webhooks is not None:
            channels.append(webhooks.publish)
        engine = DispatchEngine(sessions, config, clock)
        mqtt_bridge = None
        if settings.mqtt_url:
            from api.mqtt import MqttBridge

            mqtt_bridge = MqttBridge(settings.mqtt_url, engine, limiter, receipts, group=settings.group_id)
            channels.append(mqtt_bridge.publish)
        engine.push = fanout(*channels)
        engine.upsert_responders(config.responders.responders)
        app.state.settings, app.state.config, app.state.sessions = settings, config, sessions
        app.state.hub, app.state.engine, app.state.dispatcher = hub, engine, None
        app.state.receipts, app.state.position_limiter = receipts, limiter
        app.state.mqtt, app.state.webhooks = mqtt_bridge, webhooks
        if mqtt_bridge is not None:
            mqtt_bridge.start()
        tick_stop = tick_thread = None
        if start_background:
            from api.dispatcher import start_tick_thread

            if settings.dispatcher_enabled:
                _start_dispatcher(app, settings, engine)
            tick_thread, tick_stop = start_tick_thread(engine, settings.tick_interval_s)
        try:
            yield
        finally:
            if tick_stop is not None:
                tick_stop.set()
                await asyncio.to_thread(tick_thread.join, 5)
            await asyncio.to_thread(console_health.stop_feed, app)
            if app.state.dispatcher is not None:
                await asyncio.to_thread(app.state.dispatcher.stop)
            if engine.producer is not None:
                engine.producer.close()
            if mqtt_bridge is not None:
                await asyncio.to_thread(mqtt_bridge.stop)
            if webhooks is not None:
                await asyncio.to_thread(webhooks.close)
            await asyncio.to_thread(receipts.close)
            db.dispose()

    app = FastAPI(title="Lookout API", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    errors.install(app)
    app.include_router(evidence_routes.router)  # alert clips (api/routes/evidence.py)
    auth_routes.install(app, settings, clock)  # login token issuer and login rate limits
    app.include_router(auth_routes.router)
    app.include_router(planning_routes.router)  # coverage suggestions (api/routes/planning.py)
    app.include_router(console_replay.router)  # fence editor "Try on recording" (api/replay_jobs.py)
    for r in (health.router, alerts.router, operations.router, orders.router, reports.router, streams.router,
              console_site.router, console_unit.router, console_fences.router, console_patrol.router,
              console_health_routes.router, console_incidents.router, console_photos.router, console_reports.router,
              console.router):  # console last: it serves /{page}.html
        app.include_router(r)
    return app
