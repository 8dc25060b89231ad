"""Admission: a process works on a bounded number of requests and answers 503 at once beyond its line."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from peacewatch.core.admission import Admission, AdmissionCounters, StreamLimits
from tests.helpers import until
from tests.tak import run


def app_that_waits(release: asyncio.Event, started: list[str]) -> Admission:
    async def slow(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        started.append(scope["path"])
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"done"})  # type: ignore[operator]

    return Admission(slow, active=1, queued=1, queue_timeout_s=0.3, streams=StreamLimits(total=1, reserve=0),  # type: ignore[arg-type]
                     counters=AdmissionCounters())


async def fill_the_line(client: httpx.AsyncClient, admission: Admission, started: list[str]) -> tuple[Any, Any]:
    """One request running (the one place to work), one in line (the one place to wait): the next is refused."""
    running = asyncio.create_task(client.get("/api/v1/posts"))
    await until(lambda: started == ["/api/v1/posts"], what="the first request to run")
    waiting = asyncio.create_task(client.get("/api/v1/alerts"))  # in line: the one place in the queue
    await until(lambda: admission.counters.waiting == 1, what="the second request in line")
    return running, waiting


def test_probes_and_metrics_answer_while_the_line_is_full() -> None:
    async def scenario() -> None:
        release, started = asyncio.Event(), []
        admission = app_that_waits(release, started)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=admission), base_url="http://t") as client:
            running, waiting = await fill_the_line(client, admission, started)
            assert (await client.get("/api/v1/incidents")).status_code == 503  # the line is full
            probes = [asyncio.create_task(client.get(path)) for path in ("/healthz", "/readyz", "/metrics")]
            await until(lambda: started[1:] == ["/healthz", "/readyz", "/metrics"], what="the probes to reach the app")
            release.set()
            assert [(await probe).status_code for probe in probes] == [200, 200, 200]
            await running
            await waiting

    run(scenario())


def test_past_the_line_a_request_gets_503_with_retry_after_at_once_and_a_waiting_one_after_its_timeout() -> None:
    async def scenario() -> None:
        release, started = asyncio.Event(), []
        admission = app_that_waits(release, started)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=admission), base_url="http://t") as client:
            running, waiting = await fill_the_line(client, admission, started)
            loop = asyncio.get_running_loop()
            began = loop.time()
            refused = await client.get("/api/v1/incidents")  # the line is full: refused without waiting
            assert loop.time() - began < 0.1
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
            assert refused.headers["content-type"] == "application/problem+json" and refused.json()["status"] == 503
            timed_out = await waiting  # waited its 0.3 s without a turn
            assert timed_out.status_code == 503
            release.set()
            assert (await running).status_code == 200
            assert (await client.get("/api/v1/posts")).status_code == 200  # free again at once
            assert (await client.get("/healthz")).status_code == 200
        assert started == ["/api/v1/posts", "/api/v1/posts", "/healthz"]  # the refused never reached the app
        assert admission.counters.shed == 2 and admission.counters.by_reason == {"queue full": 1, "waited too long": 1}

    run(scenario())  # in a thread of its own: the browser tests keep a loop running in the main thread


def test_streams_are_counted_apart_and_bounded() -> None:
    async def scenario() -> None:
        release, started = asyncio.Event(), []
        admission = app_that_waits(release, started)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=admission), base_url="http://t") as client:
            open_stream = asyncio.create_task(client.get("/api/v1/alerts/stream"))
            await until(lambda: admission.counters.streams == 1, what="the stream to open")
            second = await client.get("/api/v1/positions/stream")
            assert second.status_code == 503  # one stream at most here
            request = asyncio.create_task(client.get("/api/v1/posts"))  # a stream holds no request slot
            await until(lambda: "/api/v1/posts" in started, what="the request to run beside the stream")
            assert started == ["/api/v1/alerts/stream", "/api/v1/posts"]
            release.set()
            assert (await open_stream).status_code == 200 and (await request).status_code == 200

    run(scenario())  # in a thread of its own: the browser tests keep a loop running in the main thread


def test_sign_ins_take_turns_in_a_lane_of_their_own() -> None:
    async def scenario() -> None:
        release, started = asyncio.Event(), []

        async def slow(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
            started.append(scope["path"])
            if scope["path"] == "/api/v1/auth/token":
                await release.wait()  # hashing a password
            await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
            await send({"type": "http.response.body", "body": b"done"})  # type: ignore[operator]

        admission = Admission(slow, active=1, queued=10, queue_timeout_s=0.3, streams=StreamLimits(total=1),  # type: ignore[arg-type]
                              counters=AdmissionCounters(), sign_in_paths=frozenset({"/api/v1/auth/token"}), sign_ins_active=2)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=admission), base_url="http://t") as client:
            sign_ins = [asyncio.create_task(client.post("/api/v1/auth/token")) for _ in range(5)]
            await until(lambda: admission.counters.waiting == 3, what="three sign-ins in line")
            assert started.count("/api/v1/auth/token") == 2  # as many at a time as there are hashing threads
            read = await client.get("/api/v1/posts")  # the one slot of the other requests is free: served at once
            assert read.status_code == 200
            release.set()
            assert [answer.status_code for answer in await asyncio.gather(*sign_ins)] == [200] * 5  # each waited its turn

    run(scenario())  # in a thread of its own: the browser tests keep a loop running in the main thread
