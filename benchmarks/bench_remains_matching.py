"""Matching missing persons (AM) to bodies (PM): how fast, and how right, on synthetic records with known truth.

Run by hand, not in the test suite:
    python benchmarks/bench_remains_matching.py [--persons 10000] [--bodies 2000]

Generates ``persons`` AM reports and ``bodies`` PM records (peacewatch.remains.synthetic: age and
height estimation errors, decomposed and burned bodies with few features, reworded clothing,
brothers with the same surname, unit and village, bodies of nobody reported), then:
1. ranks every AM report's ten best bodies and prints the time (target: under 10 s);
2. ranks every body's ten best AM reports and prints top-1 and top-10 accuracy over the bodies
   whose person was reported, split by the body's condition;
3. counts false identifications: pairs the rules would let be confirmed on DNA (undisputed
   ratios) that are not the truth. Confirmation needs a primary identifier or a board, so a
   wrong top-1 candidate is never an identification by itself.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from peacewatch.remains import matching, synthetic


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--bodies", type=int, default=2_000)
    parser.add_argument("--learn", action=argparse.BooleanOptionalAction, default=True,
                        help="fit m on the identifications DNA confirmed (default) or keep the prior m")
    parser.add_argument("--min-top10", type=float, default=0.70, help="fail below this top-10 accuracy (0.779 measured)")
    args = parser.parse_args()

    started = time.perf_counter()
    persons = synthetic.people(args.persons)
    bodies = synthetic.remains(persons, args.bodies)
    dna = synthetic.dna_ratios(persons, bodies)
    print(f"generated {len(persons):,} AM and {len(bodies):,} PM records, {len(dna):,} DNA ratios "
          f"in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    am, pm = matching.tables([p.am for p in persons], [b.pm for b in bodies])
    # the identifications confirmed so far (on undisputed DNA) teach the model its m-probabilities
    am_row = {int(i): r for r, i in enumerate(am.ids)}
    pm_row = {int(i): r for r, i in enumerate(pm.ids)}
    confirmed = [(am_row[a], pm_row[p]) for p, a in matching.undisputed(dna)]
    model = matching.Model.fit(am, pm, confirmed) if args.learn else matching.Model.fit(am, pm)
    built = time.perf_counter() - started
    started = time.perf_counter()
    per_am = matching.rank(am, pm, model, per_am=True, top=10, dna=dna)
    ranked = time.perf_counter() - started
    pairs = len(persons) * len(bodies)
    print(f"tables built and u fitted on random pairs in {built:.2f} s; ranked {len(persons):,} AM against {len(bodies):,} PM (top 10 each) "
          f"in {ranked:.2f} s: {pairs / ranked / 1e6:.1f} M pairs/s; {sum(1 for best in per_am if best):,} have a candidate")

    started = time.perf_counter()
    per_pm = matching.rank(am, pm, model, per_am=False, top=10, dna=dna)
    print(f"ranked {len(bodies):,} PM against {len(persons):,} AM in {time.perf_counter() - started:.2f} s")
    hits1, hits10, total = Counter(), Counter(), Counter()
    for body, best in zip(bodies, per_pm):
        if body.person is None:
            continue
        ids = [int(am.ids[row]) for row, _ in best]
        for key in (body.condition, "all"):
            total[key] += 1
            hits1[key] += bool(ids) and ids[0] == body.person
            hits10[key] += body.person in ids
    for key in ("all", "complete", "incomplete", "decomposed", "burned"):
        if total[key]:
            print(f"  {key:>10}: top-1 {hits1[key] / total[key]:.3f}  top-10 {hits10[key] / total[key]:.3f}  ({total[key]} bodies)")
    started = time.perf_counter()
    plain = matching.rank(am, pm, model, per_am=False, top=10)
    bare1 = sum(1 for b, best in zip(bodies, plain) if b.person is not None and best and int(am.ids[best[0][0]]) == b.person)
    bare10 = sum(1 for b, best in zip(bodies, plain) if b.person is not None and b.person in {int(am.ids[r]) for r, _ in best})
    print(f"  without the DNA ratios: top-1 {bare1 / total['all']:.3f}  top-10 {bare10 / total['all']:.3f} "
          f"({time.perf_counter() - started:.2f} s)")
    truth = {b.id: b.person for b in bodies}
    settled = matching.undisputed(dna)
    false = sum(1 for pm_id, am_id in settled if truth[pm_id] != am_id)
    wrong_top1 = total["all"] - hits1["all"]
    print(f"undisputed DNA pairs: {len(settled)}; false identifications among them: {false}")
    print(f"wrong top-1 candidates that the confirmation rule keeps from becoming identifications: {wrong_top1}")
    excluded_truth = sum(1 for body, best in zip(bodies, per_pm) if body.person is not None and not best)
    print(f"bodies with no candidate at all: {excluded_truth}")
    if len(per_am) != len(persons) or len(per_pm) != len(bodies) or false or hits10["all"] / total["all"] < args.min_top10:
        sys.exit(f"FAILED: {len(per_am)} AM and {len(per_pm)} PM ranked, {false} false identifications, "
                 f"top-10 {hits10['all'] / total['all']:.3f} against at least {args.min_top10}")


if __name__ == "__main__":
    main()
