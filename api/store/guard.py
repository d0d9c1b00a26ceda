"""Append-only audit through the store API: sessions refuse to update or delete audit rows.

The database refuses too (triggers from migration 0002, on SQLite and PostgreSQL); this guard
fails earlier, with a clear message, for code in this process.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from api.store.models import AuditRow, OrderEventRow

APPEND_ONLY = (OrderEventRow, AuditRow)


class AppendOnlyViolation(PermissionError):
    pass


def _before_flush(session: Session, _ctx, _instances) -> None:  # noqa: ANN001
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, APPEND_ONLY) and (obj in session.deleted or session.is_modified(obj)):
            verb = "delete" if obj in session.deleted else "update"
            raise AppendOnlyViolation(f"{obj.__tablename__} is append-only: {verb} refused")


def _do_orm_execute(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        if state.bind_mapper.class_ in APPEND_ONLY:
            raise AppendOnlyViolation(f"{state.bind_mapper.class_.__tablename__} is append-only: "
                                      f"bulk {'update' if state.is_update else 'delete'} refused")


def install_append_only_guard(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "before_flush", _before_flush)
    event.listen(factory, "do_orm_execute", _do_orm_execute)
