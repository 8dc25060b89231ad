"""``peacewatch report``, ``peacewatch demining`` and ``peacewatch returns`` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.mark.usefixtures("demo")
def test_the_bulletin_goes_to_stdout_and_the_pdf_to_a_file(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shown = run("report", "bulletin", "--date", "2020-11-14")
    assert shown.exit_code == 0, shown.output
    assert "95 flights, 22 of them in the past 24 hours" in shown.stdout
    pdf = tmp_path / "bulletin.pdf"
    written = run("report", "bulletin", "--date", "2020-11-14", "--format", "pdf", "--lang", "ru", "--output", str(pdf))
    assert written.exit_code == 0 and pdf.read_bytes().startswith(b"%PDF-")
    figures = json.loads(run("report", "sitrep", "-d", "2020-11-14", "-f", "json").stdout)["figures"]
    assert figures["airlift"]["flights_total"] == 95 and "alerts" in figures


@pytest.mark.usefixtures("demo")
def test_a_month_of_daily_reports_one_file_a_day_the_same_in_one_process_or_two(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    for folder, jobs in (("one", "1"), ("two", "2")):  # one process, then two sharing the days: the same files
        done = run("report", "bulletin", "--since", "2020-11-10", "--until", "2020-12-09", "--each-day", "-o", str(tmp_path / folder),
                   "--jobs", jobs)
        assert done.exit_code == 0, done.output
    one, two = sorted((tmp_path / "one").iterdir()), sorted((tmp_path / "two").iterdir())
    assert len(one) == 30 and one[0].name == "peacewatch-bulletin-2020-11-10-en.md"
    assert [p.read_bytes() for p in one] == [p.read_bytes() for p in two]
    assert "Generated 2026-01-01 00:00:00 UTC" in one[4].read_text()


@pytest.mark.usefixtures("scenario")
@pytest.mark.parametrize(("args", "words"), [
    (("report", "bulletin", "--date", "2020-11-01"), "before the mission began on 2020-11-10 (query.date)"),
    (("report", "bulletin", "--date", "2020-11-31"), "--date must be a date as YYYY-MM-DD"),
    (("report", "bulletin"), "give the reporting day"),
    (("report", "sitrep", "--date", "2020-11-14", "--since", "2020-11-10"), "not both"),
    (("report", "sitrep", "--since", "2020-11-10", "--until", "2020-11-12", "--each-day"), "--each-day needs"),
    (("report", "sitrep", "--since", "2020-11-12", "--until", "2020-11-10"), "is before 2020-11-12"),
])
def test_bad_options_get_one_line_and_a_non_zero_exit(run, args: tuple[str, ...], words: str) -> None:  # type: ignore[no-untyped-def]
    result = run(*args)
    assert result.exit_code != 0 and words in " ".join(result.output.split())
    assert len(result.output.strip().splitlines()) <= 2


@pytest.mark.usefixtures("scenario")
def test_clearances_and_returns_are_recorded_from_json(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cleared = tmp_path / "cleared.json"
    cleared.write_text(json.dumps({"unit_id": 6, "cleared_on": "2020-11-21", "place": "Martuni road", "hectares": 3.5,
                                   "road_km": 2, "explosive_objects": 9}))
    assert run("demining", "add", str(cleared)).exit_code == 0
    assert "Martuni" in run("demining", "list").stdout
    back = tmp_path / "back.json"
    back.write_text(json.dumps([{"returned_on": "2020-11-21", "route": "Goris - Lachin", "people": 120},
                                {"returned_on": "2099-11-21", "route": "Goris - Lachin", "people": 5}]))
    refused = run("returns", "add", str(back))
    assert refused.exit_code == 1 and "return 2: 2099-11-21 is in the future" in " ".join(refused.output.split())
    assert "120" in run("returns", "list").stdout
