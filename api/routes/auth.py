"""Password login (OAuth2 password flow) → a JWT for `Authorization: Bearer`, and `who am I`.

`POST /api/auth/token` is public (it is how a user gets a token). Attempts are rate-limited per
username and per client address before the password is even hashed, so guessing costs the
attacker time and the server no CPU; every attempt that gets through is audited (never the
password). The answer does not say whether the name or the password was wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api import users
from api.auth import ROLES, LoginTokens, Principal, require
from api.deps import client_origin
from api.ratelimit import RateLimiter
from api.settings import Settings

router = APIRouter(prefix="/api/auth", tags=["auth"])
_USERNAME = re.compile(users.USERNAME)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str


class LoginLimits:
    """Two token buckets: one per username (guessing one account), one per address (spraying many)."""

    def __init__(self, settings: Settings, clock: Callable[[], float]):
        self.per_user = RateLimiter(settings.login_user_rate_per_s, settings.login_user_burst, clock)
        self.per_ip = RateLimiter(settings.login_ip_rate_per_s, settings.login_ip_burst, clock)

    def check(self, username: str, ip: str) -> None:
        for limiter, key in ((self.per_ip, ip), (self.per_user, username.lower())):
            if not limiter.allow(key):
                raise HTTPException(429, "too many login attempts; try again later",
                                    headers={"Retry-After": str(limiter.retry_after())})


def install(app: FastAPI, settings: Settings, clock: Callable[[], float]) -> None:
    """Put the token issuer and the login limits on app.state (create_app calls this)."""
    app.state.login_tokens = LoginTokens.from_settings(settings, clock)
    app.state.login_limits = LoginLimits(settings, clock)


@router.post("/token", response_model=TokenOut)
async def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    """Exchange username and password for a bearer token (form fields `username`, `password`)."""
    origin = client_origin(request)
    username = form.username[:64]
    request.app.state.login_limits.check(username, origin)
    issuer: LoginTokens = request.app.state.login_tokens
    sessions = request.app.state.sessions

    def attempt() -> users.UserRow | None:
        with sessions() as s:
            if not _USERNAME.fullmatch(form.username) or len(form.username) > 64 or len(form.password) > 256:
                # ascii(): whatever was sent (NUL, control characters) is stored escaped, never raw.
                users.audit(s, at=issuer.clock(), actor="login:?", origin=origin, action="login.failed",
                            username=ascii(username)[1:-1], reason="malformed")
                s.commit()
                return None
            return users.authenticate(s, username, form.password, now=issuer.clock(), origin=origin)

    row = await run_in_threadpool(attempt)  # Argon2 takes tens of ms: keep it off the event loop
    if row is None:
        raise HTTPException(401, "incorrect username or password", headers={"WWW-Authenticate": "Bearer"})
    token = issuer.issue(row.username, row.role, row.node, row.unit)
    return TokenOut(access_token=token, expires_in=issuer.ttl_s, role=row.role)


@router.get("/me")
def me(who: Principal = Depends(require(*ROLES))) -> dict:
    """Who the bearer is: role, subject (the responder id for units), org node, username for logins."""
    return {"role": who.role, "subject": who.subject, "node": who.node, "user": who.user}
