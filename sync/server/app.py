"""The HTTP API of the reference server (sync-protocol.md, base path ``/api/v1``).

Endpoints are plain functions run in the worker threads; the store does the work. Every error is
``{"error": {"code", "message"}}`` — FastAPI's own validation errors, unknown paths and
unexpected failures included. Responses are gzip-encoded when the client accepts it; request
bodies may be gzip-encoded too (``RequestBodyMiddleware``). The OpenAPI schema at
``/openapi.json`` (browsable at ``/docs``) describes exactly what is accepted and answered.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from sync.server.actions import apply_actions
from sync.server.hostile import AccessLogMasking
from sync.server.middleware import DEFAULT_MAX_BODY, InternalErrorMiddleware, RequestBodyMiddleware
from sync.server.store import DEFAULT_LIMIT, MAX_ACTIONS, MAX_LIMIT, CentralStore, Refusal, Terminal, server_time

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
# Leaders open a published relay URL: only the video schemes, with a host, printable ASCII after it.
RELAY_URL = r"^(http|https|rtsp|rtmp)://([A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?([/?][!-~]*)?$"


# -- wire models (they make the OpenAPI schema; pages are serialised by hand for speed) ---------------
class ErrorDetail(BaseModel):
    code: str = Field(description="a word for programs: unauthorized, bad_cursor, epoch_mismatch, …")
    message: str = Field(description="what went wrong, in words")


class ErrorBody(BaseModel):
    error: ErrorDetail


class Change(BaseModel):
    seq: int = Field(description="position in the feed; strictly increases within an epoch")
    type: str = Field(description="record type (unknown types are to be ignored by clients)")
    id: str
    op: Literal["upsert", "delete"]
    version: int = Field(description="increases with every change of the record")
    data: dict[str, Any] | None = Field(default=None, description="the record (upserts only)")


class ChangesPage(BaseModel):
    epoch: str
    changes: list[Change]
    next_cursor: str = Field(description="opaque: pass it back as `cursor` for the next page")
    has_more: bool
    server_time: datetime


# Request models are strict where JSON has a type of its own ("3" is not a number), so what the
# schema calls invalid is refused; instants come as strings and are parsed.
class ActionsRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    terminal: StrictStr | None = Field(default=None, description="the sending terminal's name (informative)")
    actions: list[dict[str, Any]] = Field(
        description=(
            f"at most {MAX_ACTIONS} (413 above). Each is checked on its own and answered in `results`: "
            "warning.acknowledge {id, type, warning, by, at, note}; warning.dispose {…, measure: "
            "supervise|correct|explain, note (required)}; bookmark.create {id, type, camera_id, at, note, by}; "
            "case.note {id, type, case_id, note, at, by}."
        ),
        json_schema_extra={"maxItems": MAX_ACTIONS},
    )


class OriginalOutcome(BaseModel):
    status: Literal["applied", "rejected"]
    code: str | None = None


class ActionResult(BaseModel):
    id: str | None
    status: Literal["applied", "duplicate", "rejected"]
    code: str | None = Field(default=None, description="why it was rejected: invalid, superseded, unknown_warning, …")
    message: str | None = None
    original: OriginalOutcome | None = Field(default=None, description="for a duplicate: what became of the first")


class ActionsResponse(BaseModel):
    results: list[ActionResult]


class CameraStatus(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: StrictStr
    online: StrictBool | None = None
    recording: StrictBool | None = None


class HeartbeatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    terminal: StrictStr | None = None
    sent_at: AwareDatetime | None = None
    cameras: list[CameraStatus] = Field(default_factory=list)
    warnings: dict[str, StrictInt] = Field(default_factory=dict)
    relay_url: Annotated[StrictStr, Field(max_length=2000, pattern=RELAY_URL)] | None = Field(
        default=None,
        description="where leaders find this terminal's relayed video (absent: unchanged; null: none): an "
        "http, https, rtsp or rtmp URL with a host (leaders open it: no javascript:, no file:///)",
    )


class HeartbeatResponse(BaseModel):
    server_time: datetime


class MeResponse(BaseModel):
    terminal: str = Field(description="the terminal's name")
    role: Literal["operator", "leader"]
    scope: str = Field(description="the org unit whose subtree the token sees")


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorBody} for s in statuses}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


_STATUS_CODES = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    503: "unavailable",
}


_bearer = HTTPBearer(auto_error=False, description="the terminal's token, issued by the administrator")


def _terminal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Terminal:
    """The terminal whose token the request carries (401 otherwise)."""
    if credentials is None or not credentials.credentials:
        raise Refusal(401, "unauthorized", "send the terminal's token: Authorization: Bearer <token>")
    store: CentralStore = request.app.state.store
    found = store.authenticate(credentials.credentials)
    if found is None:
        raise Refusal(401, "unauthorized", "unknown or revoked token")
    return found


Auth = Annotated[Terminal, Depends(_terminal)]


def _known_query(*names: str) -> Any:
    """A dependency refusing query parameters the endpoint does not take: a typo such as
    ``?limt=10`` is an error that names it, not a silent default."""
    allowed = frozenset(names)

    def check(request: Request) -> None:
        unknown = sorted(set(request.query_params.keys()) - allowed)
        if unknown:
            raise Refusal(400, "malformed", f"unknown query parameter(s): {', '.join(map(repr, unknown))}")

    return Depends(check)


def create_app(store: CentralStore, *, max_body_bytes: int = DEFAULT_MAX_BODY) -> FastAPI:
    app = FastAPI(
        title="HallWatch central supervision server",
        version="1",
        description="Sync protocol v1: the change feed, actions and heartbeats of HallWatch terminals.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.add_middleware(RequestBodyMiddleware, max_bytes=max_body_bytes)
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    app.add_middleware(InternalErrorMiddleware)  # outermost of ours: catches what the handlers do not
    app.state.store = store
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessLogMasking) for f in access.filters):
        access.addFilter(AccessLogMasking())  # ?token=… masked, the path escaped

    # -- errors -----------------------------------------------------------------------------------
    @app.exception_handler(Refusal)
    async def _refusal(_: Request, exc: Refusal) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, exc.code, exc.message, headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return error_response(exc.status_code, code, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
        where = ".".join(str(p) for p in first.get("loc", ()))
        if first.get("type") == "json_invalid":
            return error_response(400, "malformed", f"the body is not valid JSON: {first.get('msg')}")
        if first.get("loc", ("",))[0] in ("query", "header", "path", "cookie"):
            return error_response(400, "malformed", f"{where}: {first.get('msg')}")
        return error_response(422, "invalid", f"{where}: {first.get('msg')}")

    @app.exception_handler(OperationalError)
    async def _busy(_: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc.orig)
        return error_response(503, "unavailable", "the database is busy or unreachable; retry", {"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected failure: %r", exc, exc_info=exc)
        return error_response(500, "internal", "the server failed unexpectedly; retry later")

    router = APIRouter(prefix=API_PREFIX)

    @router.get(
        "/changes",
        dependencies=[_known_query("cursor", "limit")],
        response_model=ChangesPage,
        responses=_errors(400, 401, 410, 503),
        summary="One page of the change feed",
        description="Records changed after `cursor` (from the beginning without it) inside the terminal's scope, "
        "oldest first. 410 (`cursor_expired`, `epoch_mismatch`): drop the cursor and pull from the beginning.",
    )
    def get_changes(
        who: Auth,
        cursor: Annotated[str | None, Query(max_length=4096, description="`next_cursor` of the last page")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="changes per page")] = DEFAULT_LIMIT,
    ) -> Response:
        page = store.changes(who, cursor, limit)
        return Response(page.to_json(server_time(store.clock())), media_type="application/json")

    @router.post(
        "/actions",
        dependencies=[_known_query()],
        response_model=ActionsResponse,
        responses=_errors(400, 401, 403, 413, 422, 503),
        summary="Push operator actions (idempotent by id)",
        description="One result per action, in order: applied, duplicate or rejected (with a code). "
        "Committed durably before the answer. A leader token gets 403 for warning.* actions.",
    )
    def post_actions(body: ActionsRequest, who: Auth) -> Response:
        results = apply_actions(store, who, body.actions)
        return JSONResponse({"results": results})

    @router.post(
        "/heartbeat",
        dependencies=[_known_query()],
        response_model=HeartbeatResponse,
        responses=_errors(400, 401, 422, 503),
        summary="A terminal is alive (and where its relay is)",
    )
    def post_heartbeat(body: HeartbeatRequest, who: Auth) -> Response:
        status = body.model_dump(mode="json", include={"sent_at", "cameras", "warnings"})
        now = store.heartbeat(
            who, relay_url=body.relay_url, relay_given="relay_url" in body.model_fields_set, status=status
        )
        return JSONResponse({"server_time": server_time(now)})

    @router.get(
        "/me",
        dependencies=[_known_query()],
        response_model=MeResponse,
        responses=_errors(400, 401, 503),
        summary="Who the bearer token belongs to (a relay checks its viewers' tokens with it)",
    )
    def get_me(who: Auth) -> Response:
        return JSONResponse({"terminal": who.name, "role": who.role, "scope": who.scope})

    app.include_router(router)
    return app
