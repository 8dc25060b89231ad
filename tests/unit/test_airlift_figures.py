"""Airlift figures and strength at a moment, pure: window edges, time zones, in-transit caution, ceilings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from peacewatch.airlift.figures import Movement, Strength, airlift_figures, first_breach, strength_at, strength_series

MOSCOW = ZoneInfo("Europe/Moscow")
BAKU = ZoneInfo("Asia/Baku")
AT = datetime(2020, 11, 14, 12, 0, tzinfo=MOSCOW)


def on_day(at: datetime) -> date:
    return at.astimezone(BAKU).date()


def flight(landed: datetime | None, *, inbound: bool = True, personnel: int = 100, hours: float = 4, kind: str = "Il-76MD",
           vehicles: int = 0, tonnes: float = 0.0) -> Movement:
    left = (landed or AT) - timedelta(hours=hours)
    return Movement(inbound=inbound, left_at=left, arrived_at=landed, personnel=personnel, vehicles=vehicles, tonnes=tonnes,
                    aircraft_type=kind)


def test_the_past_24_hours_exclude_a_landing_exactly_a_day_before_and_include_one_at_the_moment() -> None:
    flights = [flight(AT - timedelta(hours=24)), flight(AT - timedelta(hours=24) + timedelta(seconds=1)), flight(AT),
               flight(AT + timedelta(seconds=1)), flight(None)]
    figures = airlift_figures(flights, AT, on_day)
    assert (figures["flights"], figures["flights_past_24h"]) == (3, 2)


def test_the_moment_may_be_given_in_any_zone_and_days_are_the_missions() -> None:
    landed = datetime(2020, 11, 13, 21, 30, tzinfo=UTC)  # 00:30 on the 14th in Baku
    flights = [flight(landed, vehicles=3, tonnes=20.5), flight(landed, inbound=False, kind="An-124")]
    utc = airlift_figures(flights, AT.astimezone(UTC), on_day)
    local = airlift_figures(flights, AT, on_day)
    assert utc["flights"] == local["flights"] == 2
    assert [str(d["day"]) for d in local["by_day"]] == ["2020-11-14"]
    assert local["personnel_delivered"] == 100 and local["vehicles_delivered"] == 3 and local["tonnes_delivered"] == 20.5
    assert local["by_aircraft_type"]["An-124"]["flights"] == 1 and local["by_aircraft_type"]["An-124"]["personnel"] == 0


def test_people_in_the_air_count_towards_a_ceiling_but_not_towards_the_minimum() -> None:
    airborne = Movement(inbound=True, left_at=AT - timedelta(hours=1), arrived_at=None, personnel=120, aircraft_type="Il-76MD")
    assert strength_at([airborne], AT).personnel == 120
    assert strength_at([airborne], AT, towards_ceiling=False).personnel == 0


def test_a_rotation_that_lands_before_the_old_unit_leaves_breaks_the_ceiling_at_take_off() -> None:
    base = [flight(AT - timedelta(days=2), personnel=1900)]
    new_unit = flight(AT + timedelta(hours=5), personnel=100)
    old_unit = flight(AT + timedelta(hours=10), inbound=False, personnel=100)
    breach = first_breach([*base, new_unit, old_unit], ceilings=Strength(1960, 0, 0))
    assert breach is not None and breach.measure == "personnel" and breach.value == 2000 and breach.above
    assert breach.at == new_unit.left_at
    swapped = [*base, flight(AT + timedelta(hours=12), personnel=100), flight(AT + timedelta(hours=6), inbound=False, personnel=100)]
    assert first_breach(swapped, ceilings=Strength(1960, 0, 0)) is None
    short = first_breach(swapped, ceilings=Strength(1960, 0, 0), minimum=Strength(1850, 0, 0))
    assert short is not None and not short.above and short.value == 1800  # the old unit has gone, the new one not yet landed


def test_the_minimum_applies_only_once_the_build_up_reached_it() -> None:
    arriving = [flight(AT - timedelta(hours=h), personnel=100) for h in (30, 20, 10)]
    assert first_breach(arriving, ceilings=Strength(1960, 0, 0), minimum=Strength(250, 0, 0)) is None


def test_road_convoys_are_counted_per_day_and_only_the_force_in_strength() -> None:
    landed = datetime(2020, 11, 14, 8, tzinfo=UTC)
    returnees = Movement(inbound=True, left_at=landed - timedelta(hours=5), arrived_at=landed, personnel=400, vehicles=12,
                         kind="returnees")
    cargo = Movement(inbound=True, left_at=landed - timedelta(hours=5), arrived_at=landed, tonnes=36.5, kind="humanitarian")
    engineers = Movement(inbound=True, left_at=landed - timedelta(hours=5), arrived_at=landed, personnel=30, vehicles=6)
    figures = airlift_figures([returnees, cargo, engineers], AT, on_day)
    day = figures["by_day"][0]
    assert (day["convoys"], day["returnees"], day["convoy_personnel"], day["convoy_tonnes"], day["flights"]) == (3, 400, 30, 36.5, 0)
    assert figures["flights"] == 0 and figures["personnel_delivered"] == 0  # the airlift's figures count flights only
    assert strength_at([returnees, cargo, engineers], AT) == Strength(30, 0, 6)


def test_a_strength_series_agrees_with_strength_at_each_moment() -> None:
    movements = [flight(AT - timedelta(hours=h), personnel=10 * h, inbound=h % 3 != 0) for h in range(1, 30)]
    moments = [AT - timedelta(hours=h) for h in range(40, -1, -1)]
    for towards_ceiling in (True, False):
        series = strength_series(movements, moments, towards_ceiling=towards_ceiling)
        assert series == [strength_at(movements, m, towards_ceiling=towards_ceiling) for m in moments]


def test_a_breach_on_record_before_the_moment_asked_about_does_not_hide_a_later_one() -> None:
    over = [flight(AT - timedelta(days=3), personnel=1990), flight(AT - timedelta(days=2), inbound=False, personnel=100)]
    later = flight(AT + timedelta(days=1), personnel=100)
    assert first_breach([*over, later], ceilings=Strength(1960, 0, 0)).at == over[0].left_at  # the logged excess
    since = first_breach([*over, later], ceilings=Strength(1960, 0, 0), since=later.left_at)
    assert since is not None and since.at == later.left_at and since.value == 1990
    assert first_breach(over, ceilings=Strength(1960, 0, 0), since=later.left_at) is None


def test_the_strength_book_answers_as_summing_every_movement_while_movements_come_and_go() -> None:
    """The running book an import checks departures against agrees with strength_at at every moment,
    whatever the order movements are added in, and after some are withdrawn (a flight corrected)."""
    import random

    from peacewatch.airlift.figures import StrengthBook

    rng = random.Random(5)
    start = datetime(2020, 11, 10, tzinfo=UTC)
    book = StrengthBook(towards_ceiling=False)
    kept: list[Movement] = []
    for n in range(600):
        left = start + timedelta(minutes=rng.randrange(60 * 24 * 30), microseconds=rng.randrange(2))
        landed = None if rng.random() < 0.1 else left + timedelta(hours=rng.uniform(0.5, 6))
        movement = Movement(rng.random() < 0.6, left, landed, rng.randrange(200), rng.randrange(5), rng.randrange(20),
                            aircraft_type="Il-76", kind="force" if rng.random() < 0.9 else "returnees")
        book.add(movement)
        kept.append(movement)
        if n % 7 == 3:  # a correction: one movement withdrawn
            gone = kept.pop(rng.randrange(len(kept)))
            book.add(gone, -1)
        if n % 50 == 0:
            for _ in range(20):
                at = start + timedelta(minutes=rng.randrange(60 * 24 * 31))
                assert book.at(at) == strength_at(kept, at, towards_ceiling=False)
            edge = kept[-1].arrived_at or kept[-1].left_at  # a change exactly at the moment counts
            assert book.at(edge) == strength_at(kept, edge, towards_ceiling=False)
            assert book.at(edge - timedelta(microseconds=1)) == strength_at(kept, edge - timedelta(microseconds=1), towards_ceiling=False)


def test_the_airlift_book_gives_the_figures_of_summing_every_movement_at_any_moment() -> None:
    """Figures, build-up and strength from the book equal those of the movements left by each moment."""
    import random

    from peacewatch.airlift.figures import AirliftBook

    rng = random.Random(11)
    zone = ZoneInfo("Asia/Baku")

    def day_of(at: datetime) -> date:
        return at.astimezone(zone).date()

    start = datetime(2020, 11, 10, tzinfo=UTC)
    movements = []
    for _ in range(700):
        left = start + timedelta(minutes=rng.randrange(60 * 24 * 20))
        landed = None if rng.random() < 0.05 else left + timedelta(minutes=rng.choice([0, 90, 240, 600]))
        if rng.random() < 0.8:
            movements.append(Movement(rng.random() < 0.6, left, landed, rng.randrange(150), rng.randrange(4), rng.randrange(12),
                                      round(rng.uniform(0, 40), 3), aircraft_type=rng.choice(["Il-76", "An-124", "Il-62"])))
        else:
            movements.append(Movement(rng.random() < 0.5, left, landed, rng.randrange(300), 0, rng.randrange(30),
                                      round(rng.uniform(0, 90), 3), kind=rng.choice(["force", "returnees", "humanitarian"])))
    book = AirliftBook(movements, day_of)
    assert book.regular
    moments = [start + timedelta(minutes=rng.randrange(60 * 24 * 22)) for _ in range(60)]
    moments += [m.arrived_at for m in movements[:20] if m.arrived_at is not None]  # a landing exactly at the moment
    for at in moments:
        left = [m for m in movements if m.left_at <= at]
        assert book.figures(at) == airlift_figures(left, at, day_of), at
        ends = [at - timedelta(hours=h) for h in (72, 30, 5, 0)]
        assert book.strength_series(ends) == strength_series(left, ends, towards_ceiling=False)
        for side in (False, True):
            assert book.strength_at(at, towards_ceiling=side) == strength_at(left, at, towards_ceiling=side)
