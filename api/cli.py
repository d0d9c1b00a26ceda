"""`lookout api`, `lookout unit-sim` and `lookout users`, registered on the `lookout` command through an
entry point."""

from __future__ import annotations

from pathlib import Path

import typer

from api.users_cli import users_app


def register(app: typer.Typer) -> None:
    app.command("api", help="Run the API service: REST, push streams, console and dispatcher.")(serve)
    app.command("unit-sim", help="Simulate a patrol unit that answers its orders.")(unit_sim)
    app.add_typer(users_app, name="users")


def serve(
    host: str | None = typer.Option(None, help="Listen address (default LOOKOUT_HOST or 127.0.0.1)"),
    port: int | None = typer.Option(None, help="Listen port (default LOOKOUT_PORT or 8080)"),
    config_dir: Path | None = typer.Option(None, help="Folder with responders.yaml and dispatch.yaml"),
    db_url: str | None = typer.Option(None, help="SQLAlchemy URL of the store"),
    bus_url: str | None = typer.Option(None, help="embedded:///path.db or kafka://host:port"),
) -> None:
    import logging

    import uvicorn

    from api.app import create_app
    from api.settings import Settings

    overrides = {k: v for k, v in dict(host=host, port=port, config_dir=config_dir, db_url=db_url,
                                        bus_url=bus_url).items() if v is not None}
    settings = Settings(**overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # one line per plugin, every start
    uvicorn.Server(server_config(create_app(settings), settings.host, settings.port)).run()


def server_config(app, host: str, port: int):  # noqa: ANN001, ANN201 (uvicorn types stay lazy)
    """uvicorn settings for the API, with `?access_token=` masked in the access log."""
    import logging

    import uvicorn

    from api.auth import RedactQueryTokens

    config = uvicorn.Config(app, host=host, port=port, log_level="info")
    # After Config: creating it (re)configures uvicorn's loggers. Stream URLs carry the token.
    logging.getLogger("uvicorn.access").addFilter(RedactQueryTokens())
    return config


def unit_sim(
    unit_id: str = typer.Option("patrol-1", help="Responder id; the token's subject must match"),
    token: str = typer.Option(..., help="Bearer token of role unit", envvar="LOOKOUT_UNIT_TOKEN"),
    url: str = typer.Option("http://127.0.0.1:8080", help="Base URL of the API"),
    ack_after: float = typer.Option(2.0, help="Seconds before acknowledging a new order"),
    arrive_after: float = typer.Option(0.0, help="Seconds en route before on_scene; 0 = acknowledge only"),
    resolve_after: float = typer.Option(0.0, help="Seconds on scene before resolving; 0 = never"),
) -> None:
    from api.unitsim import UnitSim

    sim = UnitSim(unit_id=unit_id, token=token, url=url.rstrip("/"), ack_after=ack_after,
                  arrive_after=arrive_after, resolve_after=resolve_after)
    try:
        sim.run()
    except KeyboardInterrupt:
        sim.stop.set()
