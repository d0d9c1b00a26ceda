"""Safety net: values the database cannot hold are the client's error (422), not a server error.

Routes bound their parameters (api.deps); this catches what a route forgot, e.g. an id beyond
SQLite's 64-bit or PostgreSQL's int4 range.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

log = logging.getLogger(__name__)


async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
    log.info("out-of-range value on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return JSONResponse({"detail": "a value is out of the range the store can hold"}, status_code=422)


def install(app: FastAPI) -> None:
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range)
