"""User accounts for password login: create, list, disable, authenticate (Argon2id hashes).

Plain functions over a session, so the API (`POST /api/auth/token`) and the CLI (`lookout users`)
share them. Every change is written to the append-only audit log in the same transaction.
"""

from __future__ import annotations

import functools
from typing import Any

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.settings import Role
from api.store.models import AuditRow, UserRow

USERNAME = r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$"
ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_HASHER = PasswordHash((Argon2Hasher(),))


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a wrong name costs as long as a wrong
    password and response times do not tell which usernames exist (made once, on first use)."""
    return _HASHER.hash("lookout-no-such-user")


class UserExists(ValueError):
    pass


class UnknownUser(LookupError):
    pass


class NewUser(BaseModel):
    """What `lookout users add` (or a future admin route) may set; validated before anything is hashed."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=USERNAME, description="Login name")
    password: str = Field(min_length=10, max_length=256, repr=False, description="At least 10 characters")
    role: Role = Field(description="operator, engineer, unit, service or admin")
    unit: str | None = Field(default=None, max_length=64, pattern=ID, description="Responder id; role unit only")
    node: str | None = Field(default=None, max_length=64, pattern=ID, description="Org node (org.yaml)")

    @model_validator(mode="after")
    def _unit_matches_role(self) -> "NewUser":
        if self.role == "unit" and not self.unit:
            raise ValueError("a user of role unit needs `unit` (the responder id it acts for)")
        if self.role != "unit" and self.unit:
            raise ValueError("`unit` is only for role unit")
        return self


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def user_view(u: UserRow) -> dict[str, Any]:
    """A user without its hash."""
    return {"username": u.username, "role": u.role, "unit": u.unit, "node": u.node, "disabled": u.disabled,
            "created_at": u.created_at, "last_login_at": u.last_login_at}


def audit(s: Session, *, at: float, actor: str, origin: str, action: str, username: str, **detail: Any) -> None:
    # Never the password: only who, when, from where and what happened.
    s.add(AuditRow(at=at, actor=actor[:128], origin=origin[:128], action=action, target=f"user:{username}"[:128],
                   detail=detail))


def add_user(s: Session, new: NewUser, *, now: float, actor: str, origin: str) -> UserRow:
    if s.scalar(select(UserRow.id).where(UserRow.username == new.username)) is not None:
        raise UserExists(f"user {new.username!r} already exists")
    row = UserRow(username=new.username, password_hash=hash_password(new.password), role=new.role, unit=new.unit,
                  node=new.node, disabled=False, created_at=now)
    s.add(row)
    audit(s, at=now, actor=actor, origin=origin, action="user.add", username=new.username, role=new.role,
          unit=new.unit, node=new.node)
    s.commit()
    return row


def list_users(s: Session) -> list[UserRow]:
    return list(s.scalars(select(UserRow).order_by(UserRow.username)))


def set_disabled(s: Session, username: str, disabled: bool, *, now: float, actor: str, origin: str) -> UserRow:
    row = s.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise UnknownUser(f"no user {username!r}")
    row.disabled = disabled
    audit(s, at=now, actor=actor, origin=origin, action="user.disable" if disabled else "user.enable",
          username=username)
    s.commit()
    return row


def active_user(s: Session, username: str) -> UserRow | None:
    """The user if it exists and is not disabled (one indexed lookup: done on every JWT request)."""
    row = s.scalar(select(UserRow).where(UserRow.username == username))
    return row if row is not None and not row.disabled else None


def authenticate(s: Session, username: str, password: str, *, now: float, origin: str) -> UserRow | None:
    """The user when the password matches and the account is enabled; every attempt is audited."""
    row = s.scalar(select(UserRow).where(UserRow.username == username))
    ok = _HASHER.verify(password, row.password_hash if row is not None else _dummy_hash())
    if row is None or not ok or row.disabled:
        reason = "unknown user" if row is None else "wrong password" if not ok else "disabled"
        audit(s, at=now, actor=f"login:{username}", origin=origin, action="login.failed", username=username,
              reason=reason)
        s.commit()
        return None
    row.last_login_at = now
    audit(s, at=now, actor=f"{row.role}:{username}", origin=origin, action="login", username=username)
    s.commit()
    return row
