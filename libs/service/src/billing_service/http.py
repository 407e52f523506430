"""The FastAPI app factory shared by every service: health, readiness, metrics, auth, problems, tracing."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import trace
from opentelemetry.propagate import extract
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from billing_service.auth import TokenVerifier
from billing_service.logging import configure_logging
from billing_service.problems import FieldError, Problem, install_problem_handlers, invalid, problem_response
from billing_service.settings import ServiceSettings
from billing_service.telemetry import configure_tracing

ReadinessCheck = Callable[[], Awaitable[bool]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

HTTP_REQUESTS = Counter(
    "billing_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "billing_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)
UNAUTHENTICATED_PATHS = ("/healthz", "/readyz", "/metrics", "/asyncapi.json")
# Served to the cluster (Prometheus, developers), never to the internet through the ingress.
INTERNAL_PATHS = frozenset(
    {"/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/asyncapi.json"}
)
# C0 controls and DEL: no identifier, code, date or search term of the API holds one, and PostgreSQL
# refuses NUL outright. They are refused in the path and the query with the parameter's name.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


class BodyLimit:
    """ASGI middleware: refuse a body over `limit` bytes by its Content-Length, or, without one
    (chunked), as soon as the bytes received pass the limit, so no handler ever buffers more."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or len(length) > 18 or int(length) > self.limit):
            problem = Problem(413, "Content Too Large", f"The body is larger than {self.limit} bytes.")
            await problem_response(problem)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited, send)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read as it streams in and refused (413) once it passes `limit` bytes."""
    length = request.headers.get("content-length", "")
    if length.isascii() and length.isdigit() and len(length) <= 18 and int(length) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # what Request.body() returns from now on (idempotency hashes it again)
    return body


def control_character_errors(request: Request) -> list[FieldError]:
    errors = [
        FieldError(name if not _CONTROL.search(name) else "query", "contains control characters")
        for name, value in request.query_params.multi_items()
        if _CONTROL.search(name) or _CONTROL.search(value)
    ]
    if _CONTROL.search(request.url.path):
        errors.insert(0, FieldError("path", "contains control characters"))
    return errors


def _route_template(app: Any, scope: Scope) -> str:
    """The route's template ("/patients/{patient_id}"), never the concrete path or query."""
    for route in app.router.routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", "unmatched"))
    return "unmatched"


class RefuseControlCharacters:
    """ASGI middleware: control characters in the path or query are refused (422 naming the
    parameter), and the internal paths (/metrics, /docs, ...) answer 404 through a proxy."""

    def __init__(self, app: ASGIApp, internal_paths_through_proxy: bool) -> None:
        self.app = app
        self.internal_paths_through_proxy = internal_paths_through_proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        errors = control_character_errors(request)
        if errors:
            problem = invalid(errors, "Control characters are not allowed in the URL.")
            await problem_response(problem)(scope, receive, send)
            return
        if (
            request.url.path in INTERNAL_PATHS
            and "x-forwarded-for" in request.headers
            and not self.internal_paths_through_proxy
        ):
            await problem_response(Problem(404, "Not Found", "There is nothing here."))(scope, receive, send)
            return
        await self.app(scope, receive, send)


class Observe:
    """ASGI middleware: a server span per request (joining the caller's trace) and the request
    counter and latency histogram, labelled by route template, never by concrete path."""

    def __init__(self, app: ASGIApp, service_name: str, tracer: trace.Tracer) -> None:
        self.app = app
        self.service_name = service_name
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = _route_template(scope["app"], scope)
        method = scope["method"]
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before it starts a response
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with self.tracer.start_as_current_span(
            f"{method} {route}",
            context=extract(headers),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": method, "http.route": route},
        ) as span:
            try:
                await self.app(scope, receive, sending)
            finally:
                span.set_attribute("http.response.status_code", status)
                if route not in UNAUTHENTICATED_PATHS:
                    HTTP_REQUESTS.labels(self.service_name, method, route, str(status)).inc()
                    HTTP_LATENCY.labels(self.service_name, method, route).observe(
                        time.perf_counter() - started
                    )


def create_app(
    settings: ServiceSettings,
    *,
    title: str,
    routers: Sequence[APIRouter] = (),
    readiness_checks: Sequence[ReadinessCheck] = (),
    lifespan: Lifespan | None = None,
    version: str = "1.0.0",
) -> FastAPI:
    configure_logging(settings.log_level)
    configure_tracing(settings.service_name)

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        if lifespan is None:
            yield
        else:
            async with lifespan(app):
                yield

    app = FastAPI(title=title, version=version, lifespan=app_lifespan)
    app.state.settings = settings
    app.state.token_verifier = TokenVerifier(settings)
    install_problem_handlers(app)
    app.add_middleware(BodyLimit, limit=settings.max_request_bytes)

    # Plain ASGI, outermost first: starlette's @app.middleware("http") (BaseHTTPMiddleware) runs each
    # request through an extra task and memory streams, per middleware.
    app.add_middleware(
        RefuseControlCharacters, internal_paths_through_proxy=settings.internal_paths_through_proxy
    )
    app.add_middleware(Observe, service_name=settings.service_name, tracer=trace.get_tracer("billing.http"))

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        results: dict[str, Any] = {}
        for check in readiness_checks:
            try:
                results[check.__name__] = await check()
            except Exception:
                results[check.__name__] = False
        ready = all(results.values())
        return JSONResponse({"ready": ready, "checks": results}, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    return app
