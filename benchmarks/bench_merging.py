"""Merging duplicate incident reports: how fast, and how right, on synthetic events with known truth.

Run by hand, not in the test suite:
    python benchmarks/bench_merging.py [--reports 1000000] [--days 1826] [--arrivals 500]

1. Generates ``reports`` reports of about half as many events over ``days`` days in the reference
   scenario's areas (peacewatch.incidents.synthetic: one to four sources per event, each off in
   place by its stated precision and in time by minutes, one in ten with a long window), clusters
   them all in memory and prints the time and the pairwise precision and recall against the truth.
2. Records ``arrivals`` reports one by one through the service into a scratch SQLite database with
   the scenario loaded (each checked, stored, matched against its neighbourhood and proposed, in
   one transaction), then the bulk run over the stored history, and prints both rates.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from peacewatch.app import create_app
from peacewatch.core.auth import User
from peacewatch.core.migrate import upgrade
from peacewatch.core.settings import Settings
from peacewatch.incidents import merge_proposals, report_records
from peacewatch.incidents.matching import Tolerance, cluster_reports, pairwise_scores
from peacewatch.incidents.models import Incident
from peacewatch.incidents.schemas import IncidentIn
from peacewatch.incidents.synthetic import generate
from peacewatch.scenario import nk2020

FAMILIES = [("ceasefire_violation", "explosion"), ("ceasefire_violation", "drone_overflight"),
            ("ceasefire_violation", "illumination_flares"), ("movement_of_forces", None), ("mine_or_uxo", None),
            ("damage_to_civilian_objects", None), ("civil_unrest", None), ("other", None), ("other", None)]
SOURCES = ["side_a", "side_b", "media", "joint_monitoring_centre"]
PRECISION = ["exact", "near_place", "district"]


def in_memory(reports: int, days: float, floor: tuple[float, float]) -> None:
    began = time.perf_counter()
    synthetic, truth = generate(reports, days)
    generated = time.perf_counter()
    labels = cluster_reports(synthetic, Tolerance())
    clustered = time.perf_counter()
    precision, recall = pairwise_scores(truth, labels)
    print(f"{len(synthetic):,} reports of {truth.max() + 1:,} events over {days:g} days (generated in {generated - began:.1f} s)")
    print(f"  clustered in {clustered - generated:.2f} s ({len(synthetic) / (clustered - generated):,.0f} reports/s): "
          f"{labels.max() + 1:,} events found")
    print(f"  pairwise precision {precision:.4f}, recall {recall:.4f}")
    if len(labels) != len(synthetic) or precision < floor[0] or recall < floor[1]:
        raise SystemExit(f"wrong answer: {len(labels):,} labels, precision {precision:.4f} and recall {recall:.4f} "
                         f"against at least {floor[0]} and {floor[1]}")


def through_service(arrivals: int) -> None:
    synthetic, _ = generate(arrivals, days=arrivals / 100)
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        upgrade(url)
        settings = Settings(data_dir=Path(scratch), database_url=url, secret_key="x" * 40)
        app = create_app(settings)
        with app.state.sessionmaker() as session:
            nk2020.load(session)
            user = session.query(User).filter_by(username="ops").one()
            rules = report_records.Rules.of(settings)
            bodies = []
            for k in range(len(synthetic)):
                kind, subtype = FAMILIES[int(synthetic.family[k])]
                start = datetime.fromtimestamp(1_605_000_000 + synthetic.start_s[k], UTC)
                end = datetime.fromtimestamp(1_605_000_000 + synthetic.end_s[k], UTC)
                precision = PRECISION[[0.0, 2000.0, 10_000.0].index(float(synthetic.radius_m[k]))]
                bodies.append(IncidentIn(
                    type=kind, subtype=subtype, started_at=start, ended_at=end, lat=synthetic.lat[k], lon=synthetic.lon[k],
                    place_precision=precision, place_name="near a village" if precision == "near_place" else "",
                    source=SOURCES[int(synthetic.source[k]) % len(SOURCES)], source_detail=str(synthetic.source[k]),
                ))
            before = session.scalar(select(func.count()).select_from(Incident))
            began = time.perf_counter()
            for body in bodies:
                report_records.create_incident(session, rules, user, body)
            stored = time.perf_counter() - began
            counted = session.scalar(select(func.count()).select_from(Incident))
            if counted - before != len(bodies):
                raise SystemExit(f"wrong answer: {counted - before} reports stored of {len(bodies)}")
            began = time.perf_counter()
            run = merge_proposals.run_matching(session, "bench", rules.tolerance)
            bulk = time.perf_counter() - began
        app.state.engine.dispose()
    print(f"{arrivals} reports recorded one by one (checked, stored, matched on arrival, proposed, committed): "
          f"{arrivals / stored:,.0f} reports/s, {stored / arrivals * 1000:.1f} ms each")
    print(f"  bulk run over the stored history: {bulk:.2f} s ({run.clusters} clusters, {run.proposed} new proposals)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--days", type=float, default=1826)
    parser.add_argument("--arrivals", type=int, default=500)
    parser.add_argument("--min-precision", type=float, default=0.86,
                        help="fail below it (0.866 at one year's density, 0.963 at five years')")
    parser.add_argument("--min-recall", type=float, default=0.91, help="fail below it (0.921 and 0.955)")
    args = parser.parse_args()
    in_memory(args.reports, args.days, (args.min_precision, args.min_recall))
    if args.arrivals:
        through_service(args.arrivals)


if __name__ == "__main__":
    main()
