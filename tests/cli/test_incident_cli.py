"""``peacewatch incident``: the same workflow from a shell."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

REPORTS = [
    {"type": "ceasefire_violation", "subtype": "explosion", "started_at": "2020-11-14T16:00:00Z", "lat": 39.795, "lon": 47.113,
     "source": "media", "client_id": "m-1", "event_count": 4},
    {"type": "ceasefire_violation", "subtype": "heavy_weapons", "started_at": "2020-11-14T16:05:00Z", "lat": 39.797,
     "lon": 47.116, "source": "side_a", "client_id": "a-1", "event_count": 6},
]


@pytest.mark.usefixtures("scenario")
def test_report_resend_match_accept_verify_figures_and_export(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "reports.json"
    file.write_text(json.dumps(REPORTS))
    first = run("incident", "report", str(file))
    assert first.exit_code == 0, first.output
    assert "incident 1 recorded" in first.output and "incident 2 recorded" in first.output
    again = run("incident", "report", str(file))
    assert again.exit_code == 0 and again.output.count("already recorded") == 2
    assert "1, 2" in run("incident", "proposals").output
    assert run("incident", "accept", "1", "--reason", "same shelling").exit_code == 0
    refused = run("incident", "verify", "1", "--status", "confirmed", "--reason", "x")
    assert refused.exit_code == 1 and "it can go to" in refused.output
    assert run("incident", "verify", "1", "--status", "under_investigation", "--reason", "post to check").exit_code == 0
    figures = json.loads(run("incident", "figures", "--since", "2020-11-15", "--until", "2020-11-15").stdout)
    assert figures["days"][0]["events"] == 1 and figures["days"][0]["effects"] == 6
    rows = list(csv.DictReader(io.StringIO(run("incident", "export", "--format", "acled").stdout)))
    assert len(rows) == 1 and rows[0]["tags"] == "reports: 2; status: under_investigation"
    chart = tmp_path / "chart.png"
    assert run("incident", "figures", "--format", "png", "-o", str(chart)).exit_code == 0
    assert chart.read_bytes().startswith(b"\x89PNG")


@pytest.mark.usefixtures("scenario")
def test_refusals_are_one_line_and_store_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(REPORTS[0] | {"ended_at": "2020-11-14T15:00:00Z"}))
    result = run("incident", "report", str(bad))
    assert result.exit_code == 1 and "ends before it starts" in result.output and "body.ended_at" in result.output
    assert run("incident", "figures", "--since", "2020-13-01").exit_code == 1
    assert run("incident", "report", str(tmp_path / "missing.json")).exit_code == 1
    assert "recorded" not in run("incident", "list").output
