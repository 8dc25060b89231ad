"""The reports' pure parts: figures per reporting day, the words in two languages, the Markdown, the demining measures."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import box

from peacewatch.airlift.figures import Movement, Strength
from peacewatch.demining.service import hectares_of, hectares_problem
from peacewatch.incidents.figures import ReportRow, summarise
from peacewatch.incidents.models import IncidentStatus, IncidentType, SourceKind
from peacewatch.publication import wording
from peacewatch.publication.daily import (
    ClearanceRecord,
    Mission,
    MovementRecord,
    PatrolRecord,
    Place,
    PostRecord,
    Records,
    ReturnRecord,
    day_figures,
)
from peacewatch.publication.document import Document, Section, Sentence, Table, to_markdown
from peacewatch.remains.figures import Fact, casualties_on, casualty_series

BAKU = ZoneInfo("Asia/Baku")
MISSION = Mission("Test mission", date(2020, 11, 10), Strength(1960, 90, 380), Strength(1800, 80, 340), BAKU, time(19, 30))
NORTH, SOUTH = Place(1, "north", "North area", "area_of_responsibility"), Place(2, "south", "South area", "area_of_responsibility")
GENERATED = datetime(2026, 1, 1, tzinfo=UTC)


def baku(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2020, 11, day, hour, minute, tzinfo=BAKU).astimezone(UTC)


def landed(id_: int, at: datetime, personnel: int = 10) -> MovementRecord:
    movement = Movement(inbound=True, left_at=at - timedelta(hours=4), arrived_at=at, personnel=personnel, tonnes=5.0,
                        aircraft_type="Il-76MD")
    return MovementRecord(id_, "flights", movement, MISSION.day_of(at))


def event(id_: int, at: datetime, status: IncidentStatus = IncidentStatus.reported, kind: IncidentType = IncidentType.ceasefire_violation,
          district: int | None = 3) -> ReportRow:
    return ReportRow(id=id_, event_id=id_, type=kind, subtype=None, status=status, source=SourceKind.patrol, started_at=at,
                     ended_at=at + timedelta(minutes=5), lat=39.8, lon=47.1, zone_id=2, district_id=district, event_count=1,
                     alleged_actors=(), casualties=(0,) * 8)


def records(**changes: object) -> Records:
    values: dict[str, object] = dict(
        mission=MISSION, internal=False, places={1: NORTH, 2: SOUTH, 3: Place(3, "d", "Martuni district", "district")},
        movements=[], posts=[], patrols=[], events=[], casualty_facts=[], handovers=[], returns=[], clearances=[],
    )
    return Records(**(values | changes))  # type: ignore[arg-type]


def test_a_flight_counts_on_the_reporting_day_it_landed_and_every_day_after() -> None:
    found = records(movements=[landed(1, baku(14, 19, 29)), landed(2, baku(14, 19, 30)), landed(3, baku(13, 19, 30))])
    on_14, on_15 = day_figures(found, date(2020, 11, 14))["airlift"], day_figures(found, date(2020, 11, 15))["airlift"]
    assert (on_14["flights_total"], on_14["flights_day"], on_14["records"]["flights_day"]) == (2, 2, [1, 3])  # 19:30 is the 15th's
    assert (on_15["flights_total"], on_15["flights_day"], on_15["records"]["flights_day"]) == (3, 1, [2])
    assert on_15["personnel_delivered_total"] == 30 and on_15["strength"]["in_theatre"]["personnel"] == 30


def test_patrolling_begins_once_per_area_and_counts_only_patrols_that_went_out() -> None:
    patrols = [PatrolRecord(1, 1, date(2020, 11, 14), "completed", True), PatrolRecord(2, 2, date(2020, 11, 14), "planned", False),
               PatrolRecord(3, 2, date(2020, 11, 15), "under_way", True), PatrolRecord(4, 1, date(2020, 11, 15), "aborted", True)]
    first, second = (day_figures(records(patrols=patrols), date(2020, 11, d))["patrols"] for d in (14, 15))
    assert (first["began_in"], first["planned"], first["carried_out"]) == (["North area"], 2, 1)
    assert first["by_area"]["South area"] == {"planned": 1, "carried_out": 0, "not_started": 1, "under_way": 0, "completed": 0,
                                              "aborted": 0, "began_on": None, "carried_out_total": 0}
    assert (second["began_in"], second["carried_out_total"]) == (["South area"], 3)


def test_violations_are_events_of_the_day_without_rejected_ones_and_restrictions_apart() -> None:
    rows = [event(1, baku(14, 10)), event(2, baku(14, 11), IncidentStatus.rejected), event(3, baku(13, 10)), event(4, baku(13, 11)),
            event(5, baku(14, 12), kind=IncidentType.restriction_of_movement)]
    figures = day_figures(records(events=summarise(rows)), date(2020, 11, 14))["incidents"]
    assert (figures["events"], figures["change"], figures["events_total"]) == (1, -1, 3)
    assert figures["by_district"] == {"Martuni district": 1} and [r["event"] for r in figures["restrictions"]] == [5]
    assert figures["records"]["events"] == [1]


def test_posts_returns_and_demining_count_the_day_and_the_running_total() -> None:
    posts = [PostRecord(1, "N-01", "observation_post", 1, date(2020, 11, 13), None),
             PostRecord(2, "C-01", "observation_post", 2, date(2020, 11, 14), date(2020, 11, 18))]
    returns = [ReturnRecord(1, date(2020, 11, 14), "Goris - Lachin", 200), ReturnRecord(2, date(2020, 11, 15), "Goris - Lachin", 50)]
    cleared = [ClearanceRecord(1, date(2020, 11, 15), "Engineers", "Field", 2.5, 1.0, 3, 40)]
    found = records(posts=posts, returns=returns, clearances=cleared)
    on_15, on_18 = day_figures(found, date(2020, 11, 15)), day_figures(found, date(2020, 11, 18))
    assert (on_15["returns"]["people_day"], on_15["returns"]["people_total"], on_15["returns"]["began_on"]) == (50, 250, "2020-11-14")
    assert on_15["demining"]["day"] == {"hectares": 2.5, "road_km": 1.0, "buildings": 3, "explosive_objects": 40}
    assert on_18["demining"]["day"]["explosive_objects"] == 0 and on_18["demining"]["total"]["explosive_objects"] == 40
    assert (on_15["posts"]["open"], on_18["posts"]["open"], on_18["posts"]["closed"]) == (2, 1, 1)
    assert "alerts" not in on_15 and "force" not in on_15  # a public scope has no internal sections


def test_one_day_of_casualty_figures_is_that_day_of_the_series() -> None:
    facts = [Fact(date(2020, 11, 12) + timedelta(days=i % 9), "AB"[i % 2], measure, 1 + i % 3)
             for i, measure in enumerate(["missing_reported", "recovered", "identified", "handed_over", "deaths_confirmed"] * 7)]
    series = casualty_series(facts, date(2020, 11, 10), date(2020, 11, 22))
    for row in series["days"]:
        assert casualties_on(facts, row["day"]) == {side: row[side] for side in ("A", "B", "total")}, row["day"]


def test_casualty_figures_follow_the_facts_up_to_the_day() -> None:
    facts = [Fact(date(2020, 11, 13), "A", "handed_over"), Fact(date(2020, 11, 14), "B", "handed_over", 2),
             Fact(date(2020, 11, 14), "B", "recovered", 3)]
    on_14 = day_figures(records(casualty_facts=facts), date(2020, 11, 14))["remains"]["sides"]
    assert on_14["total"]["total"]["handed_over"] == 3 and on_14["B"]["new"]["handed_over"] == 2
    assert on_14["total"]["total"]["recovered"] == 3


@pytest.mark.parametrize(("n", "russian"), [(1, "1 рейс"), (2, "2 рейса"), (5, "5 рейсов"), (21, "21 рейс"), (1112, "1 112 рейсов")])
def test_russian_plurals_and_numbers(n: int, russian: str) -> None:
    words = wording.Words("ru")
    said = words.ngettext("%(n)s flight", "%(n)s flights", n)
    assert " ".join(said.replace("\u00a0", " ").replace("\u202f", " ").split()) == russian  # babel groups digits with a no-break space
    assert wording.Words("en").ngettext("%(n)s flight", "%(n)s flights", n).endswith("flight" if n == 1 else "flights")


def test_a_bulletin_leaves_out_what_it_has_no_figure_for() -> None:
    quiet = day_figures(records(), date(2020, 11, 14))
    doc = wording.bulletin(quiet, mission="Test mission", language="en", generated_at=GENERATED)
    assert doc.sections == []  # no "no violations": the bulletin cannot see restricted records, so it says nothing
    busy = day_figures(records(movements=[landed(1, baku(14, 10))]), date(2020, 11, 14))
    text = to_markdown(wording.bulletin(busy, mission="Test mission", language="en", generated_at=GENERATED))
    assert "the planes have made 1 flight, 1 of them in the past 24 hours" in text and "Ceasefire" not in text


def test_markdown_keeps_tables_whole_when_a_cell_holds_a_pipe() -> None:
    doc = Document("bulletin", "en", "Title", "Sub", ["note"], [Section("S", [
        Sentence("One."), Sentence("Two."), Table(("name", "n"), (("a | b", "1"),), numeric=(False, True))])], GENERATED, "made")
    text = to_markdown(doc)
    assert "One. Two.\n" in text and "| a \\| b | 1 |" in text and "| --- | ---: |" in text


def test_hectares_are_measured_on_the_ellipsoid_and_a_stated_area_must_agree() -> None:
    square = box(46.75, 39.80, 46.76, 39.81)  # about 0.86 km by 1.11 km at this latitude
    measured = hectares_of(square)
    assert 90 < measured < 100
    assert hectares_problem(measured * 1.05, measured) is None
    assert "polygon covers" in str(hectares_problem(measured * 1.2, measured))
    assert hectares_problem(12.0, None) is None
