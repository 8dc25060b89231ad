"""Real clients (OWSLib, GDAL's ogrinfo, pytak) against a real server: the embedded database only, as the browser tests."""

from __future__ import annotations

import os
import shutil

import pytest

if os.environ.get("PEACEWATCH_TEST_DATABASE_URL"):
    pytest.skip("the client tests serve the embedded database; they run in the SQLite pass", allow_module_level=True)


def ogrinfo() -> str:
    """GDAL's ogrinfo (Debian's gdal-bin, which .ci/run installs); skipped outside CI when missing."""
    found = shutil.which("ogrinfo")
    if found is None:
        if os.environ.get("CI"):
            raise RuntimeError("CI needs GDAL's ogrinfo (apt install gdal-bin; .ci/run installs it)")
        pytest.skip("GDAL's ogrinfo is not installed (apt install gdal-bin)")
    return found
