"""Which missing person a body may be: Fellegi–Sunter record linkage of post-mortem (PM) against
ante-mortem (AM) records, pure and vectorised.

Three facts exclude a pair outright (blocking), as DVI practice does: different sexes (when both
are known), a person last seen after the body was recovered, and an age at death outside the
body's apparent age range. Every other field is evidence: it falls into a comparison level
(agree, near, disagree, or missing) and the level adds its Fellegi–Sunter weight,
log2(m / u), where m is how often true pairs show that level and u how often unrelated pairs do.
A missing field adds nothing, so a decomposed body with few features ranks on what it has.
The total is the log2 likelihood ratio that the two records are one person; the explanation lists
every field's level, weight and reason. A laboratory's DNA likelihood ratio adds its own log2.

Dental charts compare tooth by tooth (FDI numbering). Treatment only accumulates after the AM
chart was made: a PM tooth may show the AM state or a later one (a crown where the family's
dentist saw a filling), never an earlier one (a sound tooth where the AM chart has a filling).
An unexplainable discrepancy weighs heavily against the pair.

The same functions score one pair (to explain it) and a block of thousands (to rank): the
explanation can never disagree with the ranking.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

from peacewatch.core.i18n import N_, Sentence

KM_PER_DEGREE = 111.32
UNDISPUTED_RATIO = 10_000.0


class Sex(str, enum.Enum):
    male = "male"
    female = "female"
    unknown = "unknown"


class Tooth(str, enum.Enum):
    """A tooth's state on a chart, in the order treatment progresses."""

    sound = "sound"
    filled = "filled"
    crowned = "crowned"
    extracted = "extracted"
    unknown = "unknown"  # not charted, or lost after death: says nothing


TOOTH_RANK = {Tooth.sound: 0, Tooth.filled: 1, Tooth.crowned: 2, Tooth.extracted: 3}
TEETH = tuple(q * 10 + n for q in (1, 2, 3, 4) for n in range(1, 9))  # FDI permanent teeth 11..48
TOOTH_INDEX = {number: i for i, number in enumerate(TEETH)}


def dental_codes(chart: Mapping[int, Tooth] | None) -> np.ndarray:
    """A chart as 32 small integers: the treatment rank per tooth, -1 where nothing is known."""
    codes = np.full(len(TEETH), -1, dtype=np.int8)
    for number, state in (chart or {}).items():
        if state in TOOTH_RANK:
            codes[TOOTH_INDEX[number]] = TOOTH_RANK[state]
    return codes


_WORD = re.compile(r"[^\W\d_]{3,}|\d{2,}", re.UNICODE)
_NOISE = frozenset({"the", "and", "with", "has", "had", "wearing", "wore", "worn", "small", "large", "old", "new", "on", "of"})


def tokens(texts: Iterable[str]) -> frozenset[str]:
    """The words a description is compared by: case, punctuation and filler words ignored."""
    return frozenset(w for text in texts for w in _WORD.findall(text.casefold()) if w not in _NOISE)


def normal_service_number(value: str | None) -> str | None:
    cleaned = re.sub(r"[\s\-./]", "", value or "").upper()
    return cleaned or None


@dataclass(frozen=True)
class PostMortem:
    """What a body shows, as the PM examination recorded it."""

    id: int
    number: str = ""
    sex: Sex = Sex.unknown
    age: tuple[int, int] | None = None
    height_cm: tuple[int, int] | None = None
    marks: Sequence[str] = ()
    belongings: Sequence[str] = ()  # clothing and personal effects
    service_number: str | None = None  # from an identity disc or a document found on the body
    document_names: Sequence[str] = ()  # names read on documents found on the body
    recovered_on: date | None = None
    found_at: tuple[float, float] | None = None  # lat, lon
    dental: Mapping[int, Tooth] = field(default_factory=dict)


@dataclass(frozen=True)
class AnteMortem:
    """What the family or the side reported about a missing person."""

    id: int
    number: str = ""
    sex: Sex = Sex.unknown
    born_on: date | None = None
    height_cm: int | None = None
    marks: Sequence[str] = ()
    belongings: Sequence[str] = ()  # clothing last worn and effects carried
    service_number: str | None = None
    names: Sequence[str] = ()
    last_seen_on: date | None = None
    last_seen_at: tuple[float, float] | None = None
    dental: Mapping[int, Tooth] = field(default_factory=dict)


@dataclass(frozen=True)
class Level:
    name: str
    m: float
    u: float

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


# Comparison levels, best first. m: share of true pairs at this level (DVI experience: estimates
# miss, bodies decompose, families misremember); u: share of unrelated pairs, mostly from how
# common a value is among the missing of a war (most are men of fighting age).
LEVELS: dict[str, tuple[Level, ...]] = {
    # a blocking field's last level excludes the pair; it is here so u is estimated over all comparisons
    "sex": (Level(N_("agree"), 0.99, 0.80), Level(N_("different: excluded"), 0.01, 0.20)),
    "age": (Level(N_("middle of the range"), 0.60, 0.15), Level(N_("within range"), 0.37, 0.20),
            Level(N_("outside the range: excluded"), 0.03, 0.65)),
    "height": (Level(N_("within 3 cm of the middle"), 0.65, 0.22), Level(N_("within range"), 0.20, 0.18),
               Level(N_("within 5 cm of the range"), 0.12, 0.25), Level(N_("disagree"), 0.03, 0.35)),
    "marks": (Level(N_("agree"), 0.70, 0.02), Level(N_("partly agree"), 0.20, 0.10), Level(N_("disagree"), 0.10, 0.88)),
    "belongings": (Level(N_("agree"), 0.60, 0.04), Level(N_("partly agree"), 0.30, 0.26), Level(N_("disagree"), 0.10, 0.70)),
    "service_number": (Level(N_("agree"), 0.95, 0.0005), Level(N_("disagree"), 0.05, 0.9995)),
    "document_names": (Level(N_("agree"), 0.90, 0.002), Level(N_("disagree"), 0.10, 0.998)),
    "place": (Level(N_("within 5 km"), 0.55, 0.04), Level(N_("within 25 km"), 0.35, 0.30), Level(N_("farther"), 0.10, 0.66)),
    "dental": (
        Level(N_("3+ concordant treatments"), 0.45, 0.002),
        Level(N_("1-2 concordant treatments"), 0.30, 0.04),
        Level(N_("compatible"), 0.24, 0.358),
        Level(N_("unexplainable discrepancy"), 0.01, 0.60),
    ),
}
FIELDS = tuple(LEVELS)
MISSING = -1  # level index of a comparison one side cannot make: weight 0
AGREE_SHARE = 0.5  # words in common, as a share of the shorter description, for "agree"


@dataclass
class PmTable:
    """Column arrays of PM records."""

    ids: np.ndarray
    sex: np.ndarray  # 0 male, 1 female, -1 unknown
    age_lo: np.ndarray
    age_hi: np.ndarray  # nan when no estimate
    height_lo: np.ndarray
    height_hi: np.ndarray
    marks: csr_matrix
    belongings: csr_matrix
    names: csr_matrix
    service: np.ndarray  # object: normalised number or ""
    recovered: np.ndarray  # proleptic ordinal days, nan when unknown
    lat: np.ndarray
    lon: np.ndarray
    dental: np.ndarray  # (n, 32) int8


@dataclass
class AmTable:
    ids: np.ndarray
    sex: np.ndarray
    born: np.ndarray  # proleptic ordinal days, nan when unknown
    height: np.ndarray
    marks: csr_matrix
    belongings: csr_matrix
    names: csr_matrix
    service: np.ndarray
    last_seen: np.ndarray  # proleptic ordinal days, nan when unknown
    lat: np.ndarray
    lon: np.ndarray
    dental: np.ndarray


_SEX = {Sex.male: 0, Sex.female: 1, Sex.unknown: -1}
_NAN = float("nan")


class Vocabulary:
    """Word indices shared by both tables, so word overlaps are one sparse product."""

    def __init__(self, index: dict[str, int] | None = None) -> None:
        self.index: dict[str, int] = dict(index or {})

    def copy(self) -> Vocabulary:
        """A vocabulary to grow without changing this one (which tables being read may share)."""
        return Vocabulary(self.index)

    def matrix(self, rows: Sequence[frozenset[str]]) -> csr_matrix:
        indptr: list[int] = [0]
        indices: list[int] = []
        for words in rows:
            indices.extend(self.index.setdefault(w, len(self.index)) for w in words)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        return csr_matrix((data, np.array(indices, dtype=np.int32), np.array(indptr, dtype=np.int32)),
                          shape=(len(rows), len(self.index)))


def _days(value: date | None) -> float:
    return _NAN if value is None else float(value.toordinal())


def _charts(charts: Iterable[Mapping[int, Tooth]]) -> np.ndarray:
    rows = [dental_codes(chart) for chart in charts]
    return np.stack(rows) if rows else np.zeros((0, len(TEETH)), np.int8)


def tables(persons: Sequence[AnteMortem], bodies: Sequence[PostMortem], vocabulary: Vocabulary | None = None) -> tuple[AmTable, PmTable]:
    """Both tables over one vocabulary, every word matrix as wide as the vocabulary."""
    vocabulary = vocabulary if vocabulary is not None else Vocabulary()
    am, pm = am_table(persons, vocabulary), pm_table(bodies, vocabulary)
    _widen(vocabulary, am, pm)
    return am, pm


_WORDS = ("marks", "belongings", "names")


def _widen(vocabulary: Vocabulary, *tables: AmTable | PmTable) -> None:
    width = max(len(vocabulary.index), 1)
    for table in tables:
        for name in _WORDS:
            matrix = getattr(table, name)
            matrix.resize((matrix.shape[0], width))


def revised(am: AmTable, pm: PmTable, vocabulary: Vocabulary, persons: Sequence[AnteMortem],
            bodies: Sequence[PostMortem]) -> tuple[AmTable, PmTable]:
    """New tables: ``am`` and ``pm`` with the rows of these records replaced (by id) or appended.

    The other rows are copied as they are, not rebuilt from their records: a record changed among
    ten thousand costs its own row. ``vocabulary`` (that of ``am`` and ``pm``, copied by the
    caller) grows by the new words; the old tables are left as they were, for whoever reads them.
    """
    new_am, new_pm = am_table(persons, vocabulary), pm_table(bodies, vocabulary)
    _widen(vocabulary, new_am, new_pm)
    width = max(len(vocabulary.index), 1)
    return _spliced(am, new_am, width), _spliced(pm, new_pm, width)


def _spliced(old: Any, new: Any, width: int) -> Any:
    """``old``'s rows with ``new``'s rows put over those of the same id, the rest of ``new`` after them."""
    n = len(old.ids)
    row_of = {int(record_id): row for row, record_id in enumerate(old.ids)}
    appended = iter(range(n, n + len(new.ids)))
    at = np.array([row_of[int(i)] if int(i) in row_of else next(appended) for i in new.ids], dtype=np.int64)
    size = max(int(at.max()) + 1, n) if len(at) else n
    columns: dict[str, Any] = {}
    for name, value in vars(old).items():
        fresh = getattr(new, name)
        if isinstance(value, csr_matrix):
            value = value.copy()
            value.resize((n, width))
            lengths = np.diff(value.indptr)
            rows = np.repeat(np.arange(n), lengths)
            keep = ~np.isin(rows, at[at < n])
            added = fresh.tocoo()
            all_rows = np.concatenate([rows[keep], at[added.row]])
            all_cols = np.concatenate([value.indices[keep], added.col])
            columns[name] = csr_matrix((np.ones(len(all_rows), dtype=np.float32), (all_rows, all_cols)), shape=(size, width))
        else:
            out = np.empty((size, *value.shape[1:]), dtype=value.dtype)
            out[:n] = value
            out[at] = fresh
            columns[name] = out
    return type(old)(**columns)


def pm_table(records: Sequence[PostMortem], vocabulary: Vocabulary) -> PmTable:
    return PmTable(
        ids=np.array([r.id for r in records], dtype=np.int64),
        sex=np.array([_SEX[r.sex] for r in records], dtype=np.int8),
        age_lo=np.array([r.age[0] if r.age else _NAN for r in records]),
        age_hi=np.array([r.age[1] if r.age else _NAN for r in records]),
        height_lo=np.array([r.height_cm[0] if r.height_cm else _NAN for r in records]),
        height_hi=np.array([r.height_cm[1] if r.height_cm else _NAN for r in records]),
        marks=vocabulary.matrix([tokens(r.marks) for r in records]),
        belongings=vocabulary.matrix([tokens(r.belongings) for r in records]),
        names=vocabulary.matrix([tokens(r.document_names) for r in records]),
        service=np.array([normal_service_number(r.service_number) or "" for r in records], dtype=object),
        recovered=np.array([_days(r.recovered_on) for r in records]),
        lat=np.array([r.found_at[0] if r.found_at else _NAN for r in records]),
        lon=np.array([r.found_at[1] if r.found_at else _NAN for r in records]),
        dental=_charts(r.dental for r in records),
    )


def am_table(records: Sequence[AnteMortem], vocabulary: Vocabulary) -> AmTable:
    return AmTable(
        ids=np.array([r.id for r in records], dtype=np.int64),
        sex=np.array([_SEX[r.sex] for r in records], dtype=np.int8),
        born=np.array([_days(r.born_on) for r in records]),
        height=np.array([_NAN if r.height_cm is None else r.height_cm for r in records], dtype=np.float64),
        marks=vocabulary.matrix([tokens(r.marks) for r in records]),
        belongings=vocabulary.matrix([tokens(r.belongings) for r in records]),
        names=vocabulary.matrix([tokens(r.names) for r in records]),
        service=np.array([normal_service_number(r.service_number) or "" for r in records], dtype=object),
        last_seen=np.array([_days(r.last_seen_on) for r in records]),
        lat=np.array([r.last_seen_at[0] if r.last_seen_at else _NAN for r in records]),
        lon=np.array([r.last_seen_at[1] if r.last_seen_at else _NAN for r in records]),
        dental=_charts(r.dental for r in records),
    )


@dataclass
class Block:
    """Every comparison of ``am`` rows (axis 0) against ``pm`` rows (axis 1)."""

    excluded: np.ndarray  # bool, why in ``exclusion``
    exclusion: np.ndarray  # int8: 0 none, 1 sex, 2 last seen after recovery, 3 age
    levels: dict[str, np.ndarray]
    overlap: dict[str, np.ndarray]
    distance_km: np.ndarray
    concordant: np.ndarray
    discrepant: np.ndarray
    age_at_death: np.ndarray

    def weight(self, model: Model) -> np.ndarray:
        weights = model.weights
        total = np.zeros(self.excluded.shape)
        for name, level in self.levels.items():
            total += weights[name][level]
        return total


EXCLUSIONS = {1: "different sex", 2: "last seen after the body was recovered", 3: "age outside the body's apparent age range"}


def _word_level(shared: np.ndarray, am_len: np.ndarray, pm_len: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    shorter = np.minimum(am_len[:, None], pm_len[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(shorter > 0, shared / np.maximum(shorter, 1), 0.0)
    level = np.where(share >= AGREE_SHARE, 0, np.where(share > 0, 1, 2))
    return np.where(shorter > 0, level, MISSING).astype(np.int8), share


def _row_counts(matrix: csr_matrix) -> np.ndarray:
    return np.diff(matrix.indptr).astype(np.float64)


def compare(am: AmTable, pm: PmTable, rows: slice | np.ndarray = slice(None), cols: slice | np.ndarray = slice(None)) -> Block:
    """Compare AM rows ``rows`` with PM rows ``cols``: blocking, levels and the facts behind them."""
    a_sex, p_sex = am.sex[rows][:, None], pm.sex[cols][None, :]
    sex_known = (a_sex >= 0) & (p_sex >= 0)
    last_seen, recovered = am.last_seen[rows][:, None], pm.recovered[cols][None, :]
    late = last_seen > recovered  # nan compares False: unknown never excludes
    born = am.born[rows][:, None]
    age_at_loss = (last_seen - born) / 365.2425
    age_at_recovery = (recovered - born) / 365.2425
    lo, hi = pm.age_lo[cols][None, :], pm.age_hi[cols][None, :]
    age_known = ~np.isnan(lo) & ~np.isnan(born)
    # the age at death lies between the age when last seen and the age at recovery
    age_from = np.where(np.isnan(age_at_loss), age_at_recovery, age_at_loss)
    age_out = age_known & ((np.floor(age_from) > hi) | (np.floor(age_at_recovery) < lo))
    exclusion = np.where(sex_known & (a_sex != p_sex), 1, np.where(late, 2, np.where(age_out, 3, 0))).astype(np.int8)

    levels: dict[str, np.ndarray] = {}
    levels["sex"] = np.where(sex_known, np.where(a_sex == p_sex, 0, 1), MISSING).astype(np.int8)
    middle, quarter = (lo + hi) / 2, np.maximum((hi - lo) / 4, 1.0)
    central = (age_from - quarter <= middle) & (age_at_recovery + quarter >= middle)
    levels["age"] = np.where(age_known, np.where(age_out, 2, np.where(central, 0, 1)), MISSING).astype(np.int8)

    height = am.height[rows][:, None]
    h_lo, h_hi = pm.height_lo[cols][None, :], pm.height_hi[cols][None, :]
    h_known = ~np.isnan(height) & ~np.isnan(h_lo)
    centre = np.abs(height - (h_lo + h_hi) / 2) <= 3
    within = (height >= h_lo) & (height <= h_hi)
    near = (height >= h_lo - 5) & (height <= h_hi + 5)
    levels["height"] = np.where(h_known, np.where(centre, 0, np.where(within, 1, np.where(near, 2, 3))), MISSING).astype(np.int8)

    overlap: dict[str, np.ndarray] = {}
    for name in ("marks", "belongings"):
        a_words, p_words = getattr(am, name)[rows], getattr(pm, name)[cols]
        shared = (a_words @ p_words.T).toarray()
        levels[name], overlap[name] = _word_level(shared, _row_counts(a_words), _row_counts(p_words))

    a_service, p_service = am.service[rows][:, None], pm.service[cols][None, :]
    s_known = (a_service != "") & (p_service != "")
    levels["service_number"] = np.where(s_known, np.where(a_service == p_service, 0, 1), MISSING).astype(np.int8)

    a_names, p_names = am.names[rows], pm.names[cols]
    shared_names = (a_names @ p_names.T).toarray()
    name_level, overlap["document_names"] = _word_level(shared_names, _row_counts(a_names), _row_counts(p_names))
    levels["document_names"] = np.where(name_level == MISSING, MISSING, np.where(name_level == 0, 0, 1)).astype(np.int8)

    a_lat, a_lon = am.lat[rows][:, None], am.lon[rows][:, None]
    p_lat, p_lon = pm.lat[cols][None, :], pm.lon[cols][None, :]
    dy = (a_lat - p_lat) * KM_PER_DEGREE
    dx = (a_lon - p_lon) * KM_PER_DEGREE * np.cos(np.radians((a_lat + p_lat) / 2))
    distance = np.hypot(dx, dy)
    levels["place"] = np.where(np.isnan(distance), MISSING, np.where(distance <= 5, 0, np.where(distance <= 25, 1, 2))).astype(np.int8)

    a_teeth, p_teeth = am.dental[rows][:, None, :], pm.dental[cols][None, :, :]
    both = (a_teeth >= 0) & (p_teeth >= 0)
    discrepant = (both & (p_teeth < a_teeth)).sum(axis=2)
    concordant = (both & (a_teeth > 0) & (p_teeth >= a_teeth)).sum(axis=2)
    charted = both.any(axis=2)
    levels["dental"] = np.where(
        ~charted, MISSING, np.where(discrepant > 0, 3, np.where(concordant >= 3, 0, np.where(concordant >= 1, 1, 2)))
    ).astype(np.int8)

    return Block(
        excluded=exclusion > 0, exclusion=exclusion, levels=levels, overlap=overlap, distance_km=distance,
        concordant=concordant, discrepant=discrepant, age_at_death=age_from,
    )


PRIOR_PAIRS = 500.0  # how many sampled pairs the prior u is worth
PRIOR_MATCHES = 50.0  # how many confirmed identifications the prior m is worth
U_SAMPLE = 400  # rows and columns drawn for the random-pair sample (160,000 pairs)


@dataclass(frozen=True)
class Model:
    """The Fellegi-Sunter m and u of every level, and their log2 ratios (the last slot: missing, weight 0).

    ``fit`` estimates u from random pairs, as record-linkage practice does (nearly every random
    pair is two different people), and m from identifications already confirmed on a primary
    identifier; both are smoothed towards the priors in ``LEVELS`` so a small mission's first
    records do not swing the weights.
    """

    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]

    @cached_property
    def weights(self) -> dict[str, np.ndarray]:
        return {name: np.append(np.log2(self.m[name] / self.u[name]), 0.0) for name in FIELDS}

    def level(self, name: str, index: int) -> Level:
        return Level(LEVELS[name][index].name, float(self.m[name][index]), float(self.u[name][index]))

    @classmethod
    def prior(cls) -> Model:
        return cls(m={n: np.array([lv.m for lv in LEVELS[n]]) for n in FIELDS}, u={n: np.array([lv.u for lv in LEVELS[n]]) for n in FIELDS})

    @classmethod
    def fit(cls, am: AmTable, pm: PmTable, matches: Sequence[tuple[int, int]] = (), seed: int = 0) -> Model:
        """``matches``: (AM row, PM row) of confirmed identifications."""
        prior = cls.prior()
        m, u = prior.m, prior.u
        rng = np.random.default_rng(seed)
        if len(am.ids) and len(pm.ids):
            rows = rng.choice(len(am.ids), size=min(U_SAMPLE, len(am.ids)), replace=False)
            cols = rng.choice(len(pm.ids), size=min(U_SAMPLE, len(pm.ids)), replace=False)
            sample = compare(am, pm, np.sort(rows), np.sort(cols))
            u = {n: _smoothed(sample.levels[n], prior.u[n], PRIOR_PAIRS) for n in FIELDS}
        if matches:
            a, p = (np.array(side) for side in zip(*matches))
            known = compare(am, pm, a, p)
            diagonal = np.arange(len(a))
            m = {n: _smoothed(known.levels[n][diagonal, diagonal], prior.m[n], PRIOR_MATCHES) for n in FIELDS}
        return cls(m=m, u=u)


def _smoothed(levels: np.ndarray, prior: np.ndarray, weight: float) -> np.ndarray:
    """Level shares among the comparisons that could be made, pulled towards ``prior``."""
    made = levels[levels != MISSING].astype(np.int64)
    counts = np.bincount(made, minlength=len(prior))[: len(prior)]
    return (counts + weight * prior) / (counts.sum() + weight)


@dataclass(frozen=True)
class Evidence:
    field: str
    level: str
    weight: float
    detail: str
    said: Sentence | None = None  # the detail's words and values, to be said in a reader's language


@dataclass(frozen=True)
class Candidate:
    am_id: int
    pm_id: int
    weight: float
    excluded: str | None
    evidence: tuple[Evidence, ...]
    dna_ratio: float | None = None


def dna_weight(ratio: float | None) -> float:
    return 0.0 if ratio is None or ratio <= 0 else math.log2(ratio)


def explain(am: AmTable, pm: PmTable, am_row: int, pm_row: int, model: Model, dna_ratio: float | None = None) -> Candidate:
    """One pair's score with every field's level, weight and reason."""
    block = compare(am, pm, np.array([am_row]), np.array([pm_row]))
    evidence = []
    for name in FIELDS:
        level = int(block.levels[name][0, 0])
        if level == MISSING:
            continue
        spec = model.level(name, level)
        said = _detail(name, am, pm, am_row, pm_row, block)
        evidence.append(Evidence(name, spec.name, round(spec.weight, 3), str(said), said))
    if dna_ratio is not None:
        said = Sentence(N_("laboratory likelihood ratio {ratio:.3g}"), {"ratio": dna_ratio})
        evidence.append(Evidence("dna", N_("likelihood ratio"), round(dna_weight(dna_ratio), 3), str(said), said))
    code = int(block.exclusion[0, 0])
    return Candidate(
        am_id=int(am.ids[am_row]), pm_id=int(pm.ids[pm_row]),
        weight=round(float(block.weight(model)[0, 0]) + dna_weight(dna_ratio), 3),
        excluded=EXCLUSIONS.get(code), evidence=tuple(evidence), dna_ratio=dna_ratio,
    )


def _detail(name: str, am: AmTable, pm: PmTable, a: int, p: int, block: Block) -> Sentence:
    """Why a field compared as it did, as a sentence a page says in its reader's language."""
    if name == "sex":
        names = (Sentence(N_("male")), Sentence(N_("female")))
        return Sentence(N_("reported {reported}; body {found}"), {"reported": names[am.sex[a]], "found": names[pm.sex[p]]})
    if name == "age":
        return Sentence(N_("about {age:.0f} when last seen; body appears {low:.0f}-{high:.0f}"),
                        {"age": float(block.age_at_death[0, 0]), "low": float(pm.age_lo[p]), "high": float(pm.age_hi[p])})
    if name == "height":
        return Sentence(N_("reported {height:.0f} cm; body {low:.0f}-{high:.0f} cm"),
                        {"height": float(am.height[a]), "low": float(pm.height_lo[p]), "high": float(pm.height_hi[p])})
    if name in ("marks", "belongings", "document_names"):
        return Sentence(N_("{share:.0%} of the words of the shorter description in common"), {"share": float(block.overlap[name][0, 0])})
    if name == "service_number":
        return Sentence(N_("reported {reported}; found on the body {found}"), {"reported": am.service[a], "found": pm.service[p]})
    if name == "place":
        return Sentence(N_("found {km:.1f} km from where last seen"), {"km": float(block.distance_km[0, 0])})
    concordant, discrepant = int(block.concordant[0, 0]), int(block.discrepant[0, 0])
    return Sentence(N_("{concordant} teeth treated in life found as charted or further treated; {discrepant} show less treatment "
                       "than the AM chart"), {"concordant": concordant, "discrepant": discrepant})


def rank(
    am: AmTable, pm: PmTable, model: Model, *, per_am: bool, top: int = 10, dna: Mapping[tuple[int, int], float] | None = None,
    only: Sequence[int] | np.ndarray | None = None, chunk: int = 256,
) -> list[list[tuple[int, float]]]:
    """For each AM record (``per_am``) its best PM rows, or for each PM record its best AM rows;
    ``only`` limits the ranking to those AM (or PM) rows.

    Returns, per record, up to ``top`` (row index, weight) pairs, best first, excluded pairs left out.
    """
    dna_rows = _dna_cells(am, pm, dna or {})
    outer = np.arange(len(am.ids) if per_am else len(pm.ids)) if only is None else np.asarray(only, dtype=np.int64)
    results: list[list[tuple[int, float]]] = []
    for start in range(0, len(outer), chunk):
        span = outer[start:start + chunk]
        position = {int(r): i for i, r in enumerate(span)}
        block = compare(am, pm, rows=span) if per_am else compare(am, pm, cols=span)
        weight = block.weight(model)
        for (a, p), ratio in dna_rows.items():
            mine = position.get(a if per_am else p)
            if mine is not None:
                weight[(mine, p) if per_am else (a, mine)] += dna_weight(ratio)
        weight[block.excluded] = -np.inf
        scores = weight if per_am else weight.T
        k = min(top, scores.shape[1])
        if k == 0:
            results.extend([] for _ in span)
            continue
        best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        for row, picks in zip(scores, best):
            chosen = sorted(((int(c), float(row[c])) for c in picks if np.isfinite(row[c])), key=lambda t: -t[1])
            results.append(chosen)
    return results


def _dna_cells(am: AmTable, pm: PmTable, dna: Mapping[tuple[int, int], float]) -> dict[tuple[int, int], float]:
    """DNA ratios keyed by (AM row, PM row) instead of record ids."""
    am_row = {int(i): r for r, i in enumerate(am.ids)}
    pm_row = {int(i): r for r, i in enumerate(pm.ids)}
    return {(am_row[a], pm_row[p]): lr for (p, a), lr in dna.items() if a in am_row and p in pm_row}


def undisputed(ratios: Mapping[tuple[int, int], float], threshold: float = UNDISPUTED_RATIO) -> set[tuple[int, int]]:
    """(PM, AM) pairs whose DNA likelihood ratio settles the identity.

    A ratio of at least ``threshold`` that is also at least ``threshold`` times every other ratio
    involving the same body or the same missing person: a high ratio against a brother's reference
    sample is not an identification while the brother's own ratio is close.
    """
    by_body: dict[int, list[float]] = {}
    by_person: dict[int, list[float]] = {}
    for (pm_id, am_id), lr in ratios.items():
        by_body.setdefault(pm_id, []).append(lr)
        by_person.setdefault(am_id, []).append(lr)
    top_body = {key: sorted(values, reverse=True)[:2] for key, values in by_body.items()}
    top_person = {key: sorted(values, reverse=True)[:2] for key, values in by_person.items()}
    settled = set()
    for (pm_id, am_id), lr in ratios.items():
        if lr < threshold:
            continue
        # the pair must hold the highest ratio of its body and of its person, far above the runner-up of each
        if all(ranking[0] == lr and (len(ranking) == 1 or lr >= threshold * ranking[1])
               for ranking in (top_body[pm_id], top_person[am_id])):
            settled.add((pm_id, am_id))
    return settled
