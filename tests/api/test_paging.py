"""Every list the API pages says, in X-Total-Count, how long the whole list is in the reader's scope."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from peacewatch.core.paging import TOTAL_COUNT


def paged_lists(app: FastAPI) -> dict[str, int]:
    """The GET routes without path parameters that take limit and offset, with their largest limit."""
    found = {}
    for path, operations in app.openapi()["paths"].items():
        get = operations.get("get")
        if not get or "{" in path:
            continue
        parameters = {p["name"]: p for p in get.get("parameters", [])}
        if "limit" in parameters and "offset" in parameters:
            found[path] = int(parameters["limit"]["schema"]["maximum"])
    return found


def records(body: Any) -> list[Any]:
    return body["features"] if isinstance(body, dict) else body


def test_every_paged_list_declares_its_total_count(app: FastAPI) -> None:
    lists = paged_lists(app)
    assert len(lists) >= 25
    undeclared = [path for path in lists
                  if TOTAL_COUNT not in app.openapi()["paths"][path]["get"]["responses"]["200"].get("headers", {})]
    assert undeclared == []


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("reader", ["ops", "humanitarian", "liaison-a", "admin"])
def test_the_total_count_is_the_whole_list_in_the_readers_scope(app: FastAPI, client: TestClient, auth: Any, reader: str) -> None:
    checked = 0
    for path, most in paged_lists(app).items():
        page = client.get(path, params={"limit": 1}, headers=auth(reader))
        if page.status_code == 403:
            continue  # a list this role may not read at all
        assert page.status_code == 200, (path, page.text)
        every: list[Any] = []
        while True:  # the whole list, page after page of the largest size
            answer = client.get(path, params={"limit": most, "offset": len(every)}, headers=auth(reader))
            assert answer.headers[TOTAL_COUNT] == page.headers[TOTAL_COUNT], path
            every += records(answer.json())
            if len(records(answer.json())) < most:
                break
        total = len(every)
        assert page.headers[TOTAL_COUNT] == str(total), path
        again = client.get(path, params={"limit": 1}, headers=auth(reader))  # perhaps the cached answer: the same header
        assert again.headers[TOTAL_COUNT] == str(total), path
        assert len(records(page.json())) == min(1, total), path
        if total > 1:  # the last page is the last record
            last = client.get(path, params={"limit": 1, "offset": total - 1}, headers=auth(reader))
            assert records(last.json()) == every[-1:], path
        checked += 1
    assert checked >= {"ops": 15, "humanitarian": 8, "liaison-a": 8, "admin": 20}[reader]
