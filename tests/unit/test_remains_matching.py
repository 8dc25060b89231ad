"""Remains, pure parts: AM/PM comparison, ranking, DNA rules, the custody chain and the casualty series."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from peacewatch.remains import matching, synthetic
from peacewatch.remains.custody import GENESIS, Link, link_hash, verify_chain
from peacewatch.remains.figures import BodyStep, Fact, attribution_facts, casualty_series
from peacewatch.remains.matching import AnteMortem, PostMortem, Sex, Tooth

BODY = PostMortem(id=1, sex=Sex.male, age=(25, 35), height_cm=(172, 180), marks=["tattoo of an eagle, left forearm"],
                  belongings=["green camouflage jacket", "silver ring"], service_number="AB-100200", recovered_on=date(2020, 11, 14),
                  found_at=(39.75, 46.95), dental={36: Tooth.crowned, 11: Tooth.sound})
PERSON = AnteMortem(id=7, sex=Sex.male, born_on=date(1990, 5, 1), height_cm=176, marks=["eagle tattoo on the left forearm"],
                    belongings=["camouflage jacket"], service_number="AB 100200", last_seen_on=date(2020, 10, 20),
                    last_seen_at=(39.76, 46.94), dental={36: Tooth.filled})


def pair(person: AnteMortem = PERSON, body: PostMortem = BODY) -> matching.Candidate:
    am, pm = matching.tables([person], [body])
    return matching.explain(am, pm, 0, 0, matching.Model.prior())


def levels(candidate: matching.Candidate) -> dict[str, str]:
    return {e.field: e.level for e in candidate.evidence}


class TestBlocking:
    def test_a_different_sex_is_excluded_unless_one_is_unknown(self) -> None:
        assert pair(replace(PERSON, sex=Sex.female)).excluded == "different sex"
        assert pair(replace(PERSON, sex=Sex.female), replace(BODY, sex=Sex.unknown)).excluded is None

    def test_a_person_last_seen_after_the_recovery_is_excluded(self) -> None:
        assert pair(replace(PERSON, last_seen_on=date(2020, 11, 15))).excluded == "last seen after the body was recovered"
        assert pair(replace(PERSON, last_seen_on=date(2020, 11, 14))).excluded is None

    def test_an_age_outside_the_apparent_range_is_excluded(self) -> None:
        assert pair(replace(PERSON, born_on=date(1960, 1, 1))).excluded == "age outside the body's apparent age range"
        assert pair(replace(PERSON, born_on=None)).excluded is None


class TestDental:
    def test_later_treatment_is_compatible_and_less_treatment_is_a_discrepancy(self) -> None:
        assert levels(pair())["dental"] == "1-2 concordant treatments"  # AM filling, PM crown
        sound = pair(replace(PERSON, dental={36: Tooth.crowned}), replace(BODY, dental={36: Tooth.filled}))
        assert levels(sound)["dental"] == "unexplainable discrepancy"
        extracted = pair(replace(PERSON, dental={36: Tooth.extracted}), replace(BODY, dental={36: Tooth.sound}))
        assert levels(extracted)["dental"] == "unexplainable discrepancy"
        assert "dental" not in levels(pair(replace(PERSON, dental={})))

    @given(st.sampled_from(list(matching.TOOTH_RANK)), st.sampled_from(list(matching.TOOTH_RANK)))
    def test_a_tooth_is_compatible_exactly_when_the_pm_state_is_the_am_state_or_later(self, am: Tooth, pm: Tooth) -> None:
        result = levels(pair(replace(PERSON, dental={21: am}), replace(BODY, dental={21: pm})))["dental"]
        assert (result == "unexplainable discrepancy") == (matching.TOOTH_RANK[pm] < matching.TOOTH_RANK[am])


class TestEvidence:
    def test_the_explanation_names_each_field_and_reworded_descriptions_still_agree(self) -> None:
        found = levels(pair())
        assert found["marks"] == "agree" and found["belongings"] == "agree" and found["service_number"] == "agree"
        assert found["place"] == "within 5 km" and found["height"] == "within 3 cm of the middle"
        other = levels(pair(replace(PERSON, service_number="XY-1", marks=["scar on the neck"])))
        assert other["service_number"] == "disagree" and other["marks"] == "disagree"

    def test_missing_fields_weigh_nothing(self) -> None:
        bare = pair(AnteMortem(id=1), PostMortem(id=2))
        assert bare.evidence == () and bare.weight == 0.0

    @settings(max_examples=30, deadline=None)
    @given(st.integers(min_value=0, max_value=10_000))
    def test_the_ranking_and_the_explanation_agree_on_every_weight(self, seed: int) -> None:
        persons = synthetic.people(40, seed=seed)
        bodies = synthetic.remains(persons, 12, seed=seed + 1)
        am, pm = matching.tables([p.am for p in persons], [b.pm for b in bodies])
        model = matching.Model.fit(am, pm)
        for column, best in enumerate(matching.rank(am, pm, model, per_am=False, top=5)):
            weights = [w for _, w in best]
            assert weights == sorted(weights, reverse=True)
            for row, weight in best:
                explained = matching.explain(am, pm, row, column, model)
                assert explained.excluded is None
                assert abs(sum(e.weight for e in explained.evidence) - weight) < 0.01
                assert abs(explained.weight - weight) < 0.001

    def test_per_am_and_per_pm_rankings_agree_and_dna_moves_a_pair_up(self) -> None:
        persons = synthetic.people(60, seed=3)
        bodies = synthetic.remains(persons, 20, seed=4)
        am, pm = matching.tables([p.am for p in persons], [b.pm for b in bodies])
        model = matching.Model.fit(am, pm)
        by_pm = matching.rank(am, pm, model, per_am=False, top=60)
        by_am = matching.rank(am, pm, model, per_am=True, top=20)
        for column, best in enumerate(by_pm):
            for row, weight in best:
                assert dict(by_am[row])[column] == weight
        last_row, _ = by_pm[0][-1]
        boosted = matching.rank(am, pm, model, per_am=False, top=1, only=[0], dna={(int(pm.ids[0]), int(am.ids[last_row])): 1e15})
        assert boosted[0][0][0] == last_row

    def test_u_is_fitted_on_random_pairs_and_m_on_confirmed_identifications(self) -> None:
        persons = synthetic.people(300, seed=5)
        bodies = synthetic.remains(persons, 100, seed=6)
        am, pm = matching.tables([p.am for p in persons], [b.pm for b in bodies])
        rows = {p.id: i for i, p in enumerate(persons)}
        truth = [(rows[b.person], i) for i, b in enumerate(bodies) if b.person is not None]
        prior, fitted = matching.Model.prior(), matching.Model.fit(am, pm, truth)
        assert not np.allclose(prior.u["place"], fitted.u["place"]) and not np.allclose(prior.m["marks"], fitted.m["marks"])
        for name in matching.FIELDS:
            assert abs(fitted.u[name].sum() - 1) < 1e-9 and abs(fitted.m[name].sum() - 1) < 1e-9


class TestUndisputed:
    def test_a_ratio_settles_only_when_high_and_far_above_every_rival(self) -> None:
        assert matching.undisputed({(1, 7): 1e6, (1, 8): 50.0}) == {(1, 7)}
        assert matching.undisputed({(1, 7): 1e6, (1, 8): 500.0}) == set()  # only 2,000 times the brother's
        assert matching.undisputed({(1, 7): 1e6, (2, 7): 1e3}) == set()  # another body also fits the family
        assert matching.undisputed({(1, 7): 9_999.0}) == set()
        assert matching.undisputed({(1, 7): 1e8, (1, 8): 1e8}) == set()


def link(seq: int, prev: str, key: bytes = b"k" * 32, **extra: object) -> Link:
    base = Link(body="PW-2020-000001", seq=seq, kind="stored", at=datetime(2020, 11, 14, seq, tzinfo=UTC), place="morgue",
                released_by="", received_by="morgue", note="", recorded_by="hum", handover_id=None, prev_hash=prev)
    base = replace(base, **extra)  # type: ignore[arg-type]
    return replace(base, hash=link_hash(key, base))


class TestCustodyChain:
    def chain(self, n: int = 3) -> list[Link]:
        links: list[Link] = []
        for seq in range(1, n + 1):
            links.append(link(seq, links[-1].hash if links else GENESIS))
        return links

    def test_an_untouched_chain_verifies(self) -> None:
        links = self.chain()
        assert verify_chain(b"k" * 32, links, count=3, head=links[-1].hash) == []

    def test_edits_deletions_and_a_wrong_key_are_found(self) -> None:
        links = self.chain()
        edited = [links[0], replace(links[1], place="elsewhere"), links[2]]
        assert [b.seq for b in verify_chain(b"k" * 32, edited, count=3, head=links[-1].hash)] == [2]
        gap = verify_chain(b"k" * 32, [links[0], links[2]], count=3, head=links[-1].hash)
        assert any("missing" in b.problem for b in gap) and any("records 3" in b.problem for b in gap)
        truncated = verify_chain(b"k" * 32, links[:2], count=3, head=links[-1].hash)
        assert any("latest" in b.problem for b in truncated)
        assert len(verify_chain(b"x" * 32, links, count=3, head=links[-1].hash)) == 3
        gone = verify_chain(b"k" * 32, links, count=3, head=links[-1].hash, audited_ids=[1, 2, 3, 4], ids=[1, 2, 3])
        assert any("4" in b.problem and "audit log" in b.problem for b in gone)


class TestCasualtySeries:
    def test_a_body_counts_once_for_the_side_of_its_identification(self) -> None:
        d = date(2020, 11, 13)
        steps = [BodyStep(d, 0, 1, "handed_over", "A"), BodyStep(date(2020, 11, 15), 1, 1, "identified", "A"),
                 BodyStep(date(2020, 11, 14), 1, 2, "identified", "B"), BodyStep(date(2020, 11, 16), 2, 2, "revoked", None)]
        facts = attribution_facts(steps) + [Fact(d, "A", "missing_reported"), Fact(date(2020, 11, 15), "A", "identified")]
        series = casualty_series(facts)
        totals = [(row["day"].day, row["A"]["total"]["deaths_confirmed"], row["B"]["total"]["deaths_confirmed"]) for row in series["days"]]
        assert totals == [(13, 1, 0), (14, 1, 1), (15, 1, 1), (16, 1, 0)]
        assert series["totals"]["A"]["still_missing"] == 0 and series["totals"]["total"]["deaths_confirmed"] == 1

    def test_running_totals_start_from_the_first_day_on_record(self) -> None:
        facts = [Fact(date(2020, 11, 13), "A", "recovered", 5), Fact(date(2020, 11, 20), "B", "recovered", 2)]
        series = casualty_series(facts, since=date(2020, 11, 19), until=date(2020, 11, 20))
        assert [r["A"]["total"]["recovered"] for r in series["days"]] == [5, 5]
        assert [r["total"]["new"]["recovered"] for r in series["days"]] == [0, 2]


def _words(table: matching.AmTable | matching.PmTable, vocabulary: matching.Vocabulary) -> list[list[frozenset[str]]]:
    word_of = {index: word for word, index in vocabulary.index.items()}
    return [[frozenset(word_of[int(k)] for k in getattr(table, name)[row].indices) for name in ("marks", "belongings", "names")]
            for row in range(len(table.ids))]


def test_revising_rows_gives_the_tables_built_from_every_record() -> None:
    """A few records changed and a few new: the spliced tables equal tables built from scratch, and rank alike."""
    persons = synthetic.people(400, seed=5)
    bodies = synthetic.remains(persons, 80, seed=6)
    am_records, pm_records = [p.am for p in persons[:350]], [b.pm for b in bodies[:70]]
    vocabulary = matching.Vocabulary()
    am, pm = matching.tables(am_records, pm_records, vocabulary)
    changed_am = [replace(am_records[3], marks=["a new tattoo of an eagle"], height_cm=181),
                  replace(am_records[200], names=["Renamed", "Someone", ""]), *[p.am for p in persons[350:]]]
    changed_pm = [replace(pm_records[10], belongings=["blue shirt", "wedding ring"], sex=Sex.female), *[b.pm for b in bodies[70:]]]
    grown = vocabulary.copy()
    revised_am, revised_pm = matching.revised(am, pm, grown, changed_am, changed_pm)

    by_id_am = {r.id: r for r in am_records} | {r.id: r for r in changed_am}
    by_id_pm = {r.id: r for r in pm_records} | {r.id: r for r in changed_pm}
    fresh = matching.Vocabulary()
    expected_am, expected_pm = matching.tables([by_id_am[int(i)] for i in revised_am.ids], [by_id_pm[int(i)] for i in revised_pm.ids], fresh)
    for revised_table, expected in ((revised_am, expected_am), (revised_pm, expected_pm)):
        for name, value in vars(expected).items():
            if not hasattr(value, "indices"):
                np.testing.assert_array_equal(getattr(revised_table, name), value, err_msg=name)
    assert _words(revised_am, grown) == _words(expected_am, fresh)
    assert _words(revised_pm, grown) == _words(expected_pm, fresh)
    assert len(am.ids) == 350 and len(vocabulary.index) < len(grown.index)  # the old tables and vocabulary untouched
    model = matching.Model.prior()
    assert matching.rank(revised_am, revised_pm, model, per_am=False, top=5) == matching.rank(expected_am, expected_pm, model, per_am=False, top=5)
