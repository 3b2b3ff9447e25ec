"""Builds a service: FastAPI app under /api/v1, health, metrics, error bodies, and a lifespan that
migrates the schema, then runs the outbox relay, the consumers and any background loops, and
stops them gracefully (stop taking work, finish the batch, flush the relay)."""

import asyncio
import datetime as dt
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable, Literal
from uuid import uuid4

import sqlalchemy as sa
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import make_asgi_app
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine
from fastapi.routing import iter_route_contexts
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from shared.backbone.service_spec import ServiceSpec
from shared.backbone import kafka, openapi, outages, rest
from shared.backbone.auth import Principal, Role, TokenVerifier, require_roles
from shared.backbone.clock import AdjustableClock, Clock, SystemClock
from shared.backbone.consumer import EventConsumer
from shared.backbone.database import create_engine
from shared.backbone.errors import ConflictingState, DomainError, RuleKind, problem
from shared.backbone.event_routing import HandlerTable, dispatcher, topics_of
from shared.backbone.logging import configure_logging, correlation_id, get_logger
from shared.backbone.metrics import HTTP_LATENCY
from shared.backbone.outages import DATABASE, KAFKA
from shared.backbone.migrations import upgrade_to_head
from shared.backbone.outbox import OutboxRelay
from shared.backbone.settings import ServiceSettings
from shared.backbone.unit_of_work import UnitOfWork, Views
from shared.events.topics import dead_letter_topic

log = get_logger(__name__)


@dataclass
class ServiceContext:
    """What a running service's use cases need; one per process, reached via `context(request)`."""

    spec: ServiceSpec
    settings: ServiceSettings
    engine: AsyncEngine
    relay: OutboxRelay
    clock: Clock
    consumers: list[EventConsumer] = field(default_factory=list)
    views: Views | None = None

    def uow(self, principal: Principal | None = None, **kwargs) -> UnitOfWork:
        kwargs.setdefault("actor", principal.subject if principal else None)
        return UnitOfWork(self.engine, on_commit=self.relay.wake, views=self.views, clock=self.clock, **kwargs)

    def producer(self):
        return kafka.idempotent_producer(self.settings.kafka(), f"{self.spec.name}-{uuid4().hex[:6]}")


@dataclass(frozen=True)
class Subscription:
    """A consumer of the service: its name (the consumer group and inbox key; the service's name
    when empty) and its table of event type -> handler, from which its topics follow."""

    handlers: HandlerTable
    name: str = ""
    guard: sa.TextClause | None = None  # a statement each of its transactions runs first (consumer.py `guard`)

    @property
    def topics(self) -> list[str]:
        return topics_of(self.handlers)


BackgroundLoop = Callable[[ServiceContext, asyncio.Event], Awaitable[None]]


@dataclass(frozen=True)
class ServiceDefinition:
    spec: ServiceSpec
    routers: list[APIRouter]
    versions_dir: Path
    produces: list[str] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    background: list[BackgroundLoop] = field(default_factory=list)
    pages: list[APIRouter] = field(default_factory=list)  # outside /api/v1: web pages (clm's /sign/{token})
    views: Views | None = None  # the query tables of each unit of work (`uow.views`)
    settings_class: type[ServiceSettings] = ServiceSettings
    make_clock: Callable[[ServiceSettings], Clock] = lambda s: AdjustableClock() if s.allow_clock_control else SystemClock()
    description: str = ""


async def context(request: Request) -> ServiceContext:  # async: FastAPI runs a plain def in a worker thread
    return request.app.state.context


def create_app(definition: ServiceDefinition, settings: ServiceSettings | None = None) -> FastAPI:
    """Settings are read from the environment when the app starts, unless given."""
    spec = definition.spec

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        settings = app.state.settings = app.state.settings or definition.settings_class()
        app.state.token_verifier = TokenVerifier(
            secret=settings.auth_jwt_secret.get_secret_value() if settings.auth_jwt_secret else None,
            jwks_url=settings.auth_jwks_url,
            audience=settings.auth_audience,
            issuer=settings.auth_issuer,
            max_lifetime=dt.timedelta(seconds=settings.auth_max_token_lifetime_seconds),
        )
        configure_logging(spec.name, settings.log_level)
        engine = create_engine(settings.database_url, search_path=spec.schema, application_name=spec.name,
                               pool_size=settings.db_pool_size)
        await upgrade_to_head(engine, spec.schema, definition.versions_dir)
        relay = OutboxRelay(
            engine,
            lambda: kafka.idempotent_producer(settings.kafka(), f"{spec.name}-relay"),
            service=spec.name,
            batch_size=settings.relay_batch_size,
            reader_factory=lambda: kafka.consumer(settings.kafka(), group_id=None, enable_auto_commit=False,
                                                  client_id=f"{spec.name}-relay-read-back"),
        )
        ctx = ServiceContext(spec, settings, engine, relay, definition.make_clock(settings), views=definition.views)
        app.state.context = ctx
        for sub in definition.subscriptions:
            ctx.consumers.append(
                EventConsumer(
                    engine,
                    name=sub.name or spec.name,
                    topics=sub.topics,
                    handle=dispatcher(sub.handlers),
                    kafka=settings.kafka(),
                    producer_factory=ctx.producer,
                    on_commit=relay.wake,
                    max_attempts=settings.consumer_max_attempts,
                    views=definition.views,
                    clock=ctx.clock,
                    guard=sub.guard,
                )
            )
        topics = set(definition.produces) | {t for s in definition.subscriptions for t in s.topics}
        topics |= {dead_letter_topic(c.name) for c in ctx.consumers}
        try:
            await kafka.ensure_topics(settings.kafka(), sorted(topics))
        except Exception as exc:  # the broker may come later; auto-creation or the next start covers it
            log.warning("kafka.ensure_topics_failed", error=repr(exc))
        stop = asyncio.Event()
        workers = [asyncio.create_task(relay.run(stop), name="outbox-relay")]
        workers += [asyncio.create_task(c.run(stop), name=f"consumer-{c.name}") for c in ctx.consumers]
        workers += [asyncio.create_task(loop(ctx, stop), name=loop.__name__) for loop in definition.background]
        log.info("service.started", port=settings.port)
        try:
            yield
        finally:
            stop.set()
            done, pending = await asyncio.wait(workers, timeout=settings.shutdown_grace_seconds)
            for task in pending:
                task.cancel()
            for task in done:
                if task.exception():
                    log.error("service.worker_failed", worker=task.get_name(), error=repr(task.exception()))
            backlog = await relay.flush(timeout=5.0)
            await relay.close()
            await engine.dispose()
            log.info("service.stopped", unpublished=backlog.count if backlog else None)

    app = FastAPI(
        title=f"{spec.name} service",
        version="1.0.0",
        description=definition.description or spec.summary,
        lifespan=lifespan,
        dependencies=[Depends(rest.json_body), Depends(rest.declared_input)],
    )
    app.state.settings = settings
    _install_middleware(app, spec.name)
    _install_error_handlers(app)
    app.include_router(_health_router())
    app.include_router(_ops_router(), prefix="/api/v1")
    for router in definition.routers:
        app.include_router(router, prefix="/api/v1")
    for router in definition.pages:
        app.include_router(router)
    app.mount("/metrics", make_asgi_app())
    openapi.install(app)
    return app


def serve(definition: ServiceDefinition) -> None:
    settings = definition.settings_class()
    uvicorn.run(
        create_app(definition, settings),
        host="0.0.0.0",
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        # Longer than any client's or load balancer's idle timeout (httpx: 5 s, ALB: 60 s): with
        # uvicorn's 5 s default a client reusing a connection as the server closes it got no
        # answer at all (seen as ReadError in the fault suite).
        timeout_keep_alive=settings.http_keep_alive_seconds,
    )


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    @router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness, "description": "not ready"}})
    async def readyz(request: Request) -> JSONResponse:
        """Ready when the database and the broker answer; `unavailable` says why one does not."""
        ctx: ServiceContext | None = getattr(request.app.state, "context", None)
        if ctx is None:
            unavailable = {DATABASE: "the service is starting", KAFKA: "the service is starting"}
        else:
            database, broker = await asyncio.gather(_database_down(ctx.engine), _kafka_down(ctx.settings))
            unavailable = {k: why for k, why in ((DATABASE, database), (KAFKA, broker)) if why}
        checks = {DATABASE: DATABASE not in unavailable, KAFKA: KAFKA not in unavailable}
        body = {"status": "not_ready" if unavailable else "ready", "checks": checks, "unavailable": unavailable}
        return JSONResponse(body, status_code=503 if unavailable else 200)

    return router


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, bool] = Field(description="each dependency: reachable or not")
    unavailable: dict[str, str] = Field(description="each unreachable dependency, with why in a few words")


_READY_TIMEOUT = 3.0


async def _database_down(engine: AsyncEngine) -> str | None:
    """Why a session cannot run a query now, or None when it can."""
    try:
        async with asyncio.timeout(_READY_TIMEOUT):
            async with engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        return None
    except TimeoutError:
        return f"no answer within {_READY_TIMEOUT:g}s"
    except Exception as exc:
        found = outages.outage(exc)
        return found.reason if found else f"{type(exc).__name__}: {exc}"[:300]


async def _kafka_down(settings: ServiceSettings) -> str | None:
    if await kafka.broker_reachable(settings.kafka(), timeout=_READY_TIMEOUT):
        return None
    return f"no broker answered at {settings.kafka_bootstrap_servers} within {_READY_TIMEOUT:g}s"


class ClockSetting(BaseModel):
    now: AwareDatetime


def _ops_router() -> APIRouter:
    router = APIRouter(prefix="/ops", tags=["operations"])

    @router.get("/outbox", dependencies=[Depends(require_roles(Role.SRE))])
    async def outbox_backlog(ctx: ServiceContext = Depends(context)) -> dict:
        """Events recorded but not yet acknowledged by Kafka."""
        backlog = await ctx.relay.backlog()
        return {"unpublished": backlog.count, "oldest_unpublished_age_seconds": backlog.oldest_age_seconds}

    @router.get("/clock", dependencies=[Depends(require_roles(Role.SRE))])
    @openapi.not_answering(503)  # reads no database
    async def get_clock(ctx: ServiceContext = Depends(context)) -> dict:
        return {"now": ctx.clock.now().isoformat(), "adjustable": isinstance(ctx.clock, AdjustableClock)}

    @router.put("/clock", dependencies=[Depends(require_roles(Role.SRE))])
    @openapi.not_answering(503)
    async def set_clock(body: ClockSetting, ctx: ServiceContext = Depends(context)) -> dict:
        """Moves this service's time. Only where ALLOW_CLOCK_CONTROL=true (dev and test stacks)."""
        if not isinstance(ctx.clock, AdjustableClock):
            raise ConflictingState("clock.control_disabled", "this service runs on the system clock", field="now")
        ctx.clock.set(body.now)
        return {"now": ctx.clock.now().isoformat(), "adjustable": True}

    return router


def _install_middleware(app: FastAPI, service: str) -> None:
    app.add_middleware(_CorrelateAndMeasure, service=service)


class _CorrelateAndMeasure:
    """Binds the request's correlation id (x-correlation-id, else a new one) for the logs, echoes
    it on the response and observes the latency per route and status. A plain ASGI middleware:
    Starlette's `@app.middleware("http")` runs the app in a task of its own and streams the
    response through a memory channel, ~10 % of CLM's CPU per command (py-spy, 2026-12-04)."""

    def __init__(self, app, service: str):
        self.app, self.service = app, service

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cid = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-correlation-id"), "") or str(uuid4())
        token = correlation_id.set(cid)
        started = time.perf_counter()

        async def answer(message):
            if message["type"] == "http.response.start":
                route = scope.get("route")
                HTTP_LATENCY.labels(self.service, scope["method"], getattr(route, "path", "unmatched"),
                                    message["status"]).observe(time.perf_counter() - started)
                MutableHeaders(scope=message)["x-correlation-id"] = cid
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            correlation_id.reset(token)


# The one place where a kind of refusal becomes an HTTP status.
STATUS_OF = {RuleKind.INVALID: 422, RuleKind.CONFLICT: 409, RuleKind.NOT_FOUND: 404, RuleKind.TOO_LARGE: 413,
             RuleKind.FORBIDDEN: 403}
TITLE_OF = {RuleKind.INVALID: "Rule violated", RuleKind.CONFLICT: "Conflict", RuleKind.NOT_FOUND: "Not found",
            RuleKind.TOO_LARGE: "Content too large", RuleKind.FORBIDDEN: "Forbidden"}
RETRY_AFTER_SECONDS = 5  # how long a client refused by a dependency outage is asked to wait
RULE_OF_HTTP = {404: "request.unknown_path", 405: "request.method_not_allowed"}  # the router's own refusals


def _install_error_handlers(app: FastAPI) -> None:
    async def dependency_unavailable(request: Request, exc: Exception) -> JSONResponse:
        """An outage of the database or the broker (outages.py): 503, one warning line. The unit of
        work has rolled its transaction back by now. Anything else is the server error it was."""
        found = outages.outage(exc)
        if found is None:
            raise exc
        log.warning("dependency.unavailable", dependency=found.dependency, reason=found.reason,
                    method=request.method, path=request.url.path)
        body = problem(503, "Service unavailable", "service.unavailable",
                       f"{found.dependency} is unavailable; retry after {RETRY_AFTER_SECONDS} seconds",
                       dependency=found.dependency)
        return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                            media_type="application/problem+json")

    for raised_as in outages.RAISED_AS:
        app.add_exception_handler(raised_as, dependency_unavailable)

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        errors = [{"field": exc.field, "rule": exc.rule, "message": exc.message}] if exc.field else []
        status = STATUS_OF[exc.kind]
        body = problem(status, TITLE_OF[exc.kind], exc.rule, exc.message, errors, **exc.extra)
        return JSONResponse(body, status_code=status, media_type="application/problem+json")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path")), "rule": e["type"], "message": e["msg"]}
            for e in exc.errors()
        ]
        body = problem(422, "Invalid request", "request.invalid", "the request does not match the schema", errors)
        return JSONResponse(body, status_code=422, media_type="application/problem+json")

    @app.exception_handler(StarletteHTTPException)  # FastAPI's HTTPException, and the router's 404 and 405
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if unreadable := rest.unreadable_body(exc):
            return await invalid_request(request, unreadable)
        rule = RULE_OF_HTTP.get(exc.status_code, f"http.{exc.status_code}")
        detail = exc.detail if isinstance(exc.detail, dict) else {"rule": rule, "message": str(exc.detail)}
        extra = {k: v for k, v in detail.items() if k not in ("rule", "message")}
        body = problem(exc.status_code, "Request refused", detail["rule"], detail["message"], **extra)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette names the methods of one route; a path may have several
            headers["Allow"] = ", ".join(_methods_of(request))
        return JSONResponse(body, status_code=exc.status_code, headers=headers, media_type="application/problem+json")


def _methods_of(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        # The path with its convertors (`{job_id:uuid}`): /imports/links is not an import's id.
        path = getattr(route, "path", None) or getattr(route, "path_format", None)
        route_methods = getattr(route, "methods", None)
        if path and route_methods and compile_path(path)[0].match(request.url.path):
            methods |= set(route_methods)
    return sorted(methods)
