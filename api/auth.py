"""Bearer-token auth. Tokens come from settings (`LOOKOUT_TOKENS`), each mapped to a role and subject.

Roles: operator (command room), engineer (configs, read-only ops data), unit (one responder, whose
id is the subject), service (machine clients such as GPS gateways), admin (everything).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request, status

from api.settings import Settings

ROLES = ("operator", "engineer", "unit", "service", "admin")


@dataclass(frozen=True)
class Principal:
    role: str
    subject: str
    node: str | None = None  # org node: the user sees incidents of this node and below

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
        principal = _lookup(settings, token) if token else None
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
