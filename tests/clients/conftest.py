"""Real clients (OWSLib, GDAL's ogrinfo, pytak) against a real server: the embedded database only, as the browser tests."""

from __future__ import annotations

import os

import pytest

from tests.gdal import gdal_tool

if os.environ.get("PEACEWATCH_TEST_DATABASE_URL"):
    pytest.skip("the client tests serve the embedded database; they run in the SQLite pass", allow_module_level=True)


def ogrinfo() -> str:
    return gdal_tool("ogrinfo")
