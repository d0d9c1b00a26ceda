"""Bearer auth with two kinds of token, both sent as `Authorization: Bearer ...`:

- API tokens from settings (`LOOKOUT_TOKENS`), each mapped to a role, subject and node: for machine
  clients and for operators who paste one into the console.
- Login tokens: HS256 JWTs that `POST /api/auth/token` issues to users of the `users` table
  (api.users) for their password. Claims: sub (username), role, node, unit, iat, exp, jti. On every
  request the user is looked up again (one indexed row), so a disabled user's token stops working
  at once, and role, node and unit come from the row (a changed role applies at once too).

Roles: operator (command room), engineer (configs, read-only ops data), unit (one responder, whose
id is the subject), service (machine clients such as GPS gateways), admin (everything).
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import Depends, HTTPException, Request, status

from api.settings import Settings
from api.users import active_user

log = logging.getLogger(__name__)

ROLES = ("operator", "engineer", "unit", "service", "admin")


@dataclass(frozen=True)
class Principal:
    role: str
    subject: str
    node: str | None = None  # org node: the user sees incidents of this node and below
    user: str | None = None  # the username, for login tokens (API tokens have none)

    def owns_unit(self, unit_id: str) -> bool:
        """Units act only for themselves; other roles that passed `require` act for anyone."""
        return self.role != "unit" or self.subject == unit_id


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _lookup(settings: Settings, token: str) -> Principal | None:
    found = None
    for known, info in settings.tokens.items():
        # Compare every token in constant time so response timing does not leak prefixes.
        if hmac.compare_digest(known.encode(), token.encode()):
            found = Principal(info.role, info.subject, info.node)
    return found


class LoginTokens:
    """Issues and checks login JWTs on the injectable clock (so expiry follows simulated time in
    tests, and one clock rules the service)."""

    ALGORITHM = "HS256"
    ISSUER = "lookout"

    def __init__(self, secret: str | None, ttl_s: int, clock: Callable[[], float]):
        if secret is None:
            # Safe default for one instance: nothing guessable, but tokens die with the process and
            # other instances reject them. The secret itself is never logged.
            log.warning("LOOKOUT_JWT_SECRET is not set: login tokens use a random per-process key; they "
                        "end at restart and are not accepted by other API instances")
            secret = secrets.token_urlsafe(48)
        self._key, self.ttl_s, self.clock = secret, ttl_s, clock

    @classmethod
    def from_settings(cls, settings: Settings, clock: Callable[[], float]) -> "LoginTokens":
        secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret is not None else None
        return cls(secret, settings.jwt_ttl_s, clock)

    def issue(self, username: str, role: str, node: str | None, unit: str | None) -> str:
        now = self.clock()
        claims = {"iss": self.ISSUER, "sub": username, "role": role, "node": node, "unit": unit,
                  "iat": int(now), "exp": int(now + self.ttl_s), "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self._key, algorithm=self.ALGORITHM)

    def claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid, unexpired token of ours; None for anything else."""
        try:
            # exp/iat are checked below against our clock, not the library's wall clock; the
            # signature, algorithm (pinned: no "none", no key confusion) and issuer are checked here.
            c = jwt.decode(token, self._key, algorithms=[self.ALGORITHM], issuer=self.ISSUER,
                           options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                    "require": ["sub", "role", "exp", "jti"]})
        except jwt.InvalidTokenError:
            return None
        exp = c.get("exp")
        if not isinstance(exp, (int, float)) or exp <= self.clock():
            return None
        return c


def _login_principal(request: Request, token: str) -> Principal | None:
    issuer: LoginTokens | None = getattr(request.app.state, "login_tokens", None)
    sessions = getattr(request.app.state, "sessions", None)
    if issuer is None or sessions is None or token.count(".") != 2:
        return None
    claims = issuer.claims(token)
    if claims is None:
        return None
    with sessions() as s:
        row = active_user(s, str(claims["sub"]))
    if row is None:
        return None  # deleted or disabled since the token was issued
    # Units act for their responder: the subject is the responder id, as with API tokens.
    subject = row.unit if row.role == "unit" and row.unit else row.username
    return Principal(row.role, subject, row.node, user=row.username)


def still_valid_check(app: Any, who: Principal) -> Callable[[], bool] | None:
    """For a long-lived stream: a check that its login user is still enabled with the same role,
    unit and node (None for API tokens, which only a restart changes). Streams run it every
    `stream_recheck_s`, so disabling a user also ends the streams it had open."""
    sessions = getattr(app.state, "sessions", None)
    if who.user is None or sessions is None:
        return None

    def check() -> bool:
        with sessions() as s:
            row = active_user(s, who.user)
        if row is None:
            return False
        subject = row.unit if row.role == "unit" and row.unit else row.username
        return (row.role, subject, row.node) == (who.role, who.subject, who.node)

    return check


def authenticate_token(request: Request, settings: Settings, token: str) -> Principal | None:
    """An API token from settings, else a login JWT; None when neither."""
    return _lookup(settings, token) or _login_principal(request, token)


_QUERY_TOKEN = re.compile(r"(access_token=)[^&\s\"]+")


class RedactQueryTokens(logging.Filter):
    """Masks `?access_token=` values in log records (uvicorn's access log prints full paths with
    the query; stream and snapshot URLs carry the bearer token there)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_QUERY_TOKEN.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str) and "access_token=" in record.msg:
            record.msg = _QUERY_TOKEN.sub(r"\1***", record.msg)
        return True


def _token_from(request: Request, allow_query: bool) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if allow_query:
        # EventSource cannot send headers; only stream endpoints accept the token in the URL.
        return request.query_params.get("access_token") or None
    return None


def require(*roles: str, allow_query: bool = False) -> Callable[..., Principal]:
    """A dependency that authenticates (401) and checks the role (403). Admin always passes."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def dependency(request: Request, settings: Settings = Depends(_settings)) -> Principal:
        token = _token_from(request, allow_query)
        principal = authenticate_token(request, settings, token) if token else None
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "missing or unknown bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if principal.role != "admin" and principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role!r} may not do this")
        return principal

    return dependency


def forbid_other_unit(principal: Principal, unit_id: str) -> None:
    if not principal.owns_unit(unit_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a unit may only act for itself")
