"""Fixtures of the API and page tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient


@pytest.fixture
def browser(app: FastAPI, scenario: None) -> Iterator[TestClient]:
    """A client that behaves like a browser on HTTPS: it keeps cookies, Secure ones included."""
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client
