"""The figures of a day in words, English or Russian: the public bulletin and the internal situation report.

Every sentence is written from the figures only, and names the figures it quotes. A sentence whose
figures are zero is left out rather than saying "no violations": a bulletin counts public records
only, and "none" would be a claim about records it cannot see.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from peacewatch.core.calendar import zone_caption
from peacewatch.core.i18n import LABELS, N_, translations
from peacewatch.publication.document import Document, Picture, Section, Sentence, Table

LOCALES = {"en": "en_GB", "ru": "ru_RU"}
SIDE_NAMES = {"A": N_("side A"), "B": N_("side B")}
EXTRA_LABELS = {
    "headquarters": N_("Headquarters"), "military_police": N_("Military police"), "motor_rifle": N_("Motor rifle"),
    "engineers": N_("Engineers and demining"), "medical": N_("Medical"), "logistics": N_("Logistics"),
    "aviation": N_("Aviation"), "force": N_("The force's own"), "humanitarian": N_("Humanitarian cargo"),
    "returnees": N_("Returning civilians"), "personnel": N_("Personnel"), "armoured": N_("Armoured vehicles"),
    "vehicles": N_("Other vehicles and equipment"), "outside the areas": N_("outside the areas"),
    "unassigned": N_("unassigned"),
}


class Words:
    """Translation, plurals, numbers and dates in one language."""

    def __init__(self, language: str, names: Mapping[str, str] | None = None):
        self.language = language
        self.locale = LOCALES[language]
        self._t = translations(language)
        self.names = dict(names or {})  # a record's name -> its name in this language, as the record gives it

    def _(self, message: str, **values: Any) -> str:
        text = self._t.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int | float, **values: Any) -> str:
        return self._t.ngettext(singular, plural, int(n)) % {"n": self.num(n), **values}

    def num(self, value: int | float) -> str:
        return format_decimal(value, format="#,##0.#", locale=self.locale)

    def date(self, day: date | str) -> str:
        return format_date(date.fromisoformat(day) if isinstance(day, str) else day, format="long", locale=self.locale)

    def moment(self, at: datetime) -> str:
        return format_datetime(at, format="d MMMM y, HH:mm", tzinfo=at.tzinfo, locale=self.locale)

    def label(self, key: str) -> str:
        """An enum value or a place name in words: place names the catalogs know are translated too."""
        if key in self.names:  # a zone's own name in this language (a district named in Russian by whoever drew it)
            return self.names[key]
        if "/" in key:  # an incident type with its sub-type: the sub-type says more
            key = key.split("/", 1)[1]
        return self._t.gettext(LABELS.get(key) or EXTRA_LABELS.get(key) or key)

    def side(self, side: str) -> str:
        return self._(SIDE_NAMES.get(side, side))

    def listing(self, parts: list[str]) -> str:
        """"a, b and c" in the language's way."""
        if len(parts) <= 1:
            return "".join(parts)
        return self._("%(items)s and %(last)s", items=", ".join(parts[:-1]), last=parts[-1])

    def percent(self, share: float) -> str:
        return f"{self.num(round(share * 100, 1))} %"


def _in_places(w: Words, counts: dict[str, int]) -> str:
    """"North area of responsibility: 6, Lachin corridor: 4": names are data, so no grammar is asked of them."""
    return ", ".join(w._("%(place)s: %(n)s", n=w.num(n), place=w.label(place)) for place, n in counts.items() if n)


# --- sentences both reports share ---------------------------------------------------------------------

def airlift_sentences(w: Words, f: dict[str, Any]) -> list[Sentence]:
    a = f["airlift"]
    out = []
    if a["flights_total"]:
        out.append(Sentence(w._(
            "Since the start of the operation the planes have made %(flights)s, %(today)s of them in the past 24 hours.",
            flights=w.ngettext("%(n)s flight", "%(n)s flights", a["flights_total"]), today=w.num(a["flights_day"])),
            ("airlift.flights_total", "airlift.flights_day")))
    if a["personnel_delivered_total"] or a["vehicles_delivered_total"]:
        out.append(Sentence(w._(
            "They have delivered %(people)s and %(vehicles)s, %(tonnes)s tonnes in all.",
            people=w.ngettext("%(n)s serviceman", "%(n)s servicemen", a["personnel_delivered_total"]),
            vehicles=w.ngettext("%(n)s vehicle or piece of equipment", "%(n)s vehicles and pieces of equipment",
                                a["vehicles_delivered_total"]),
            tonnes=w.num(a["tonnes_delivered_total"])),
            ("airlift.personnel_delivered_total", "airlift.vehicles_delivered_total", "airlift.tonnes_delivered_total")))
    return out


def posts_sentences(w: Words, f: dict[str, Any]) -> list[Sentence]:
    p = f["posts"]
    if not p["open"]:
        return []
    text = w.ngettext("The peacekeepers man %(n)s post (%(where)s).", "The peacekeepers man %(n)s posts (%(where)s).", p["open"],
                      where=_in_places(w, {k: v["open"] for k, v in p["by_zone"].items()}))
    out = [Sentence(text, ("posts.open", "posts.by_zone"))]
    if p["opened"]:
        out.append(Sentence(w.ngettext("%(n)s post was opened during the day.", "%(n)s posts were opened during the day.",
                                       p["opened"]), ("posts.opened",)))
    return out


def patrol_sentences(w: Words, f: dict[str, Any]) -> list[Sentence]:
    p = f["patrols"]
    out = []
    if p["began_in"]:
        out.append(Sentence(w._("Military police units began patrolling: %(areas)s.",
                                areas=w.listing([w.label(a) for a in p["began_in"]])), ("patrols.began_in",)))
    if p["carried_out"]:
        counts = {area: row["carried_out"] for area, row in p["by_area"].items()}
        out.append(Sentence(w.ngettext("%(n)s patrol was carried out (%(where)s).", "%(n)s patrols were carried out (%(where)s).",
                                       p["carried_out"], where=_in_places(w, counts)), ("patrols.carried_out", "patrols.by_area")))
    return out


def incident_sentences(w: Words, f: dict[str, Any]) -> list[Sentence]:
    i = f["incidents"]
    out = []
    if i["events"]:
        out.append(Sentence(w.ngettext("%(n)s ceasefire violation was recorded (%(where)s).",
                                       "%(n)s ceasefire violations were recorded (%(where)s).", i["events"],
                                       where=_in_places(w, i["by_district"])), ("incidents.events", "incidents.by_district")))
    if i["restrictions"]:
        out.append(Sentence(w.ngettext(
            "The peacekeepers' freedom of movement was restricted once.",
            "The peacekeepers' freedom of movement was restricted %(n)s times.", len(i["restrictions"])),
            ("incidents.restrictions",)))
    return out


def remains_sentences(w: Words, f: dict[str, Any]) -> list[Sentence]:
    r = f["remains"]
    total = r["sides"]["total"]["total"]
    out = []
    if r["handed_over_day"]:
        by_side: dict[str, int] = {}
        for h in r["handovers_day"]:
            by_side[h["to_side"]] = by_side.get(h["to_side"], 0) + h["bodies"]
        where = w.listing([w._("%(n)s to %(side)s", n=w.num(n), side=w.side(s)) for s, n in sorted(by_side.items())])
        out.append(Sentence(w.ngettext(
            "With the peacekeepers' mediation, %(n)s body of the dead was handed over in the past 24 hours: %(where)s.",
            "With the peacekeepers' mediation, %(n)s bodies of the dead were handed over in the past 24 hours: %(where)s.",
            r["handed_over_day"], where=where), ("remains.handed_over_day", "remains.handovers_day")))
    if r["handed_over_total"]:
        out.append(Sentence(w.ngettext("Since the exchange began on %(day)s, %(n)s body has been handed over.",
                                       "Since the exchange began on %(day)s, %(n)s bodies have been handed over.",
                                       r["handed_over_total"], day=w.date(r["exchange_began_on"])),
                            ("remains.handed_over_total", "remains.exchange_began_on")))
    if total.get("recovered"):
        out.append(Sentence(w.ngettext("%(n)s body has been recovered so far.", "%(n)s bodies have been recovered so far.",
                                       total["recovered"]), ("remains.sides.total.total.recovered",)))
    if total.get("identified"):
        out.append(Sentence(w.ngettext("%(n)s of them has been identified.", "%(n)s of them have been identified.",
                                       total["identified"]), ("remains.sides.total.total.identified",)))
    return out


def relief_sentences(w: Words, f: dict[str, Any]) -> list[Sentence]:
    out = []
    ret = f["returns"]
    if ret["people_day"]:
        out.append(Sentence(w.ngettext("In the past 24 hours %(n)s refugee returned home (%(routes)s); %(total)s since %(since)s.",
                                       "In the past 24 hours %(n)s refugees returned home (%(routes)s); %(total)s since %(since)s.",
                                       ret["people_day"], routes=w.listing(list(ret["by_route"])),
                                       total=w.num(ret["people_total"]), since=w.date(ret["began_on"])),
                            ("returns.people_day", "returns.by_route", "returns.people_total")))
    cargo = f["airlift"]["convoys"]["humanitarian"]
    if cargo["day"]:
        out.append(Sentence(w._("Escorted convoys delivered %(tonnes)s tonnes of humanitarian cargo; %(total)s tonnes since the start.",
                                tonnes=w.num(cargo["tonnes_day"]), total=w.num(cargo["tonnes_total"])),
                            ("airlift.convoys.humanitarian.tonnes_day", "airlift.convoys.humanitarian.tonnes_total")))
    day, total = f["demining"]["day"], f["demining"]["total"]
    if any(day.values()):
        out.append(Sentence(w._(
            "Engineers cleared %(hectares)s ha of ground, %(road)s km of roads and %(buildings)s, and neutralised %(objects)s.",
            **_cleared(w, day)), ("demining.day",)))
    if any(total.values()):
        out.append(Sentence(w._("Since demining began: %(hectares)s ha, %(road)s km of roads, %(buildings)s and %(objects)s.",
                                **_cleared(w, total)), ("demining.total",)))
    return out


def _cleared(w: Words, measures: dict[str, Any]) -> dict[str, str]:
    """A demining tally's measures in words, for either sentence."""
    return {"hectares": w.num(measures["hectares"]), "road": w.num(measures["road_km"]),
            "buildings": w.ngettext("%(n)s building", "%(n)s buildings", measures["buildings"]),
            "objects": w.ngettext("%(n)s explosive object", "%(n)s explosive objects", measures["explosive_objects"])}


def _scope(w: Words, internal: bool) -> str:
    return w._("from all the mission's records") if internal else w._("from the mission's public records")


INTERNAL_NOTE = N_("INTERNAL: not for publication. The public bulletin is generated separately, from public records only.")


def _period_note(w: Words, f: dict[str, Any], *, internal: bool) -> str:
    zone = f["period"]["zone"]
    until = datetime.fromisoformat(f["period"]["until"]).astimezone(ZoneInfo(zone))
    return w._("Figures for the reporting day ending %(end)s (%(zone)s), %(what)s.", end=w.moment(until),
               zone=zone_caption(ZoneInfo(zone), until, w._), what=_scope(w, internal))


def range_notes(w: Words, since: date, until: date, zone: str, *, internal: bool) -> list[str]:
    notes = [w._("Figures for the reporting days %(since)s to %(until)s (%(zone)s), %(what)s.", since=w.date(since),
                 until=w.date(until), zone=zone_caption(ZoneInfo(zone), None, w._), what=_scope(w, internal))]
    return notes + [w._(INTERNAL_NOTE)] if internal else notes


def _generated(w: Words, at: datetime) -> str:
    return w._("Generated %(at)s UTC by PeaceWatch from the records; every figure is listed in the JSON edition.",
               at=at.strftime("%Y-%m-%d %H:%M:%S"))


# --- the public bulletin ------------------------------------------------------------------------------

def bulletin(f: dict[str, Any], *, mission: str, language: str, generated_at: datetime,
             pictures: dict[str, Picture] | None = None, provisional: bool = False,
             names: Mapping[str, str] | None = None) -> Document:
    """The defence ministry's daily statement: public figures only, in short sentences."""
    w = Words(language, names)
    sections = [
        Section(w._("Deployment"), [*airlift_sentences(w, f), *posts_sentences(w, f), *patrol_sentences(w, f)]),
        Section(w._("Ceasefire"), incident_sentences(w, f)),
        Section(w._("Humanitarian situation"), [*remains_sentences(w, f), *relief_sentences(w, f)]),
    ]
    pictures = pictures or {}
    photographs = [p for k, p in pictures.items() if k.startswith("photo-")]
    if "map" in pictures:
        sections.append(Section(w._("Official deployment map"), [pictures["map"]]))
    if "flights" in pictures:
        sections.append(Section(w._("Charts"), [p for k, p in pictures.items() if k != "map" and not k.startswith("photo-")]))
    if photographs:
        sections.append(Section(w._("Photographs"), photographs))
    title = w._("%(mission)s: daily bulletin", mission=w.label(mission))
    return _day_document(w, f, "bulletin", title, sections, [_period_note(w, f, internal=False)], generated_at, provisional)


# --- the internal situation report -------------------------------------------------------------------------

def _table(header: list[str], rows: list[list[Any]], w: Words, figures: tuple[str, ...], caption: str = "") -> Table:
    numeric = tuple(all(isinstance(r[i], (int, float)) for r in rows) and bool(rows) for i in range(len(header)))
    return Table(tuple(header), tuple(tuple(w.num(c) if isinstance(c, (int, float)) else str(c) for c in r) for r in rows),
                 figures, caption, numeric)


def sitrep(f: dict[str, Any], *, mission: str, language: str, generated_at: datetime,
           pictures: dict[str, Picture] | None = None, provisional: bool = False,
           names: Mapping[str, str] | None = None) -> Document:
    """The operations centre's situation report: everything, in tables, with the sentences of the bulletin on top."""
    w = Words(language, names)
    a, inc, rem = f["airlift"], f["incidents"], f["remains"]
    summary = [*airlift_sentences(w, f), *posts_sentences(w, f), *patrol_sentences(w, f), *incident_sentences(w, f),
               *remains_sentences(w, f), *relief_sentences(w, f)]

    strength = a["strength"]
    rows = []
    for key in ("personnel", "armoured", "vehicles"):
        ceiling = strength["ceilings"][key] if strength["ceilings"] else "-"
        minimum = strength["minimum"][key] if strength["minimum"] else "-"
        present = strength["in_theatre"][key]
        rows.append([w.label(key), present, ceiling, minimum, ceiling - present if isinstance(ceiling, int) else "-"])
    force_blocks: list[Any] = [_table([w._("Measure"), w._("In theatre"), w._("Ceiling"), w._("Minimum"), w._("Headroom")], rows, w,
                                      ("airlift.strength",), w._("Strength at the end of the day"))]
    if "force" in f:
        # the unit register holds each unit's strength as recorded now, not dated: on a past day it is not the
        # strength in theatre (the airlift's count above), and the table says so rather than disagree silently
        force_blocks.append(_table([w._("Unit type"), w._("Units"), w._("Personnel on the register")],
                                   [[w.label(k), v["units"], v["present"]] for k, v in f["force"]["by_type"].items()], w,
                                   ("force.by_type",),
                                   w._("Units, as the unit register stands now (the strength in theatre on the day is "
                                       "the airlift's count above)")))

    p = f["posts"]
    posts_table = _table([w._("Area"), w._("Posts open"), w._("Opened that day"), w._("Closed that day")],
                         [[w.label(z), v["open"], v["opened"], v["closed"]] for z, v in p["by_zone"].items()], w, ("posts.by_zone",))

    pat = f["patrols"]
    patrol_rows = []
    for area, row in pat["by_area"].items():
        cover = [w.percent(row[k]["share"]) if k in row else "-" for k in ("coverage_24h", "coverage_7d")]
        patrol_rows.append([w.label(area), row["planned"], row["carried_out"], row["completed"], row["aborted"],
                            row["not_started"], *cover])
    patrol_blocks: list[Any] = [*patrol_sentences(w, f)]
    if patrol_rows:
        patrol_blocks.append(_table([w._("Area"), w._("Patrols planned"), w._("Carried out"), w._("Patrols completed"), w._("Patrols aborted"),
                                     w._("Not started"), w._("Coverage, 24 h"), w._("Coverage, 7 days")],
                                    patrol_rows, w, ("patrols.by_area",)))
    else:
        patrol_blocks.append(Sentence(w._("No patrol was planned for the day."), ("patrols.planned",)))

    alert_blocks: list[Any] = []
    if "alerts" in f:
        al = f["alerts"]
        alert_blocks.append(Sentence(w._("%(raised)s raised during the day; %(open)s not closed at the day's end.",
                                         raised=w.ngettext("%(n)s alert", "%(n)s alerts", al["raised"]), open=w.num(al["open"])),
                                     ("alerts.raised", "alerts.open")))
        if al["by_kind"]:
            waited = al.get("waited", {})

            def minutes(seconds: float | None) -> str:
                return "—" if seconds is None else w._("%(m)s min", m=w.num(round(seconds / 60, 1)))

            alert_blocks.append(_table(
                [w._("Alert"), w._("Raised"), w._("Acknowledged"), w._("Waited, median"), w._("Waited, 90th percentile")],
                [[w.label(k), n, waited.get(k, {}).get("acknowledged", 0), minutes(waited.get(k, {}).get("median_s")),
                  minutes(waited.get(k, {}).get("p90_s"))] for k, n in al["by_kind"].items()], w, ("alerts.by_kind", "alerts.waited")))

    incident_blocks: list[Any] = [Sentence(w._(
        "%(events)s of the ceasefire began during the day (%(change)s on the day before); %(total)s since the start.",
        events=w.ngettext("%(n)s violation", "%(n)s violations", inc["events"]),
        change=("+" if inc["change"] > 0 else "") + w.num(inc["change"]), total=w.num(inc["events_total"])),
        ("incidents.events", "incidents.change", "incidents.events_total"))]
    for key, title in (("by_status", w._("Verification")), ("by_type", w._("Type")), ("by_district", w._("District"))):
        if inc[key]:
            incident_blocks.append(_table([title, w._("Events")], [[w.label(k), n] for k, n in inc[key].items()], w,
                                          (f"incidents.{key}",)))
    if inc["casualties"]:
        incident_blocks.append(_table([w._("Casualties"), w._("At least"), w._("At most")],
                                      [[w.label(k), v["min"], v["max"]] for k, v in inc["casualties"].items()], w,
                                      ("incidents.casualties",)))
    movement_blocks: list[Any] = []
    if inc["restrictions"]:
        movement_blocks.append(_table([w._("Event"), w._("Restriction"), w._("Area"), w._("Place"), w._("Verification")],
                                      [[str(r["event"]), w.label(r["kind"]), w.label(r["area"]), r["place"] or "-", w.label(r["status"])]
                                       for r in inc["restrictions"]], w, ("incidents.restrictions",)))
    else:
        movement_blocks.append(Sentence(w._("No restriction of movement was reported."), ("incidents.restrictions",)))

    remains_rows = []
    for side in ("A", "B", "total"):
        cell = rem["sides"][side]
        name = w.side(side) if side != "total" else w._("Both sides")
        remains_rows.append([name, *(cell["new"].get(k, 0) for k in ("recovered", "identified", "handed_over")),
                             *(cell["total"].get(k, 0) for k in ("recovered", "identified", "handed_over", "still_missing"))])
    remains_blocks: list[Any] = [_table(
        [w._("Side"), w._("Recovered today"), w._("Identified today"), w._("Handed over today"), w._("Recovered"),
         w._("Identified"), w._("Handed over"), w._("Still missing")], remains_rows, w, ("remains.sides",))]
    if rem["handovers_day"]:
        remains_blocks.append(_table([w._("Handover"), w._("Received by"), w._("Bodies")],
                                     [[h["number"], w.side(h["to_side"]), h["bodies"]] for h in rem["handovers_day"]], w,
                                     ("remains.handovers_day",), w._("Handovers of the day")))

    movement_rows = [[k, v["day"], v["total"]] for k, v in a["by_aircraft_type"].items()]
    air_blocks: list[Any] = [*airlift_sentences(w, f)]
    if movement_rows:
        air_blocks.append(_table([w._("Aircraft"), w._("Flights today"), w._("Since the start")], movement_rows, w,
                                 ("airlift.by_aircraft_type",)))
    convoy_rows = [[w.label(k), v["day"], v["total"], v["people_day"], v["tonnes_day"]] for k, v in a["convoys"].items() if v["total"]]
    if convoy_rows:
        air_blocks.append(_table([w._("Convoys"), w._("Today"), w._("Since the start"), w._("People today"), w._("Tonnes today")],
                                 convoy_rows, w, ("airlift.convoys",)))

    ret, dem = f["returns"], f["demining"]
    relief_blocks: list[Any] = [*relief_sentences(w, f)]
    if ret["by_route"]:
        relief_blocks.append(_table([w._("Route"), w._("People returned")], [[r, n] for r, n in ret["by_route"].items()], w,
                                    ("returns.by_route",)))
    if any(dem["total"].values()):
        relief_blocks.append(_table([w._("Demining"), w._("Today"), w._("Since the start")],
                                    [[w._(label), dem["day"][k], dem["total"][k]] for k, label in (
                                        ("hectares", N_("Ground cleared, ha")), ("road_km", N_("Roads cleared, km")),
                                        ("buildings", N_("Buildings cleared")),
                                        ("explosive_objects", N_("Explosive objects neutralised")))],
                                    w, ("demining.day", "demining.total")))

    pictures = pictures or {}
    sections = [
        Section(w._("Summary"), summary),
        Section(w._("Force and strength"), force_blocks),
        Section(w._("Observation posts"), [posts_table] if p["by_zone"] else []),
        Section(w._("Patrols and coverage"), patrol_blocks),
        Section(w._("Alerts"), alert_blocks),
        Section(w._("Ceasefire violations"), incident_blocks),
        Section(w._("Freedom of movement"), movement_blocks),
        Section(w._("Remains: recovery, identification, handover"), remains_blocks),
        Section(w._("Airlift and convoys"), air_blocks),
        Section(w._("Returns and demining"), relief_blocks),
        Section(w._("Charts and operations map"), list(pictures.values())),
    ]
    title = w._("%(mission)s: situation report", mission=w.label(mission))
    notes = [_period_note(w, f, internal=True), w._(INTERNAL_NOTE)]
    return _day_document(w, f, "sitrep", title, sections, notes, generated_at, provisional)


def _day_document(w: Words, f: dict[str, Any], kind: str, title: str, sections: list[Section], notes: list[str],
                  generated_at: datetime, provisional: bool) -> Document:
    """What a day's report of either kind carries around its sections; empty sections are left out."""
    if provisional:
        notes = [*notes, w._("Provisional: the reporting day has not ended yet.")]
    day = date.fromisoformat(f["day"])
    return Document(
        kind=kind, language=w.language, title=title,
        subtitle=w._("%(day)s, day %(n)s of the operation", day=w.date(day), n=w.num(f["mission_day"])),
        notes=notes, sections=[s for s in sections if s.blocks], generated_at=generated_at,
        generated_label=_generated(w, generated_at),
    )
