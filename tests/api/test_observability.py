"""What an administrator watches: /metrics in Prometheus's format, request ids, the application's own log lines."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from asgi_correlation_id import correlation_id
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from peacewatch.core.db import utcnow
from peacewatch.core.observability import log_config


@pytest.fixture
def local(app: FastAPI) -> Iterator[TestClient]:
    """A client on this machine's loopback, as a Prometheus beside the process scrapes it."""
    with TestClient(app, client=("127.0.0.1", 40000)) as client:
        yield client


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_are_prometheus_text_counting_requests_by_route_and_positions_stored(
        local: TestClient, scenario: None, auth: Callable[[str], dict[str, str]]) -> None:
    before = samples(local.get("/metrics").text)
    ops = auth("ops")
    local.post("/api/v1/trackers", json={"code": "METRICS-1", "bound_users": ["ops"]}, headers=ops)
    start = utcnow().replace(microsecond=0) - timedelta(minutes=30)
    stored = local.post("/api/v1/positions", headers=ops, json={"positions": [
        {"tracker": "METRICS-1", "t": (start + timedelta(seconds=i)).isoformat(), "lat": 40.1, "lon": 46.7} for i in range(7)]})
    assert stored.status_code == 200, stored.text
    for alert_id in (987654, 987655):  # two ids, one route
        assert local.get(f"/api/v1/alerts/{alert_id}", headers=ops).status_code == 404
    answer = local.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    after = samples(answer.text)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0.0)

    assert grew("peacewatch_positions_stored_total", source="http") == 7
    assert grew("peacewatch_http_requests_total", method="POST", route="/api/v1/positions", status="200") == 1
    assert grew("peacewatch_http_requests_total", method="GET", route="/api/v1/alerts/{alert_id}", status="404") == 2
    assert grew("peacewatch_http_request_duration_seconds_count", method="POST", route="/api/v1/positions") == 1
    for name in ("peacewatch_leader", "peacewatch_live_streams", "peacewatch_metrics_state_failures", "process_cpu_seconds_total"):
        assert (name, ()) in after, name
    assert ("peacewatch_db_pool_connections", (("state", "in_use"),)) in after
    assert ("peacewatch_alerts_open", (("status", "open"),)) in after
    assert ("peacewatch_notices_waiting", (("status", "pending"),)) in after
    assert after[("peacewatch_metrics_state_failures", ())] == 0


def test_metrics_from_elsewhere_need_an_administrator(client: TestClient, scenario: None,
                                                      auth: Callable[[str], dict[str, str]]) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=auth("ops")).status_code == 403
    assert client.get("/metrics", headers=auth("liaison-a")).status_code == 403
    assert client.get("/metrics", headers=auth("admin")).status_code == 200


def test_forwarded_by_a_proxy_is_not_local(local: TestClient) -> None:
    assert local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 401


def test_a_request_id_is_taken_when_sane_made_otherwise_and_always_returned(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "nginx-7f3a.42"}).headers["X-Request-ID"] == "nginx-7f3a.42"
    made = client.get("/healthz", headers={"X-Request-ID": 'forged"\nline'}).headers["X-Request-ID"]
    assert len(made) == 32 and made.isalnum()
    other = client.get("/healthz").headers["X-Request-ID"]
    assert len(other) == 32 and other != made
    assert client.get("/api/v1/nothing-here").headers["X-Request-ID"]  # on errors too


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_log_line_has_its_time_level_and_request_id(log_format: str, monkeypatch: pytest.MonkeyPatch) -> None:
    configured = [*log_config(log_format)["loggers"], ""]  # every logger the config touches, and the root
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate, logging.getLogger(name).level)
             for name in configured}
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)  # the handler writes to whatever stderr is at the time
    try:
        logging.config.dictConfig(log_config(log_format))
        token = correlation_id.set("req-123")
        try:
            logging.getLogger("peacewatch.cluster").info("this process leads the cluster's periodic work")
        finally:
            correlation_id.reset(token)
    finally:
        for name, (handlers, propagate, level) in saved.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate
            logging.getLogger(name).setLevel(level)
    line = buffer.getvalue().strip()
    if log_format == "json":
        entry = json.loads(line)
        assert entry["request_id"] == "req-123" and entry["level"] == "INFO" and entry["logger"] == "peacewatch.cluster"
        assert entry["message"] == "this process leads the cluster's periodic work" and entry["time"].startswith("20")
    else:
        assert "[req-123] peacewatch.cluster: this process leads" in line and line.startswith("20")


def test_the_grafana_dashboard_reads_only_metrics_the_processes_export(local: TestClient) -> None:
    """deploy/grafana/peacewatch.json: every peacewatch_* series it asks for is one /metrics names."""
    import re
    from pathlib import Path

    dashboard = json.loads((Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "peacewatch.json").read_text())
    asked = {name for panel in dashboard["panels"] for target in panel["targets"]
             for name in re.findall(r"peacewatch_[a-z_]+", target["expr"])}
    exported = {family.name for family in text_string_to_metric_families(local.get("/metrics").text)}
    exported |= {f"{name}_total" for name in exported} | {f"{name}_bucket" for name in exported}
    assert asked and asked <= exported | {"peacewatch_cot_connections", "peacewatch_cot_events_total"}, asked - exported
