"""`peacewatch backfill`: a CSV of positions, checked whole, stored oldest first, idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from peacewatch.cli import app
from peacewatch.core.problems import Invalid
from tests.conftest import CUSTODY, SECRET


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo: None):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PEACEWATCH_DATABASE_URL", database_url)
    monkeypatch.setenv("PEACEWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PEACEWATCH_SECRET_KEY", SECRET)
    monkeypatch.setenv("PEACEWATCH_CUSTODY_KEY", CUSTODY)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_a_csv_day_is_stored_once(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    csv = tmp_path / "day.csv"
    rows = [f"MP-N1,2020-11-15T08:{m:02d}:00Z,40.1,46.{600 + m},8.5" for m in range(30)]
    csv.write_text("tracker,t,lat,lon,speed\n" + "\n".join(rows) + "\n")
    first = run("backfill", str(csv))
    assert first.exit_code == 0, first.output
    assert "30 positions stored, 0 already known" in first.output
    assert "0 positions stored, 30 already known" in run("backfill", str(csv)).output


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("tracker,t,lat\nMP-N1,2020-11-15T08:00:00Z,40.1\n", "lacks column(s) lon"),
        ("tracker,t,lat,lon\nMP-N1,2020-11-15T08:00:00Z,95,46.7\n", "latitude out of range"),
        ("tracker,t,lat,lon\nMP-N1,yesterday,40.1,46.7\n", "data row 1 ('yesterday') is not a time"),
        ("tracker,t,lat,lon\nMP-N1,2020-11-15T08:00:00Z,40.1,46.7\nMP-N1,2020-11-15 08:00:05,40.1,46.7\n",
         "the time at data row 2 ('2020-11-15 08:00:05') has no time zone"),
        ("tracker,t,lat,lon,alt,ele\nMP-N1,2020-11-15T08:00:00Z,40.1,46.7,700,687\n", "gives heights twice (alt, ele)"),
        ("tracker,t,lat,lon\nGHOST,2020-11-15T08:00:00Z,40.1,46.7\n", "unregistered"),
    ],
)
def test_a_bad_file_stores_nothing_and_says_why(run, tmp_path: Path, content: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    csv = tmp_path / "bad.csv"
    csv.write_text(content)
    result = run("backfill", str(csv))
    assert result.exit_code == 1 and fragment in result.output


def test_a_csv_as_gdal_writes_it_from_a_gpx_is_read_with_its_times_and_heights_above_sea_level(
        run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """ogr2ogr -f CSV of a GPX's track points: GDAL's own time format and <ele> above sea level."""
    csv = tmp_path / "track_points.csv"
    rows = [f"MP-N1,2020/12/18 06:{15 + m:02d}:50+00,39.8162,46.7533,610.0" for m in range(3)]
    csv.write_text("tracker,t,lat,lon,ele\n" + "\n".join(rows) + "\n")
    result = run("backfill", str(csv))
    assert result.exit_code == 0, result.output
    assert "3 positions stored" in result.output and "above sea level (ele or alt_msl), stored above the ellipsoid" in result.output
    from peacewatch.live.backfill import read_csv

    read = read_csv(csv)
    assert read.columns.t_ms[0] == 1608272150000 and read.heights == "sea level"
    assert read.columns.alt[0] == pytest.approx(623.825, abs=0.01)  # 610 m above sea level, EGM96 13.8 m there


def test_old_days_are_pruned_and_their_space_given_back(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    csv = tmp_path / "days.csv"
    rows = [f"MP-N1,2020-10-{day:02d}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z,40.1,46.7,8.5"
            for day in (1, 2, 3) for s in range(0, 86_400, 5)]
    csv.write_text("tracker,t,lat,lon,speed\n" + "\n".join(rows) + "\n")
    assert run("backfill", str(csv)).exit_code == 0
    before = run("positions", "stats")
    assert before.exit_code == 0 and "from 2020-10-01" in before.output, before.output

    pruned = run("positions", "prune", "--before", "2020-10-03")

    assert pruned.exit_code == 0, pruned.output
    assert "34,560 positions before 2020-10-03 pruned" in pruned.output
    assert "0.0 MB given back" not in pruned.output  # SQLite: incremental vacuum; PostgreSQL: the partitions' files
    after = run("positions", "stats").output
    assert "from 2020-10-03 to" in after, after  # the demo's own days follow


def test_a_prune_without_a_day_is_refused(run) -> None:  # type: ignore[no-untyped-def]
    result = run("positions", "prune", "--before", "last week")
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output


def test_the_patrols_tracks_exported_as_gpx_import_back(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """'peacewatch features patrol-tracks --format gpx' writes GPS tracks whose every point has its time."""
    exported = tmp_path / "tracks.gpx"
    result = run("features", "patrol-tracks", "--format", "gpx", "--output", str(exported))
    assert result.exit_code == 0, result.output
    from peacewatch.tracking.gpx import gpx_columns

    with pytest.raises(Invalid, match="were recorded at the same time"):  # several patrols' tracks are not one tracker's
        gpx_columns(exported.read_bytes(), "MP-N1")
    points = gpx_columns(exported.read_bytes(), None, tracks="by_name")
    assert points.skipped_count == 0 and len(points.columns) > 1000 and "MP-N1" in points.columns.names
    imported = run("gpx", str(exported), "--tracks", "by_name")
    assert imported.exit_code == 0 and "tracks stored into: MP-N1, MP-N2" in imported.output, imported.output
