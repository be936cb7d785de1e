"""Errors the API answers with, and the handlers that give every error one JSON shape.

Body of every error: ``{"detail": message, "field": the field it is about, "errors": [{"field",
"message"}...]}``. Fields are written as in the request: ``config.budget``,
``minutes[3].spend.fans``, ``plan_id``; ``body`` for the request body as a whole.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from optimizer.planner.plan import SolverFailure

log = logging.getLogger("optimizer.api")


class ApiError(Exception):
    """An answer other than success: HTTP `status`, a message and the field it is about."""

    status = 400

    def __init__(self, message: str, field: str,
                 errors: Sequence[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = list(errors) if errors else [(field, message)]


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class Invalid(ApiError):
    status = 422


def error_body(message: str, field: str, errors: Iterable[tuple[str, str]]) -> dict:
    return {"detail": message, "field": field,
            "errors": [{"field": f, "message": m} for f, m in errors]}


def field_name(loc: Sequence[object]) -> str:
    """A pydantic location as a request field: ("body", "minutes", 3, "spend") ->
    minutes[3].spend; path and query parameters by their name."""
    parts = list(loc)
    if parts and parts[0] in ("body", "path", "query", "header"):
        parts = parts[1:]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


NUMBER_ERRORS = {"int_type", "float_type"}


def _number_words(error: dict) -> str | None:
    """What to say when a request body gives a number as a string or a boolean (bodies are
    strict, `schemas._In`); None for any other error."""
    value = error.get("input")
    if error.get("type") not in NUMBER_ERRORS or "body" not in error.get("loc", ())[:1]:
        return None
    if isinstance(value, bool):
        return f"got {str(value).lower()}, not a number: send a JSON number"
    if isinstance(value, str):
        return f"got the string {json.dumps(value)}: send a JSON number, without quotes"
    return None


def _validation_item(error: dict) -> tuple[str, str]:
    """(field, message) of one pydantic / FastAPI validation error."""
    loc = tuple(error.get("loc", ()))
    if error.get("type") == "json_invalid":
        reason = error.get("ctx", {}).get("error", "decode error")
        where = f" at character {loc[1]}" if len(loc) > 1 else ""
        return "body", f"the body is not valid JSON ({reason}{where})"
    return field_name(loc), _number_words(error) or str(error.get("msg", "invalid value"))


HTTP_FIELDS = {404: "path", 405: "method", 413: "body", 400: "body"}


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(error_body(error.message, error.field, error.errors),
                            status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        items = [_validation_item(e) for e in error.errors()] or [("body", "invalid request")]
        message = "; ".join(f"{f}: {m}" for f, m in items[:5])
        return JSONResponse(error_body(message, items[0][0], items), status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, error: HTTPException) -> JSONResponse:
        status, field = error.status_code, HTTP_FIELDS.get(error.status_code, "request")
        message = str(error.detail)
        if status == 404:
            message = "no such endpoint; see /docs for the API"
        if status == 400:  # a body FastAPI could not parse (e.g. JSON nested too deeply)
            status, field = 422, "body"
            message = (f"the body could not be read as JSON ({message}); send one JSON object "
                       "as /docs shows")
        return JSONResponse(error_body(message, field, [(field, message)]),
                            status_code=status, headers=error.headers)

    @app.exception_handler(DataError)
    async def _unstorable(_request: Request, error: DataError) -> JSONResponse:
        log.warning("a value the database refused: %s", error.orig)
        message = "a value in the request cannot be stored (e.g. a NUL character)"
        return JSONResponse(error_body(message, "body", [("body", message)]), status_code=422)

    @app.exception_handler(SolverFailure)
    async def _unsolvable(_request: Request, error: SolverFailure) -> JSONResponse:
        # only extreme values in a request have driven HiGHS into numerical trouble
        log.warning("the solver failed on a request's program: %s", error)
        message = (f"{error}; the request's values (budget, floors, caps) are likely too "
                   "extreme to plan with: bring them into a realistic range")
        return JSONResponse(error_body(message, "config", [("config", message)]),
                            status_code=422)

    @app.exception_handler(Exception)
    async def _internal(request: Request, error: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body(f"internal error: {type(error).__name__}", "request",
                                       [("request", "internal error")]), status_code=500)
