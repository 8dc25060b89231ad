"""``peacewatch airlift`` and ``peacewatch claims`` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_figures_at_a_moment_in_moscow_time(run, airlift: None, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = run("airlift", "figures", "--at", "2020-11-14T12:00+03:00")
    assert text.exit_code == 0, text.output
    assert "95 flights since the start of the operation, 22 in the past 24 hours" in " ".join(text.output.split())
    local = run("airlift", "figures", "--at", "2020-11-15 12:00", "--zone", "Europe/Moscow", "--format", "json")
    body = json.loads(local.stdout)
    assert (body["flights"], body["flights_past_24h"]) == (118, 23)
    csv = run("airlift", "figures", "--at", "2020-11-20T12:00+03:00", "-f", "csv")
    assert sum(int(line.split(",")[1]) for line in csv.stdout.splitlines()[1:]) == 250
    chart = run("airlift", "figures", "-f", "png", "-o", str(tmp_path / "build-up.png"))
    assert chart.exit_code == 0 and (tmp_path / "build-up.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(("args", "words"), [
    (("--at", "yesterday"), "--at must be an ISO 8601 time"),
    (("--at", "2020-11-14T12:00", "--zone", "Mars/Olympus"), "not an IANA time zone"),
    (("--at", "2099-01-01T00:00Z"), "in the future"),
    (("-f", "png",), "give --output"),
])
def test_bad_options_get_a_one_line_reason(run, airlift: None, args: tuple[str, ...], words: str) -> None:  # type: ignore[no-untyped-def]
    result = run("airlift", "figures", *args)
    assert result.exit_code != 0 and words in result.output


def test_a_log_import_reports_rejected_rows_and_exits_1(run, airlift: None, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "log.csv"
    log.write_text(
        "aircraft_type,tail_number,direction,status,departure,arrival,planned_departure,planned_arrival,actual_departure,actual_arrival,tonnes\n"
        "Il-76MD,RF-76811,inbound,landed,UWLW,UDYE,2020-12-02T06:00Z,2020-12-02T10:00Z,2020-12-02T06:00Z,2020-12-02T10:00Z,20\n"
        "Il-76MD,RF-76812,inbound,landed,UWLW,UDYE,2020-12-02T06:00Z,2020-12-02T10:00Z,2020-12-02T06:00Z,2020-12-02T10:00Z,60\n"
    )
    result = run("airlift", "import", str(log))
    assert result.exit_code == 1
    assert "1 flights stored, 0 already recorded, 1 rejected" in result.stdout
    assert "payload of about 47 t" in result.output and "3" in result.output
    clean = tmp_path / "clean.csv"
    clean.write_text("\n".join(log.read_text().splitlines()[:2]) + "\n")
    again = run("airlift", "import", str(clean))
    assert again.exit_code == 0 and "0 flights stored, 1 already recorded, 0 rejected" in again.stdout


def test_a_rotation_plan_is_checked_then_accepted(run, airlift: None, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def leg(direction: str, leaves: str, lands: str) -> dict[str, object]:
        there, home = ("UDYE", "UWLW") if direction == "outbound" else ("UWLW", "UDYE")
        return {"aircraft_type": "Il-76MD", "direction": direction, "departure": there, "arrival": home,
                "planned_departure": leaves, "planned_arrival": lands, "personnel": 100}

    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"name": "wrong order", "flights": [leg("inbound", "2021-03-01T06:00Z", "2021-03-01T10:00Z"),
                                                                   leg("outbound", "2021-03-01T11:00Z", "2021-03-01T15:00Z")]}))
    refused = run("airlift", "plan", str(plan), "--check")
    assert refused.exit_code == 1 and "personnel would reach 2,060" in refused.output
    plan.write_text(json.dumps({"name": "right order", "flights": [leg("outbound", "2021-03-01T06:00Z", "2021-03-01T10:00Z"),
                                                                   leg("inbound", "2021-03-01T11:00Z", "2021-03-01T15:00Z")]}))
    assert "acceptable: personnel stays between 1,860 and 1,960" in run("airlift", "plan", str(plan), "--check").stdout
    accepted = run("airlift", "plan", str(plan))
    assert accepted.exit_code == 0 and "accepted" in accepted.stdout


def test_claims_are_checked_on_a_date(run, airlift: None) -> None:  # type: ignore[no-untyped-def]
    then = run("claims", "check", "1")
    assert then.exit_code == 0 and then.stdout.startswith("contradicted on 2020-11-14")
    assert "answered by: statement 2" in then.stdout
    later = run("claims", "check", "1", "--on", "2021-02-01")
    assert later.stdout.startswith("nuanced on 2021-02-01") and "Agdam" in later.stdout
    assert run("claims", "check", "99").exit_code == 1
