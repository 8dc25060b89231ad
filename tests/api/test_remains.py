"""Remains: recovery, post-mortem and ante-mortem records, custody chain, matching, identification,
handover, figures, and who may see what."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.bodies import handover, person, recovery

HUM = "humanitarian"
@pytest.fixture
def recovered(client: TestClient, auth: Any) -> dict[str, Any]:
    response = client.post("/api/v1/recoveries", json=recovery(), headers=auth(HUM))
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def missing(client: TestClient, auth: Any) -> dict[str, Any]:
    response = client.post("/api/v1/missing-persons", json=person(), headers=auth(HUM))
    assert response.status_code == 201, response.text
    return response.json()


def field_of(response: Any) -> str:
    return response.json()["errors"][0]["field"]


@pytest.mark.usefixtures("scenario")
class TestRecovery:
    def test_each_body_and_part_gets_a_number_and_a_custody_chain(self, client: TestClient, auth: Any, recovered: dict[str, Any]) -> None:
        numbers = recovered["body_numbers"]
        assert len(numbers) == 3 and all(n.startswith("PW-2020-") and len(n) == len("PW-2020-000123") for n in numbers)
        assert len(set(numbers)) == 3 and recovered["bodies_recovered"] == 2 and recovered["mgrs"].startswith("38S")
        whole, _, part = (client.get(f"/api/v1/bodies/{n}", headers=auth(HUM)).json() for n in numbers)
        assert part["kind"] == "body_part" and part["part_of"] == numbers[0] and whole["parts"] == [numbers[2]]
        assert whole["post_mortem"]["dental"] == {"11": "sound", "36": "crowned"} and whole["custody_place"] == "Stepanakert morgue"
        chain = client.get(f"/api/v1/bodies/{numbers[0]}/custody", headers=auth(HUM)).json()
        assert [e["kind"] for e in chain] == ["recovered", "stored"]
        assert chain[0]["prev_hash"] == "0" * 64 and chain[1]["prev_hash"] == chain[0]["hash"]

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"bodies_found": 1}, "body.bodies_found"),
            ({"bodies": [{"kind": "body", "part_of": 0}]}, "body.bodies[0].part_of"),
            ({"bodies": [{"kind": "body_part", "part_of": 5}]}, "body.bodies[0].part_of"),
            ({"recovered_at": "2099-01-01T00:00:00Z"}, "body.recovered_at"),
            ({"bodies": [{"post_mortem": {"dental": {"19": "sound"}}}]}, "body.bodies.0.post_mortem.dental"),
            ({"bodies": [{"post_mortem": {"age": {"min": 40, "max": 30}}}]}, "body.bodies.0.post_mortem.age"),
            ({"site": {"type": "Point", "coordinates": [46.95, 120]}}, "body.site"),
        ],
    )
    def test_bad_recoveries_are_refused_naming_the_field(self, client: TestClient, auth: Any, change: dict[str, Any], field: str) -> None:
        before = client.get("/api/v1/bodies", headers=auth(HUM)).headers["X-Total-Count"]
        response = client.post("/api/v1/recoveries", json=recovery(**change), headers=auth(HUM))
        assert response.status_code == 422, response.text
        assert field_of(response).startswith(field)
        assert client.get("/api/v1/bodies", headers=auth(HUM)).headers["X-Total-Count"] == before  # nothing half-stored

    def test_a_recovery_sent_again_from_the_field_numbers_no_body_twice(self, client: TestClient, auth: Any) -> None:
        before = int(client.get("/api/v1/bodies", headers=auth(HUM)).headers["X-Total-Count"])
        sent = recovery(client_id="field-recovery-1")
        first = client.post("/api/v1/recoveries", json=sent, headers=auth(HUM))
        again = client.post("/api/v1/recoveries", json=sent, headers=auth(HUM))
        assert first.status_code == again.status_code == 201, again.text
        assert again.json()["id"] == first.json()["id"] and again.json()["body_numbers"] == first.json()["body_numbers"]
        assert int(client.get("/api/v1/bodies", headers=auth(HUM)).headers["X-Total-Count"]) == before + 3
        other = client.post("/api/v1/recoveries", json=recovery(client_id="field-recovery-1", bodies_found=3), headers=auth(HUM))
        assert other.status_code == 409 and field_of(other) == "body.client_id"  # the same id for another recovery: refused

    def test_a_part_found_apart_is_linked_later_and_only_to_a_whole_body(self, client: TestClient, auth: Any, recovered: dict[str, Any]) -> None:
        loose = client.post("/api/v1/recoveries", json=recovery(bodies=[{"kind": "body_part"}], bodies_found=0), headers=auth(HUM)).json()
        number = loose["body_numbers"][0]
        wrong = client.put(f"/api/v1/bodies/{number}/part-of", json={"part_of": recovered["body_numbers"][2]}, headers=auth(HUM))
        assert wrong.status_code == 422 and field_of(wrong) == "body.part_of"
        linked = client.put(f"/api/v1/bodies/{number}/part-of", json={"part_of": recovered["body_numbers"][1]}, headers=auth(HUM))
        assert linked.status_code == 200 and linked.json()["part_of"] == recovered["body_numbers"][1]


@pytest.mark.usefixtures("scenario")
class TestCustody:
    def test_events_out_of_order_or_in_two_places_are_refused(self, client: TestClient, auth: Any, recovered: dict[str, Any]) -> None:
        number = recovered["body_numbers"][0]
        url = f"/api/v1/bodies/{number}/custody"
        ok = client.post(url, json={"kind": "examined", "at": "2020-11-14T12:00:00Z", "place": "Stepanakert morgue"}, headers=auth(HUM))
        assert ok.status_code == 201, ok.text
        early = client.post(url, json={"kind": "stored", "at": "2020-11-14T09:00:00Z", "place": "Stepanakert morgue"}, headers=auth(HUM))
        assert early.status_code == 422 and "out of time order" in early.json()["detail"] and field_of(early) == "body.at"
        twice = client.post(url, json={"kind": "stored", "at": "2020-11-14T12:00:00Z", "place": "Goris cold store"}, headers=auth(HUM))
        assert twice.status_code == 422 and "two places at once" in twice.json()["detail"]
        direct = client.post(url, json={"kind": "handed_over", "at": "2020-11-14T13:00:00Z", "place": "x"}, headers=auth(HUM))
        assert direct.status_code == 422 and field_of(direct) == "body.kind"
        stranger = client.post(url, json={"kind": "transferred", "at": "2020-11-14T13:00:00Z", "place": "Goris cold store",
                                          "released_by": "Someone else", "received_by": "Goris cold store"}, headers=auth(HUM))
        assert stranger.status_code == 422 and field_of(stranger) == "body.released_by"
        moved = client.post(url, json={"kind": "transferred", "at": "2020-11-14T13:00:00Z", "place": "Goris cold store",
                                       "received_by": "Goris cold store"}, headers=auth(HUM))
        assert moved.status_code == 201 and moved.json()["released_by"] == "Stepanakert morgue"

    def test_the_chain_is_intact_until_someone_edits_the_database(self, client: TestClient, auth: Any, session: Session,
                                                                    recovered: dict[str, Any]) -> None:
        first, second = recovered["body_numbers"][:2]
        report = client.get("/api/v1/custody/verify", headers=auth(HUM)).json()
        assert report["intact"] and report["events"] >= 6 and not report["breaks"]
        session.execute(text("UPDATE custody_events SET place = 'elsewhere' WHERE seq = 2 AND body_id = "
                             "(SELECT id FROM bodies WHERE number = :n)"), {"n": first})
        session.execute(text("DELETE FROM custody_events WHERE seq = 2 AND body_id = (SELECT id FROM bodies WHERE number = :n)"),
                        {"n": second})
        session.commit()
        report = client.get("/api/v1/custody/verify", headers=auth(HUM)).json()
        assert not report["intact"]
        problems = [(b["body"], b["seq"], b["problem"]) for b in report["breaks"]]
        assert any(body == first and seq == 2 and "changed after it was recorded" in p for body, seq, p in problems)
        assert any(body == second and "records 2 custody events but 1" in p for body, _, p in problems)
        assert any(body == second and "audit log" in p for body, _, p in problems)
        assert all(body in (first, second) for body, _, _ in problems)
        named = client.get("/api/v1/custody/verify", params={"body": second}, headers=auth(HUM)).json()
        assert named["bodies"] == 1 and any("audit log" in b["problem"] for b in named["breaks"])
        only = client.get("/api/v1/custody/verify", params={"body": recovered["body_numbers"][2]}, headers=auth(HUM)).json()
        assert only["intact"] and only["bodies"] == 1

    def test_a_custody_event_cannot_be_changed_through_the_system(self, session: Session, recovered: dict[str, Any]) -> None:
        from peacewatch.remains.models import CustodyEvent

        event = session.query(CustodyEvent).first()
        assert event is not None
        event.place = "rewritten"
        session.info["actor"] = "admin"
        with pytest.raises(RuntimeError, match="never changed"):
            session.flush()


@pytest.mark.usefixtures("scenario")
class TestMissingPersons:
    def test_a_liaison_files_for_its_side_and_sees_only_its_sides_reports(self, client: TestClient, auth: Any, missing: dict[str, Any]) -> None:
        mine = client.post("/api/v1/missing-persons", json=person(family_name="Liaisonfiled"), headers=auth("liaison-a"))
        assert mine.status_code == 201 and mine.json()["filed_by_side"] == "A" and mine.json()["number"].startswith("AM-2020-")
        other = client.post("/api/v1/missing-persons", json=person(side="B"), headers=auth("liaison-a"))
        assert other.status_code == 422 and field_of(other) == "body.side"
        seen = {p["number"] for p in client.get("/api/v1/missing-persons", params={"limit": 1000}, headers=auth("liaison-a")).json()}
        assert mine.json()["number"] in seen and missing["number"] not in seen
        assert client.get(f"/api/v1/missing-persons/{missing['number']}", headers=auth("liaison-a")).status_code == 404
        assert client.get(f"/api/v1/missing-persons/{mine.json()['number']}", headers=auth("liaison-b")).status_code == 404

    def test_a_resend_returns_the_first_copy(self, client: TestClient, auth: Any) -> None:
        first = client.post("/api/v1/missing-persons", json=person(client_id="form-17"), headers=auth(HUM))
        again = client.post("/api/v1/missing-persons", json=person(client_id="form-17"), headers=auth(HUM))
        assert first.status_code == 201 and again.status_code == 200 and again.json()["number"] == first.json()["number"]
        changed = client.post("/api/v1/missing-persons", json=person(client_id="form-17", height_cm=150), headers=auth(HUM))
        assert changed.status_code == 409

    @pytest.mark.parametrize(
        ("change", "field"),
        [({"last_seen_on": "2020-11-05"}, "body"), ({"last_seen_lat": 39.7, "last_seen_lon": None}, "body"),
         ({"dental": {"99": "filled"}}, "body.dental"), ({"height_cm": 20}, "body.height_cm")],
    )
    def test_bad_reports_are_refused(self, client: TestClient, auth: Any, change: dict[str, Any], field: str) -> None:
        response = client.post("/api/v1/missing-persons", json=person(**change), headers=auth(HUM))
        assert response.status_code == 422 and field_of(response).startswith(field)


@pytest.mark.usefixtures("scenario")
class TestMatchingAndIdentification:
    def test_the_true_person_ranks_first_with_every_field_explained(self, client: TestClient, auth: Any, recovered: dict[str, Any],
                                                                     missing: dict[str, Any]) -> None:
        number = recovered["body_numbers"][0]
        woman = client.post("/api/v1/missing-persons", json=person(family_name="Otherwoman", sex="female", service_number=""),
                            headers=auth(HUM)).json()
        candidates = client.get(f"/api/v1/bodies/{number}/candidates", headers=auth(HUM)).json()
        assert candidates[0]["missing_person"] == missing["number"]
        evidence = {e["field"]: e for e in candidates[0]["evidence"]}
        assert evidence["service_number"]["level"] == "agree" and evidence["marks"]["level"] == "agree"
        assert evidence["dental"]["level"] == "1-2 concordant treatments"  # an AM filling under a PM crown: later treatment
        assert woman["number"] not in {c["missing_person"] for c in candidates}  # a different sex is excluded
        assert not any(c for c in candidates if c["evidence"] and c["weight"] > candidates[0]["weight"])
        back = client.get(f"/api/v1/missing-persons/{missing['number']}/candidates", headers=auth(HUM)).json()
        assert back[0]["body"] == number and back[0]["weight"] == candidates[0]["weight"]

    def test_a_changed_record_is_read_again_alone(self, client: TestClient, auth: Any, app: Any, recovered: dict[str, Any],
                                                  missing: dict[str, Any]) -> None:
        """The matching columns follow each change by re-reading only the records whose revision moved."""
        from peacewatch.core.db import transaction
        from peacewatch.remains import matching_cache
        from peacewatch.remains.models import MissingPerson

        number = recovered["body_numbers"][0]
        first = client.get(f"/api/v1/bodies/{number}/candidates", headers=auth(HUM)).json()
        assert first[0]["missing_person"] == missing["number"]
        kept = matching_cache._KEPT[str(app.state.engine.url)]
        everything = len(kept.persons) + len(kept.bodies)
        pm = recovery()["bodies"][0]["post_mortem"] | {"sex": "female"}
        assert client.put(f"/api/v1/bodies/{number}/post-mortem", json=pm, headers=auth(HUM)).status_code == 200
        again = client.get(f"/api/v1/bodies/{number}/candidates", headers=auth(HUM)).json()
        assert missing["number"] not in {c["missing_person"] for c in again}  # a man is no longer a candidate
        kept = matching_cache._KEPT[str(app.state.engine.url)]
        assert kept.reread == 1 and len(kept.persons) + len(kept.bodies) == everything
        # another writer (another server process would go through the same database) renames the person
        with app.state.sessionmaker() as other:
            with transaction(other, actor="clerk-elsewhere"):
                other.scalars(select(MissingPerson).where(MissingPerson.number == missing["number"])).one().marks = ["scar on the chin"]
        back = client.get(f"/api/v1/missing-persons/{missing['number']}/candidates", headers=auth(HUM)).json()
        kept = matching_cache._KEPT[str(app.state.engine.url)]
        assert kept.reread == 1 and kept.persons[missing["id"]][1].marks == ["scar on the chin"]
        assert number not in {c["body"] for c in back}
        entries = client.get("/api/v1/audit", params={"entity": "bodies"}, headers=auth("admin")).json()
        assert entries and not any("revision" in (e.get("after") or {}) for e in entries)  # bookkeeping, not a fact

    def test_confirmation_needs_a_primary_identifier_or_a_board(self, client: TestClient, auth: Any, recovered: dict[str, Any],
                                                                 missing: dict[str, Any]) -> None:
        number = recovered["body_numbers"][0]
        brother = client.post("/api/v1/missing-persons", json=person(given_names="Brother", service_number=""), headers=auth(HUM)).json()
        proposed = client.post("/api/v1/identifications", json={"body": number, "missing_person": missing["number"]}, headers=auth(HUM))
        assert proposed.status_code == 201 and proposed.json()["status"] == "proposed"
        ident = proposed.json()["id"]
        again = client.post("/api/v1/identifications", json={"body": number, "missing_person": brother["number"]}, headers=auth(HUM))
        assert again.status_code == 409 and "already has a proposed identification" in again.json()["detail"]
        confirm = f"/api/v1/identifications/{ident}/confirmation"
        no_dna = client.post(confirm, json={"basis": "dna", "detail": "lab report"}, headers=auth(HUM))
        assert no_dna.status_code == 422 and "no DNA result" in no_dna.json()["detail"]
        lab = [{"body": number, "missing_person": missing["number"], "likelihood_ratio": 2e7, "laboratory": "Lab", "reported_on": "2020-11-16"},
               {"body": number, "missing_person": brother["number"], "likelihood_ratio": 5e4, "laboratory": "Lab", "reported_on": "2020-11-16"}]
        stored = client.post("/api/v1/dna-results", json=lab, headers=auth(HUM))
        assert stored.status_code == 201 and not any(r["undisputed"] for r in stored.json())  # 2e7 is not 10,000 x 5e4
        disputed = client.post(confirm, json={"basis": "dna", "detail": "lab report"}, headers=auth(HUM))
        assert disputed.status_code == 422 and "not undisputed" in disputed.json()["detail"]
        board = client.post(confirm, json={"basis": "board", "detail": "all evidence", "board_members": ["A", "B"]}, headers=auth(HUM))
        assert board.status_code == 422 and field_of(board) == "body.board_members"
        lab[1]["likelihood_ratio"] = 3.0
        assert client.post("/api/v1/dna-results", json=lab[1:], headers=auth(HUM)).status_code == 201
        done = client.post(confirm, json={"basis": "dna", "detail": "lab report 16 Nov"}, headers=auth(HUM))
        assert done.status_code == 200 and done.json()["status"] == "confirmed" and done.json()["basis"] == "dna"
        assert client.get(f"/api/v1/bodies/{number}", headers=auth(HUM)).json()["identified_as"] == missing["number"]
        revoked = client.post(f"/api/v1/identifications/{ident}/revocation", json={"reason": "sample mix-up"}, headers=auth(HUM))
        assert revoked.json()["status"] == "revoked" and revoked.json()["revoke_reason"] == "sample mix-up"
        anew = client.post("/api/v1/identifications", json={"body": number, "missing_person": brother["number"]}, headers=auth(HUM))
        assert anew.status_code == 201

    def test_a_person_last_seen_after_the_recovery_is_never_confirmed(self, client: TestClient, auth: Any, recovered: dict[str, Any]) -> None:
        late = client.post("/api/v1/missing-persons", json=person(last_seen_on="2020-11-20", reported_on="2020-11-21"), headers=auth(HUM)).json()
        number = recovered["body_numbers"][0]
        ident = client.post("/api/v1/identifications", json={"body": number, "missing_person": late["number"]}, headers=auth(HUM)).json()
        response = client.post(f"/api/v1/identifications/{ident['id']}/confirmation",
                               json={"basis": "board", "detail": "x", "board_members": ["A", "B", "C"]}, headers=auth(HUM))
        assert response.status_code == 422 and "after body" in response.json()["detail"]

    def test_dental_confirmation_needs_compatible_charts(self, client: TestClient, auth: Any, recovered: dict[str, Any],
                                                         missing: dict[str, Any]) -> None:
        number = recovered["body_numbers"][0]
        ident = client.post("/api/v1/identifications", json={"body": number, "missing_person": missing["number"]}, headers=auth(HUM)).json()
        client.put(f"/api/v1/bodies/{number}/post-mortem", json={"sex": "male", "dental": {"36": "sound"}}, headers=auth(HUM))
        refused = client.post(f"/api/v1/identifications/{ident['id']}/confirmation", json={"basis": "dental", "detail": "x"}, headers=auth(HUM))
        assert refused.status_code == 422 and "disagree on 1 teeth" in refused.json()["detail"]

    def test_the_reconciliation_grid_shows_identified_and_possible_cells(self, client: TestClient, auth: Any, recovered: dict[str, Any],
                                                                          missing: dict[str, Any]) -> None:
        number = recovered["body_numbers"][0]
        client.post("/api/v1/identifications", json={"body": number, "missing_person": missing["number"]}, headers=auth(HUM))
        total = client.get("/api/v1/reconciliation", params={"bodies_limit": 1}, headers=auth(HUM)).json()["total_bodies"]
        grid = client.get("/api/v1/reconciliation", params={"bodies_offset": total - 2, "bodies_limit": 2, "persons_offset": 0,
                                                             "persons_limit": 200}, headers=auth(HUM)).json()
        cells = {(c["body"], c["missing_person"]): c["state"] for c in grid["cells"]}
        assert cells[(number, missing["number"])] == "proposed"
        assert recovered["body_numbers"][2] not in grid["bodies"]  # parts are not rows of the grid

    def test_the_grid_of_open_cases_leaves_out_the_identified(self, client: TestClient, auth: Any, recovered: dict[str, Any],
                                                              missing: dict[str, Any]) -> None:
        number = recovered["body_numbers"][0]
        ident = client.post("/api/v1/identifications", json={"body": number, "missing_person": missing["number"]}, headers=auth(HUM)).json()
        client.post(f"/api/v1/identifications/{ident['id']}/confirmation",
                    json={"basis": "board", "detail": "documents, marks and dental", "board_members": ["A", "B", "C"]}, headers=auth(HUM))
        every = client.get("/api/v1/reconciliation", params={"bodies_limit": 200, "persons_limit": 200}, headers=auth(HUM)).json()
        left = client.get("/api/v1/reconciliation", params={"bodies_limit": 200, "persons_limit": 200, "open_only": True},
                          headers=auth(HUM)).json()
        assert number in every["bodies"] and missing["number"] in every["missing_persons"]
        assert number not in left["bodies"] and missing["number"] not in left["missing_persons"]
        assert (left["total_bodies"], left["total_missing_persons"]) == (every["total_bodies"] - 1, every["total_missing_persons"] - 1)
        assert all(c["state"] != "identified" for c in left["cells"])

    def test_the_grid_of_decidable_cases_has_no_empty_row_or_column(self, client: TestClient, auth: Any,
                                                                    recovered: dict[str, Any], missing: dict[str, Any]) -> None:
        whole = {"bodies_limit": 200, "persons_limit": 200}
        left = client.get("/api/v1/reconciliation", params=whole | {"open_only": True}, headers=auth(HUM)).json()
        decidable = client.get("/api/v1/reconciliation", params=whole | {"decidable_only": True}, headers=auth(HUM)).json()
        assert decidable["cells"], "the fixture's records have candidates"
        assert {c["body"] for c in decidable["cells"]} == set(decidable["bodies"])
        assert {c["missing_person"] for c in decidable["cells"]} == set(decidable["missing_persons"])
        assert decidable["total_bodies"] == len(decidable["bodies"]) <= left["total_bodies"]
        # the same cells as the open grid's: only the empty rows and columns left out
        key = lambda c: (c["body"], c["missing_person"], c["state"], c["weight"])  # noqa: E731
        assert sorted(map(key, decidable["cells"])) == sorted(map(key, left["cells"]))
        second = client.get("/api/v1/reconciliation", params={"bodies_offset": 1, "bodies_limit": 1, "persons_limit": 200,
                                                              "decidable_only": True}, headers=auth(HUM)).json()
        assert second["bodies"] == decidable["bodies"][1:2]


@pytest.mark.usefixtures("scenario")
class TestHandover:
    def test_a_handover_ends_custody_and_lists_the_particulars(self, client: TestClient, auth: Any, recovered: dict[str, Any],
                                                                missing: dict[str, Any]) -> None:
        numbers = recovered["body_numbers"]
        ident = client.post("/api/v1/identifications", json={"body": numbers[0], "missing_person": missing["number"]}, headers=auth(HUM)).json()
        client.post(f"/api/v1/identifications/{ident['id']}/confirmation",
                    json={"basis": "board", "detail": "documents, marks and dental", "board_members": ["A", "B", "C"]}, headers=auth(HUM))
        response = client.post("/api/v1/handovers", json=handover(numbers), headers=auth(HUM))
        assert response.status_code == 201, response.text
        done = response.json()
        assert (done["bodies"], done["parts"], done["identified"]) == (2, 1, 1) and done["number"].startswith("HO-2020-")
        named = next(i for i in done["items"] if i["identified"])
        assert named["family_name"] == "Synthetic" and named["service_number"] == "AB 100200" and named["cause_of_death"] == "shrapnel wounds"
        chain = client.get(f"/api/v1/bodies/{numbers[1]}/custody", headers=auth(HUM)).json()
        assert chain[-1]["kind"] == "handed_over" and chain[-1]["handover_id"] == done["id"]
        twice = client.post("/api/v1/handovers", json=handover(numbers[:1], at="2020-11-16T10:00:00Z"), headers=auth(HUM))
        assert twice.status_code == 409 and numbers[0] in twice.json()["detail"]
        after = client.post(f"/api/v1/bodies/{numbers[1]}/custody", json={"kind": "stored", "at": "2020-11-16T10:00:00Z", "place": "x"},
                            headers=auth(HUM))
        assert after.status_code == 409 and "no longer holds it" in after.json()["detail"]
        page = client.get(f"/api/v1/handovers/{done['id']}/list", headers=auth(HUM))
        assert page.status_code == 200 and numbers[0] in page.text and "Synthetic Testperson" in page.text
        pdf = client.get(f"/api/v1/handovers/{done['id']}/list", params={"format": "pdf"}, headers=auth(HUM))
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
        assert pdf.content == client.get(f"/api/v1/handovers/{done['id']}/list", params={"format": "pdf"}, headers=auth(HUM)).content

    def test_refusals(self, client: TestClient, auth: Any, recovered: dict[str, Any], missing: dict[str, Any]) -> None:
        numbers = recovered["body_numbers"]
        ident = client.post("/api/v1/identifications", json={"body": numbers[0], "missing_person": missing["number"]}, headers=auth(HUM)).json()
        client.post(f"/api/v1/identifications/{ident['id']}/confirmation",
                    json={"basis": "board", "detail": "x", "board_members": ["A", "B", "C"]}, headers=auth(HUM))
        wrong_side = client.post("/api/v1/handovers", json=handover(numbers[:1], to_side="B"), headers=auth(HUM))
        assert wrong_side.status_code == 422 and "other side" in wrong_side.json()["detail"]
        twice = client.post("/api/v1/handovers", json=handover([numbers[1], numbers[1]]), headers=auth(HUM))
        assert twice.status_code == 422 and field_of(twice) == "body.bodies"
        unknown = client.post("/api/v1/handovers", json=handover(["PW-2020-999999"]), headers=auth(HUM))
        assert unknown.status_code == 422
        early = client.post("/api/v1/handovers", json=handover(numbers[1:2], at="2020-11-13T10:00:00Z"), headers=auth(HUM))
        assert early.status_code == 422 and "out of time order" in early.json()["detail"]

    def test_a_liaison_sees_the_handovers_to_its_side_only(self, client: TestClient, auth: Any, recovered: dict[str, Any]) -> None:
        done = client.post("/api/v1/handovers", json=handover(recovered["body_numbers"][1:2], to_side="B"), headers=auth(HUM)).json()
        assert client.get(f"/api/v1/handovers/{done['id']}", headers=auth("liaison-b")).status_code == 200
        assert client.get(f"/api/v1/handovers/{done['id']}/list", headers=auth("liaison-b")).status_code == 200
        assert client.get(f"/api/v1/handovers/{done['id']}", headers=auth("liaison-a")).status_code == 404
        assert done["id"] not in {h["id"] for h in client.get("/api/v1/handovers", headers=auth("liaison-a")).json()}

    def test_the_list_handed_to_a_side_is_printed_in_its_readers_language(self, client: TestClient, auth: Any,
                                                                         recovered: dict[str, Any], missing: dict[str, Any]) -> None:
        numbers = recovered["body_numbers"]
        ident = client.post("/api/v1/identifications", json={"body": numbers[0], "missing_person": missing["number"]}, headers=auth(HUM)).json()
        client.post(f"/api/v1/identifications/{ident['id']}/confirmation",
                    json={"basis": "board", "detail": "documents", "board_members": ["A", "B", "C"]}, headers=auth(HUM))
        done = client.post("/api/v1/handovers", json=handover(numbers), headers=auth(HUM)).json()
        url = f"/api/v1/handovers/{done['id']}/list"
        russian = client.get(url, params={"lang": "ru"}, headers=auth("liaison-a"))
        assert russian.status_code == 200 and russian.headers["content-language"] == "ru"
        for words in ("Передача останков", "Передано стороне", "сторона A", "Номер тела", "не опознан", "Свидетель", "Synthetic Testperson"):
            assert words in russian.text, words
        for english in ("Handover of remains", "To side", "Body number", "unidentified", "Witness"):
            assert english not in russian.text, english
        by_header = client.get(url, headers=auth("liaison-a") | {"Accept-Language": "ru-RU,ru;q=0.9"})
        assert "Передача останков" in by_header.text  # the reader's language when none is asked for
        pdf = client.get(url, params={"lang": "ru", "format": "pdf"}, headers=auth("liaison-a"))
        assert pdf.content.startswith(b"%PDF") and pdf.headers["content-disposition"].endswith('-ru.pdf"')
        assert client.get(url, params={"lang": "fr"}, headers=auth("liaison-a")).status_code == 422


@pytest.mark.usefixtures("scenario")
class TestAccess:
    @pytest.mark.parametrize("who", ["ops", "press", "observer", "patrol", "air", "liaison-a"])
    def test_personal_data_is_for_the_humanitarian_cell(self, client: TestClient, auth: Any, recovered: dict[str, Any], who: str) -> None:
        number = recovered["body_numbers"][0]
        for url in ("/api/v1/bodies", f"/api/v1/bodies/{number}", f"/api/v1/bodies/{number}/candidates", "/api/v1/recoveries",
                    "/api/v1/reconciliation", "/api/v1/identifications", "/api/v1/custody/verify", "/api/v1/dna-results"):
            assert client.get(url, headers=auth(who)).status_code == 403, url
        assert client.post("/api/v1/recoveries", json=recovery(), headers=auth(who)).status_code == 403
        if who != "liaison-a":
            assert client.get("/api/v1/missing-persons", headers=auth(who)).status_code == 403

    def test_anonymous_readers_get_only_the_aggregate_figures(self, client: TestClient) -> None:
        assert client.get("/api/v1/bodies").status_code == 401
        assert client.get("/api/v1/handovers").status_code == 401
        figures = client.get("/api/v1/casualty-figures")
        assert figures.status_code == 200 and "family_name" not in figures.text


@pytest.mark.usefixtures("scenario")
class TestFigures:
    def test_figures_count_bodies_not_parts_and_follow_identification(self, client: TestClient, auth: Any, missing: dict[str, Any]) -> None:
        def totals(day: str) -> dict[str, Any]:
            series = client.get("/api/v1/casualty-figures", params={"since": day, "until": day}).json()
            return series["days"][0]["A"]["total"]

        before = totals("2020-11-16")
        done = client.post("/api/v1/recoveries", json=recovery(), headers=auth(HUM)).json()
        numbers = done["body_numbers"]
        after = totals("2020-11-16")
        assert after["recovered"] - before["recovered"] == 2  # two bodies and one part
        assert client.post("/api/v1/handovers", json=handover(numbers[1:]), headers=auth(HUM)).status_code == 201
        ident = client.post("/api/v1/identifications", json={"body": numbers[0], "missing_person": missing["number"]}, headers=auth(HUM)).json()
        client.post(f"/api/v1/identifications/{ident['id']}/confirmation",
                    json={"basis": "board", "detail": "x", "board_members": ["A", "B", "C"]}, headers=auth(HUM))
        now = client.get("/api/v1/casualty-figures", params={"since": "2020-11-16"}).json()["days"][-1]["A"]["total"]
        assert now["handed_over"] - before["handed_over"] == 1
        assert now["identified"] - before["identified"] == 1
        assert now["deaths_confirmed"] - before["deaths_confirmed"] == 2
        assert now["still_missing"] == now["missing_reported"] - now["identified"]
        csv_text = client.get("/api/v1/casualty-figures", params={"format": "csv", "since": "2020-11-13", "until": "2020-11-14"}).text
        rows = list(csv.DictReader(io.StringIO(csv_text)))
        assert [r["side"] for r in rows] == ["A", "B", "total"] * 2 and "new_deaths_confirmed" in rows[0]
        chart = client.get("/api/v1/casualty-figures/chart", params={"since": "2020-11-13", "until": "2020-11-20"})
        assert chart.headers["content-type"] == "image/png" and chart.content.startswith(b"\x89PNG")
        russian = client.get("/api/v1/casualty-figures/chart", params={"since": "2020-11-13", "until": "2020-11-20"},
                             headers={"Accept-Language": "ru"})
        assert russian.content.startswith(b"\x89PNG") and russian.content != chart.content  # its words in the reader's language

    def test_a_span_too_long_or_backwards_is_refused(self, client: TestClient) -> None:
        assert client.get("/api/v1/casualty-figures", params={"since": "0420-01-01", "until": "2020-01-01"}).status_code == 422
        assert client.get("/api/v1/casualty-figures", params={"since": "2020-11-10", "until": "2020-11-01"}).status_code == 422
