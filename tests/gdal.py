"""GDAL's command-line tools (Debian's gdal-bin, which .ci/run installs) for the tests that use real GIS software."""

from __future__ import annotations

import os
import shutil

import pytest


def gdal_tool(name: str) -> str:
    """The path of ``ogrinfo`` or ``ogr2ogr``; a test needing it is skipped outside CI when GDAL is missing."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            raise RuntimeError(f"CI needs GDAL's {name} (apt install gdal-bin; .ci/run installs it)")
        pytest.skip(f"GDAL's {name} is not installed (apt install gdal-bin)")
    return found
