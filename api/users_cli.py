"""`lookout users add|list|disable|enable`: manage password-login users in the store.

Passwords are read from a hidden prompt (typed twice) or, for scripts, one line of stdin
(`--password-stdin`); never from the command line, where `ps` and shell history would keep them.
Each change is audited with the operating-system user as actor.
"""

from __future__ import annotations

import getpass
import socket
import sys

import typer

users_app = typer.Typer(help="Users who log in to the console and API with a password.", no_args_is_help=True)
DbUrl = typer.Option(None, "--db-url", help="SQLAlchemy URL of the store (default LOOKOUT_DB_URL)")


def _sessions(db_url: str | None):  # noqa: ANN202
    from api.settings import Settings
    from api.store import make_session_factory, migrate

    url = db_url or Settings().db_url
    migrate(url)  # the users table exists from revision 0004 on
    return make_session_factory(url)


def _who() -> tuple[str, str]:
    return f"cli:{getpass.getuser()}", f"cli@{socket.gethostname()}"


def _now() -> float:
    import time

    return time.time()


@users_app.command("add")
def add(
    username: str = typer.Argument(..., help="Login name"),
    role: str = typer.Option(..., help="operator, engineer, unit, service or admin"),
    unit: str | None = typer.Option(None, help="Responder id the user acts for (role unit only)"),
    node: str | None = typer.Option(None, help="Org node (org.yaml) whose incidents the user sees"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from one line of stdin"),
    db_url: str | None = DbUrl,
) -> None:
    """Create a user; the password is asked for (hidden) unless --password-stdin."""
    from pydantic import ValidationError

    from api import users

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        new = users.NewUser(username=username, password=password, role=role, unit=unit, node=node)
    except ValidationError as exc:
        for e in exc.errors():
            where = ".".join(str(x) for x in e["loc"]) or "user"
            typer.echo(f"error: {where}: {e['msg']}", err=True)
        raise typer.Exit(2) from None
    actor, origin = _who()
    with _sessions(db_url)() as s:
        try:
            users.add_user(s, new, now=_now(), actor=actor, origin=origin)
        except users.UserExists as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"added {new.username} ({new.role}{', unit ' + new.unit if new.unit else ''}"
               f"{', node ' + new.node if new.node else ''})")


@users_app.command("list")
def list_(db_url: str | None = DbUrl) -> None:
    """Every user: name, role, unit, node, disabled, last login (never the hash)."""
    from datetime import datetime, timezone

    from api import users

    with _sessions(db_url)() as s:
        rows = users.list_users(s)
    for u in rows:
        last = datetime.fromtimestamp(u.last_login_at, timezone.utc).isoformat(timespec="seconds") \
            if u.last_login_at else "never"
        typer.echo(f"{u.username}\t{u.role}\t{u.unit or '-'}\t{u.node or '-'}\t"
                   f"{'disabled' if u.disabled else 'active'}\tlast login {last}")


def _set(username: str, disabled: bool, db_url: str | None) -> None:
    from api import users

    actor, origin = _who()
    with _sessions(db_url)() as s:
        try:
            users.set_disabled(s, username, disabled, now=_now(), actor=actor, origin=origin)
        except users.UnknownUser as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"{'disabled' if disabled else 'enabled'} {username}")


@users_app.command("disable")
def disable(username: str = typer.Argument(..., help="Login name"), db_url: str | None = DbUrl) -> None:
    """Stop a user: no more logins, and its tokens are refused from the next request on."""
    _set(username, True, db_url)


@users_app.command("enable")
def enable(username: str = typer.Argument(..., help="Login name"), db_url: str | None = DbUrl) -> None:
    """Let a disabled user log in again."""
    _set(username, False, db_url)
