"""``peacewatch remains`` and ``peacewatch custody``: the humanitarian workflow from a shell."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.bodies import handover, person, recovery


@pytest.mark.usefixtures("scenario")
def test_recover_match_identify_hand_over_and_verify(run, tmp_path: Path, database_url: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "recovery.json").write_text(json.dumps(recovery()))
    done = run("remains", "recover", str(tmp_path / "recovery.json"))
    assert done.exit_code == 0, done.output
    numbers = [w.strip(",") for w in done.output.split() if w.startswith("PW-2020-")]
    assert len(numbers) == 3
    (tmp_path / "am.json").write_text(json.dumps([person(client_id="f-1"), person(client_id="f-2", given_names="Brother")]))
    filed = run("remains", "missing", str(tmp_path / "am.json"))
    assert filed.exit_code == 0 and filed.output.count("filed") == 2
    am = [w for w in filed.output.split() if w.startswith("AM-2020-")]
    assert run("remains", "missing", str(tmp_path / "am.json")).output.count("already filed") == 2
    ranked = run("remains", "candidates", "--body", numbers[0], "--explain")
    assert ranked.exit_code == 0 and am[0] in ranked.output and "service_number: agree" in ranked.output
    lab = tmp_path / "lab.csv"
    lab.write_text("body,missing_person,likelihood_ratio,laboratory,reported_on\n"
                   f"{numbers[0]},{am[0]},3e8,Lab,2020-11-16\n{numbers[0]},{am[1]},40,Lab,2020-11-16\n")
    assert "1 pairs are now undisputed" in run("remains", "dna", str(lab)).output
    proposed = run("remains", "identify", numbers[0], am[0])
    ident = proposed.output.split()[1]
    refused = run("remains", "confirm", ident, "--basis", "board", "--detail", "x", "--member", "A")
    assert refused.exit_code == 1 and "at least 3 members" in refused.output
    assert run("remains", "confirm", ident, "--basis", "dna", "--detail", "lab 16 Nov").exit_code == 0
    (tmp_path / "handover.json").write_text(json.dumps(handover(numbers)))
    handed = run("remains", "handover", str(tmp_path / "handover.json"))
    assert handed.exit_code == 0 and "2 bodies (1 identified), 1 parts" in handed.output
    again = run("remains", "handover", str(tmp_path / "handover.json"))
    assert again.exit_code == 1 and "already handed over" in again.output
    pdf = tmp_path / "list.pdf"
    assert run("remains", "handover-list", "1", "--format", "pdf", "--output", str(pdf)).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    rows = list(csv.DictReader(io.StringIO(run("remains", "figures", "--since", "2020-11-14", "--until", "2020-11-15").stdout)))
    assert [(r["day"], r["side"], r["recovered"], r["handed_over"]) for r in rows if r["side"] == "A"] == [
        ("2020-11-14", "A", "2", "0"), ("2020-11-15", "A", "2", "2")]

    intact = run("custody", "verify")
    assert intact.exit_code == 0 and "intact" in intact.output
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE custody_events SET received_by = 'someone else' WHERE seq = 1"))
    engine.dispose()
    broken = run("custody", "verify")
    assert broken.exit_code == 1 and "changed after it was recorded" in broken.output and "3 breaks" in broken.output


@pytest.mark.usefixtures("scenario")
def test_bad_input_is_one_line_and_a_non_zero_exit(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.json").write_text(json.dumps(recovery(bodies_found=1)))
    bad = run("remains", "recover", str(tmp_path / "bad.json"))
    assert bad.exit_code == 1 and "bodies listed but only 1 found" in bad.output
    assert run("remains", "candidates").exit_code == 1
    unknown = run("custody", "verify", "PW-2020-999999")
    assert unknown.exit_code == 1 and "not found" in unknown.output
    late = run("custody", "add", "PW-2020-999999", "--kind", "stored", "--at", "2020-11-14T09:00:00Z", "--place", "x")
    assert late.exit_code == 1 and "not found" in late.output
    wrong = run("custody", "add", "PW-2020-000001", "--kind", "flown", "--at", "2020-11-14T09:00:00Z", "--place", "x")
    assert wrong.exit_code == 1 and "kind" in wrong.output
