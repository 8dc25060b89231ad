"""What an administrator watches: Prometheus metrics, request ids and logs with timestamps (JSON on a server).

Counters of what happens (requests, their latency, positions stored) live here and are incremented where
it happens; gauges of a process's state (the leader, the pool, CoT connections, live streams, the alert
queues) are read at each scrape by a function the application gives (``StateGauges``), so this module
knows no capability. Every log line carries the request id (``X-Request-ID``: the caller's if it sent a
sane one, else made here, and returned), so a line in a web process's log, nginx's and a client's error
report can be joined.
"""

from __future__ import annotations

import logging
import logging.config
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from asgi_correlation_id import CorrelationIdFilter
from prometheus_client import CollectorRegistry, Counter, Histogram, PlatformCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from pythonjsonlogger.core import RESERVED_ATTRS
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METRICS = CollectorRegistry()
ProcessCollector(registry=METRICS)  # CPU, memory, open files of this process
PlatformCollector(registry=METRICS)

REQUESTS = Counter("peacewatch_http_requests", "HTTP requests answered, by route template and status",
                   ["method", "route", "status"], registry=METRICS)
LATENCY = Histogram("peacewatch_http_request_duration_seconds", "Time to answer an HTTP request (a live stream: its whole life)",
                    ["method", "route"], registry=METRICS,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0))
POSITIONS = Counter("peacewatch_positions_stored", "Positions stored (duplicates not counted), by the door they came in",
                    ["source"], registry=METRICS)
UNMATCHED = "unmatched"  # a path no route takes: one label for all, so a scanner cannot grow the series


@dataclass(frozen=True)
class Gauge:
    """One gauge (or, with ``counter``, a counter kept elsewhere) as read at a scrape; ``values`` by label value."""

    name: str
    help: str
    values: Mapping[str, float] | float
    label: str = ""
    counter: bool = False


@dataclass(eq=False)
class StateGauges(Collector):
    """A process's state, read at each scrape by ``read`` (the application's function)."""

    read: Callable[[], Iterable[Gauge]]
    failures: int = field(default=0)

    def describe(self) -> Iterable[Any]:
        return []  # known at a scrape only: nothing read when registered

    def collect(self) -> Iterable[Any]:
        try:
            gauges = list(self.read())
        except Exception:
            self.failures += 1
            log.warning("metrics: the state could not be read", exc_info=True)
            gauges = []
        for gauge in gauges:
            family_type = CounterMetricFamily if gauge.counter else GaugeMetricFamily
            if isinstance(gauge.values, Mapping):
                family = family_type(gauge.name, gauge.help, labels=[gauge.label])
                for label, value in gauge.values.items():
                    family.add_metric([label], value)
            else:
                family = family_type(gauge.name, gauge.help, value=gauge.values)
            yield family
        yield GaugeMetricFamily("peacewatch_metrics_state_failures", "Scrapes whose state could not be read", value=self.failures)


log = logging.getLogger(__name__)


class RequestMetrics:
    """ASGI middleware: counts and times every HTTP request by its route's template (``/api/v1/alerts/{alert_id}``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            method = scope["method"] if template != UNMATCHED else "other"
            REQUESTS.labels(method, template, str(status)).inc()
            LATENCY.labels(method, template).observe(time.perf_counter() - began)


class CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]  # a StreamHandler of text, as logging's own
    """A handler writing to whatever ``sys.stderr`` is when a line is written, not when logging was set up: a command
    run inside another program (a test's runner swaps stderr and closes it after) never writes to a closed stream."""

    @property  # read each time instead of kept: the point of this handler
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def sane_request_id(value: str) -> bool:
    """A caller's X-Request-ID kept as given (nginx's $request_id, a UUID, a client's own): short, printable, no
    spaces or quotes that could forge a log line; anything else is replaced by one made here."""
    return REQUEST_ID.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex


def log_config(log_format: str) -> dict[str, Any]:
    """The logging of a server process (uvicorn's ``log_config``): timestamps, the request id, and the
    application's own INFO messages (a leader taken or lost, migrations, prunes, lockouts); one JSON object
    per line when ``log_format`` is json, for the journal and whatever reads it."""
    if log_format == "json":
        formatter: dict[str, Any] = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid",
                              "correlation_id": "request_id"},
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            "reserved_attrs": [*RESERVED_ATTRS, "color_message"],  # uvicorn's message again, with terminal colours
        }
    else:
        formatter = {"format": "%(asctime)s %(levelname)-7s [%(correlation_id)s] %(name)s: %(message)s",
                     "datefmt": "%Y-%m-%d %H:%M:%S%z"}
    handler = {"()": CurrentStderr, "formatter": "default", "filters": ["request_id"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "asgi_correlation_id.CorrelationIdFilter", "default_value": "-"}},
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "peacewatch": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "alembic": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "asgi_correlation_id": {"level": "ERROR"},  # a replaced X-Request-ID is not worth a line per request
        },
    }


@contextmanager
def logging_while(log_format: str, *names: str) -> Iterator[None]:
    """The loggers ``names`` write lines as a server's do while the block runs, and are left as they were after:
    a command (``db upgrade``) shows its migrations without changing the logging of whatever runs it."""
    config = log_config(log_format)
    handler = CurrentStderr()
    handler.setFormatter(logging.config.DictConfigurator(config).configure_formatter(config["formatters"]["default"]))
    handler.addFilter(CorrelationIdFilter(default_value="-"))
    saved = [(logging.getLogger(name), logging.getLogger(name).level, logging.getLogger(name).propagate) for name in names]
    for logger, _level, _propagate in saved:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, level, propagate in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate


def configure_logging(log_format: str) -> None:
    """The same logging for a command that serves no HTTP (``peacewatch work``)."""
    logging.config.dictConfig(log_config(log_format))
