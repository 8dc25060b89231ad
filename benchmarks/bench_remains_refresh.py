"""The remains matching after a change: re-reading only the changed record against rebuilding everything.

Run by hand, not in the test suite:
    python benchmarks/bench_remains_refresh.py [--persons 10000] [--bodies 2000] [--changes 20]

Stores ``persons`` synthetic missing-person reports and ``bodies`` bodies (peacewatch.remains.synthetic)
in a scratch SQLite database (WAL), asks for one body's candidates (the first read builds the matching
columns from every record), then ``changes`` times: a clerk records a new post-mortem detail on a body
through the service, and the next candidates request is timed, once as the service does it (the changed
record read again, its row replaced) and once with the kept columns dropped (everything read and rebuilt,
as before issue 22). It fails unless each refresh re-read exactly one record and both ways rank alike.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from datetime import time as clock
from pathlib import Path

from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.app import create_app
from peacewatch.core.auth import User
from peacewatch.core.db import transaction
from peacewatch.core.migrate import upgrade
from peacewatch.core.settings import Settings
from peacewatch.core.visibility import Side
from peacewatch.remains import matching_cache, recovering, registry, synthetic
from peacewatch.remains.models import Body, MissingPerson, PersonStatus, Recovery
from peacewatch.scenario import nk2020


def store(session: Session, persons: list[synthetic.Person], bodies: list[synthetic.Remains]) -> None:
    """The synthetic records as the service would hold them, in one transaction."""
    with transaction(session, actor="bench"):
        for p in persons:
            am = p.am
            lat, lon = am.last_seen_at or (None, None)
            session.add(MissingPerson(
                id=p.id, number=f"AM-2020-{p.id:06d}", family_name=am.names[0], given_names=am.names[1], side=Side.A,
                status=PersonStatus.military, service_number=am.service_number or "", born_on=am.born_on, sex=am.sex,
                height_cm=am.height_cm, marks=list(am.marks), clothing=list(am.belongings), effects=[],
                last_seen_on=am.last_seen_on, last_seen_lat=lat, last_seen_lon=lon,
                dental={str(k): v.value for k, v in am.dental.items()}, reported_on=am.last_seen_on or datetime(2020, 11, 1).date(),
                reporter_name="family (synthetic)", filed_by="bench"))
        for b in bodies:
            pm = b.pm
            lat, lon = pm.found_at or (39.8, 46.8)
            recovered_on = pm.recovered_on or datetime(2020, 11, 14).date()
            recovery = Recovery(recovered_at=datetime.combine(recovered_on, clock(8), UTC), recovered_on=recovered_on,
                                site=Point(lon, lat), lat=lat, lon=lon, team="bench", side=Side.A, bodies_found=1,
                                bodies_recovered=1, recorded_by="bench")
            documents = [{"kind": "identity disc", "service_number": pm.service_number}] if pm.service_number else []
            documents += [{"kind": "document", "name": name} for name in pm.document_names]
            session.add(Body(
                id=b.id, number=f"PW-2020-{b.id:06d}", recovery=recovery, sex=pm.sex,
                age_min=pm.age[0] if pm.age else None, age_max=pm.age[1] if pm.age else None,
                height_min=pm.height_cm[0] if pm.height_cm else None, height_max=pm.height_cm[1] if pm.height_cm else None,
                marks=list(pm.marks), clothing=list(pm.belongings), effects=[], documents=documents,
                dental={str(k): v.value for k, v in pm.dental.items()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--bodies", type=int, default=2_000)
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    persons = synthetic.people(args.persons, first_id=100_001)
    bodies = synthetic.remains(persons, args.bodies, first_id=100_001)
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        upgrade(url)
        app = create_app(Settings(data_dir=Path(scratch), database_url=url, secret_key="x" * 40))
        with app.state.sessionmaker() as session:
            nk2020.load(session)
            store(session, persons, bodies)
            clerk = session.scalars(select(User).where(User.username == "humanitarian")).one()
            numbers = [f"PW-2020-{b.id:06d}" for b in bodies]
            began = time.perf_counter()
            matching_cache.candidates_for_body(session, numbers[0], 10)
            session.commit()
            cold = time.perf_counter() - began
            kept_way, rebuilt_way = [], []
            for k in range(args.changes):
                number = numbers[(k * 97) % len(numbers)]
                pm = recovering.post_mortem_in(registry.get_body(session, number))
                recovering.record_post_mortem(session, clerk, number, pm.model_copy(update={"marks": [*pm.marks, f"scar number {k}"]}))
                began = time.perf_counter()
                kept = matching_cache.candidates_for_body(session, number, 10)
                kept_way.append(time.perf_counter() - began)
                reread = matching_cache._KEPT[str(app.state.engine.url)].reread
                session.commit()
                matching_cache._KEPT.clear()  # as before: every record read and every column rebuilt
                began = time.perf_counter()
                rebuilt = matching_cache.candidates_for_body(session, number, 10)
                rebuilt_way.append(time.perf_counter() - began)
                session.commit()
                if reread != 1 or [c.missing_person for c in kept] != [c.missing_person for c in rebuilt]:
                    raise SystemExit(f"wrong answer after change {k}: {reread} records re-read, or the rankings differ")
        app.state.engine.dispose()
    print(f"{args.persons:,} missing persons and {args.bodies:,} bodies stored; first candidates (all read): {cold * 1000:.0f} ms")
    print(f"after a clerk's change, the next candidates: {statistics.median(kept_way) * 1000:.1f} ms median "
          f"(the changed record re-read, its row replaced) against {statistics.median(rebuilt_way) * 1000:.1f} ms "
          f"(everything read and rebuilt), {args.changes} changes")


if __name__ == "__main__":
    main()
