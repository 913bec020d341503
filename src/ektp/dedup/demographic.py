"""Demographic dedup with Splink on DuckDB: one fixed model for the registry scan and single checks.

Each record is compared on five fields; every level carries a fixed m probability (how often two
records of the same person agree this way) and u probability (how often two different residents
of one district do). The weights are set from the registry's own make-up rather than trained,
so a scan of a district and the check of one new recording score a pair identically:

    field        level                            m       u        weight (log2 m/u)
    name         exactly equal (normalised)       0.70    0.0005   +10.5
                 a typo: Jaro-Winkler >= 0.92     0.22    0.003     +6.2
                   or at most 2 edits apart
                 otherwise                        0.08    0.9965    -3.6
    mother_name  exactly equal                    0.85    0.003     +8.1
                 Jaro-Winkler >= 0.90             0.10    0.006     +4.1
                 otherwise                        0.05    0.991     -4.3
    birth_date   exactly equal                    0.90    0.00005  +14.1
                 one edit apart (typo, swap)      0.05    0.0006    +6.4
                 otherwise                        0.05    0.99935   -4.3
    birth_place  exactly equal                    0.90    0.35      +1.4
                 Jaro-Winkler >= 0.88             0.05    0.03      +0.7
                 otherwise                        0.05    0.62      -3.6
    sex          equal                            0.98    0.50      +1.0
                 different                        0.02    0.50      -4.6

A missing value weighs 0. The prior (``PRIOR``, 1 in 10^6 pairs) subtracts 19.9. A second NIK for
the same person with a typo in the name scores about +11 (probability 0.9995); siblings share a
mother and a birth place but differ in name and birth date and score about -17. Twins with unlike
names stay below the threshold: the biometric check, not this one, tells twins apart.

Blocking follows from the weights. A pair is called one person at probability 0.99
(``MATCH_PROBABILITY``), a weight of +6.6, so its fields must add up to at least 26.5 of the 35.1
that full agreement gives: at most 8.6 may be lost. Losing the exact birth date costs 7.7 at best
(one edit) and then nothing else may differ but a near birth place; otherwise the birth date is
exact, and the mother's name is exact, alike (a loss of 4.0) or missing (8.1) — an unlike mother
costs 12.4. So every pair the model can call one person shares

    the birth date, with mother's names alike or one missing     (a typo in the name), or
    the name and the mother's name                               (a typo in the birth date)

and only those pairs are formed (``tests/dedup/test_scan.py`` walks every combination of levels
to check it). A scan at a lower threshold blocks more broadly: the birth date, or the name and
birth year, or the mother's name and birth year. The birth-date rule forms a few pairs per resident
(about 7 in a district of 400,000), so the work grows with the district's size, not its square.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import re
import threading
import time
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

PRIOR = 1e-6
MATCH_PROBABILITY = 0.99
TITLES = {
    "H",
    "HJ",
    "HAJI",
    "HAJJAH",
    "DR",
    "DRS",
    "IR",
    "PROF",
    "ST",
    "SH",
    "SE",
    "SPD",
    "SKOM",
    "AMD",
    "MM",
    "MT",
}
FIELDS = ("name", "mother_name", "birth_place", "birth_date", "sex")

MOTHER_ALIKE = 0.90  # the Jaro-Winkler similarity of "alike" mother's names

# Per field: its levels, best first, as (kind, m, u, threshold), then the m and u of "otherwise".
COMPARISONS: tuple[
    tuple[str, tuple[tuple[str, float, float, float | None], ...], float, float], ...
] = (
    ("name", (("exact", 0.70, 0.0005, None), ("typo", 0.22, 0.003, 0.92)), 0.08, 0.9965),
    ("mother_name", (("exact", 0.85, 0.003, None), ("jw", 0.10, 0.006, MOTHER_ALIKE)), 0.05, 0.991),
    ("birth_date", (("exact", 0.90, 0.00005, None), ("edit", 0.05, 0.0006, 1)), 0.05, 0.99935),
    ("birth_place", (("exact", 0.90, 0.35, None), ("jw", 0.05, 0.03, 0.88)), 0.05, 0.62),
    ("sex", (("exact", 0.98, 0.50, None),), 0.02, 0.50),
)
# The pairs a scan at MATCH_PROBABILITY or above forms (see the module docstring).
TIGHT_BLOCKING = (
    'l."birth_date" = r."birth_date" and (l."mother_name" = r."mother_name"'
    ' or l."mother_name" is null or r."mother_name" is null'
    f' or jaro_winkler_similarity(l."mother_name", r."mother_name") >= {MOTHER_ALIKE})',
    'l."name" = r."name" and l."mother_name" = r."mother_name"',
)
BROAD_BLOCKING = (
    'l."birth_date" = r."birth_date"',
    'l."name" = r."name" and l."birth_year" = r."birth_year"',
    'l."mother_name" = r."mother_name" and l."birth_year" = r."birth_year"',
)


@functools.lru_cache(maxsize=1 << 18)
def normalise_name(value: str) -> str:
    """Return a name in upper case ASCII without titles or punctuation, single-spaced."""
    text = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode()
    text = text.split(",")[0].replace("'", "").replace("`", "")
    words = re.sub(r"[^A-Za-z ]+", " ", text).upper().split()
    return " ".join(w for w in words if w not in TITLES)


@dataclass(frozen=True)
class Person:
    """The demographic fields of one resident, as the model reads them."""

    id: str
    name: str
    mother_name: str
    birth_place: str
    birth_date: dt.date
    sex: str


@dataclass(frozen=True, order=True)
class Pair:
    """Two records the model scores as one person."""

    left: str
    right: str
    probability: float
    weight: float


def match_weight(probability: float) -> float:
    """Return the match weight (log2 odds) of a match probability."""
    return math.log2(probability / (1.0 - probability))


def blocking_rules(threshold: float = MATCH_PROBABILITY) -> tuple[str, ...]:
    """Return the blocking rules that form every pair the model can score at ``threshold``."""
    return TIGHT_BLOCKING if threshold >= MATCH_PROBABILITY else BROAD_BLOCKING


def _level(sql: str, label: str, m: float, u: float):
    from splink import comparison_level_library as cll

    return cll.CustomLevel(sql, label_for_charts=label).configure(m_probability=m, u_probability=u)


def _levels(column: str, levels: Sequence[tuple[str, float, float, float | None]]) -> list:
    """Build a null level, then one level per (kind, m, u, threshold), best first."""
    from splink import comparison_level_library as cll

    built = [cll.NullLevel(column)]
    for kind, m, u, threshold in levels:
        if kind == "exact":
            sql = f'"{column}_l" = "{column}_r"'
        elif kind == "typo":
            sql = (
                f'(jaro_winkler_similarity("{column}_l", "{column}_r") >= {threshold} '
                f'or damerau_levenshtein("{column}_l", "{column}_r") <= 2)'
            )
        elif kind == "jw":
            sql = f'jaro_winkler_similarity("{column}_l", "{column}_r") >= {threshold}'
        else:
            sql = f'damerau_levenshtein("{column}_l", "{column}_r") <= {int(threshold)}'
        built.append(_level(sql, f"{kind} {threshold or ''}".strip(), m, u))
    return built


def model_settings(threshold: float = MATCH_PROBABILITY):
    """Return the Splink settings of the demographic model, with its fixed m and u."""
    from splink import SettingsCreator
    from splink import comparison_level_library as cll
    from splink import comparison_library as cl

    comparisons = []
    for column, levels, else_m, else_u in COMPARISONS:
        built = _levels(column, levels)
        built.append(cll.ElseLevel().configure(m_probability=else_m, u_probability=else_u))
        comparisons.append(cl.CustomComparison(comparison_levels=built, output_column_name=column))
    return SettingsCreator(
        link_type="dedupe_only",
        probability_two_random_records_match=PRIOR,
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=list(blocking_rules(threshold)),
        retain_matching_columns=False,
    )


SCHEMA = pa.schema(
    [
        ("unique_id", pa.int64()),
        ("name", pa.string()),
        ("mother_name", pa.string()),
        ("birth_place", pa.string()),
        ("birth_date", pa.string()),
        ("birth_year", pa.int32()),
        ("sex", pa.string()),
    ]
)


def _column(values: Sequence, clean) -> pa.Array:
    """Return a string column with ``clean`` applied once per distinct value ('' becomes null)."""
    encoded = pa.array(values, pa.string()).dictionary_encode()
    dictionary = pa.array([clean(v) or None for v in encoded.dictionary.to_pylist()], pa.string())
    return dictionary.take(encoded.indices)


def _dates(values: Sequence) -> pa.Array:
    """Return birth dates (date objects or ISO text) as ISO text."""
    array = pa.array(values)
    return array if pa.types.is_string(array.type) else pc.cast(array, pa.string())


def _table(rows: Iterable[Sequence], first_id: int = 0) -> tuple[Sequence, pa.Table]:
    """Return the rows' own ids and the normalised table the model reads, numbered from first_id.

    A row is (id, name, mother_name, birth_place, birth_date, sex). Names repeat across a
    registry, so each distinct value is normalised once.
    """
    rows = rows if isinstance(rows, list) else list(rows)
    ids, names, mothers, places, dates, sexes = (list(map(itemgetter(i), rows)) for i in range(6))
    born = _dates(dates)
    arrays = [
        pa.array(range(first_id, first_id + len(ids)), pa.int64()),
        _column(names, normalise_name),
        _column(mothers, normalise_name),
        _column(places, normalise_name),
        born,
        pc.cast(pc.utf8_slice_codeunits(born, 0, 4), pa.int32()),
        _column(sexes, str),
    ]
    return ids, pa.Table.from_arrays(arrays, schema=SCHEMA)


def _person_rows(people: Iterable[Person]):
    for p in people:
        yield (p.id, p.name, p.mother_name, p.birth_place, p.birth_date, p.sex)


def _found(frame, threshold: float) -> list[tuple[int, int, float, float]]:
    relation = frame.as_duckdbpyrelation()
    found = relation.filter(f"match_probability >= {float(threshold)}").select(
        "unique_id_l, unique_id_r, match_probability, match_weight"
    )
    return found.fetchall()


def subject_text(value) -> str:
    """Return a record id as text; a UUID read raw (32 hex digits on SQLite) in its usual form."""
    if isinstance(value, uuid.UUID):
        return str(value)
    text = str(value)
    if len(text) == 32:
        try:
            return str(uuid.UUID(hex=text))
        except ValueError:
            return text
    return text


def find_pairs(
    rows: Iterable[Sequence],
    *,
    threshold: float = MATCH_PROBABILITY,
    timings: dict[str, float] | None = None,
) -> list[Pair]:
    """Score every blocked pair of rows (id, name, mother_name, birth_place, birth_date, sex).

    ``timings``, when given, receives the seconds spent per phase: ``table`` (normalise and build
    the Arrow table), ``load`` (into DuckDB), ``model`` (Splink's linker with the fixed model) and
    ``predict`` (block and score in Splink).
    """
    timings = {} if timings is None else timings
    started = time.perf_counter()
    ids, table = _table(rows)
    timings["table"] = time.perf_counter() - started
    if table.num_rows < 2:
        return []
    started = time.perf_counter()
    con = duckdb.connect()
    try:
        con.register("people_arrow", table)
        con.execute("create table people as select * from people_arrow")
        con.unregister("people_arrow")
        timings["load"] = time.perf_counter() - started
        started = time.perf_counter()
        logging.getLogger("splink").setLevel(logging.WARNING)
        from splink import DuckDBAPI, Linker

        db_api = DuckDBAPI(connection=con)
        linker = Linker(db_api.register("people"), model_settings(threshold), log_level=None)
        timings["model"] = time.perf_counter() - started
        started = time.perf_counter()
        frame = linker.inference.predict(threshold_match_probability=threshold)
        found = _found(frame, threshold)
        timings["predict"] = time.perf_counter() - started
    finally:
        con.close()
    pairs = []
    for a, b, probability, weight in found:
        left, right = sorted((subject_text(ids[a]), subject_text(ids[b])))
        pairs.append(Pair(left, right, float(probability), float(weight)))
    return sorted(pairs)


def clusters(pairs: Iterable[Pair]) -> list[list[str]]:
    """Group linked records into clusters (connected components), each sorted, largest first."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for pair in pairs:
        a, b = root(pair.left), root(pair.right)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = {}
    for node in parent:
        groups.setdefault(root(node), []).append(node)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g[0]))


class _Checker(threading.local):
    """A per-thread DuckDB connection holding the model, reused by every single-record check."""

    def get(self):
        if not hasattr(self, "linker"):
            from splink import DuckDBAPI, Linker

            self.con = duckdb.connect()
            self.db_api = DuckDBAPI(connection=self.con)
            empty = self.db_api.register(SCHEMA.empty_table())
            self.linker = Linker(empty, model_settings(), log_level=None, validate_settings=False)
        return self


_checker = _Checker()


def match_one(
    person: Person, candidates: Iterable[Person], *, threshold: float = MATCH_PROBABILITY
) -> list[Pair]:
    """Score one new record against registry records with the same model; best first."""
    others = [c for c in candidates if str(c.id) != str(person.id)]
    if not others:
        return []
    logging.getLogger("splink").setLevel(logging.WARNING)
    checker = _checker.get()
    ids, table = _table(_person_rows(others))
    left = checker.db_api.register(table)
    right = checker.db_api.register(_table(_person_rows([person]), first_id=len(ids))[1])
    try:
        frame = checker.linker.inference.predict_between(
            left,
            right,
            blocking_rules_to_generate_predictions=list(blocking_rules(threshold)),
            threshold_match_probability=threshold,
        )
        found = _found(frame, threshold)
        frame.drop_table_from_database_and_remove_from_cache()
    finally:
        for registered in (left, right):
            checker.con.unregister(registered.physical_name)
    pid = str(person.id)
    matches = []
    for a, b, probability, weight in found:
        other = ids[min(a, b)]
        matches.append(Pair(pid, str(other), float(probability), float(weight)))
    return sorted(matches, key=lambda p: -p.probability)
