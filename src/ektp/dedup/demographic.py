"""Demographic dedup with Splink on DuckDB: one fixed model for the registry scan and single checks.

Each record is compared on five fields; every level carries a fixed m probability (how often two
records of the same person agree this way) and u probability (how often two different residents
of one district do). The weights are set from the registry's own make-up rather than trained,
so a scan of a district and the check of one new recording score a pair identically:

    field        level                            m       u        weight (log2 m/u)
    name         exactly equal (normalised)       0.70    0.0005   +10.5
                 a typo: Jaro-Winkler >= 0.92     0.22    0.003     +6.2
                   or at most 2 edits apart
                 Jaro-Winkler >= 0.80             0.04    0.03      +0.4
                 otherwise                        0.04    0.9675    -4.6
    mother_name  exactly equal                    0.85    0.003     +8.1
                 Jaro-Winkler >= 0.90             0.10    0.006     +4.1
                 otherwise                        0.05    0.991     -4.3
    birth_date   exactly equal                    0.90    0.00005  +14.1
                 one edit apart (typo, swap)      0.05    0.0006    +6.4
                 same month, or day/month swapped 0.03    0.0015    +4.3
                 otherwise                        0.02    0.99785   -5.6
    birth_place  exactly equal                    0.90    0.35      +1.4
                 Jaro-Winkler >= 0.88             0.05    0.03      +0.7
                 otherwise                        0.05    0.62      -3.6
    sex          equal                            0.98    0.50      +1.0
                 different                        0.02    0.50      -4.6

The prior (``PRIOR``, 1 in 10^6 pairs) subtracts 19.9. A second NIK for the same person with a
typo in the name scores about +11 (probability 0.9995); siblings share a mother and a birth
place but differ in name and birth date and score about -20. Twins with unlike names stay
below the threshold: the biometric check, not this one, tells twins apart.

Blocking: pairs are only formed between records that share the birth date (a typo in a name), or
the name and birth year (a typo in the birth date), or the mother's name and birth year, so the
work grows with the district's size rather than its square.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

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

    def row(self) -> dict:
        """Return the normalised row the model compares."""
        name = normalise_name(self.name)
        return {
            "unique_id": str(self.id),
            "name": name or None,
            "mother_name": normalise_name(self.mother_name) or None,
            "birth_place": normalise_name(self.birth_place) or None,
            "birth_date": self.birth_date.isoformat(),
            "birth_year": self.birth_date.year,
            "sex": self.sex or None,
        }


@dataclass(frozen=True, order=True)
class Pair:
    """Two records the model scores as one person."""

    left: str
    right: str
    probability: float
    weight: float


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
        elif kind == "month":
            sql = (
                f'(substr("{column}_l", 1, 7) = substr("{column}_r", 1, 7) or '
                f'(substr("{column}_l", 1, 4) = substr("{column}_r", 1, 4) and '
                f'substr("{column}_l", 6, 2) = substr("{column}_r", 9, 2) and '
                f'substr("{column}_l", 9, 2) = substr("{column}_r", 6, 2)))'
            )
        elif kind == "jw":
            sql = f'jaro_winkler_similarity("{column}_l", "{column}_r") >= {threshold}'
        else:
            sql = f'damerau_levenshtein("{column}_l", "{column}_r") <= {int(threshold)}'
        built.append(_level(sql, f"{kind} {threshold or ''}".strip(), m, u))
    return built


def model_settings():
    """Return the Splink settings of the demographic model, with its fixed m and u."""
    from splink import SettingsCreator, block_on
    from splink import comparison_level_library as cll
    from splink import comparison_library as cl

    def comparison(column, levels, else_m, else_u):
        built = _levels(column, levels)
        built.append(cll.ElseLevel().configure(m_probability=else_m, u_probability=else_u))
        return cl.CustomComparison(comparison_levels=built, output_column_name=column)

    return SettingsCreator(
        link_type="dedupe_only",
        probability_two_random_records_match=PRIOR,
        comparisons=[
            comparison(
                "name",
                [
                    ("exact", 0.70, 0.0005, None),
                    ("typo", 0.22, 0.003, 0.92),
                    ("jw", 0.04, 0.03, 0.80),
                ],
                0.04,
                0.9675,
            ),
            comparison(
                "mother_name",
                [("exact", 0.85, 0.003, None), ("jw", 0.10, 0.006, 0.90)],
                0.05,
                0.991,
            ),
            comparison(
                "birth_date",
                [
                    ("exact", 0.90, 0.00005, None),
                    ("edit", 0.05, 0.0006, 1),
                    ("month", 0.03, 0.0015, None),
                ],
                0.02,
                0.99785,
            ),
            comparison(
                "birth_place",
                [("exact", 0.90, 0.35, None), ("jw", 0.05, 0.03, 0.88)],
                0.05,
                0.62,
            ),
            comparison("sex", [("exact", 0.98, 0.50, None)], 0.02, 0.50),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("birth_date"),
            block_on("name", "birth_year"),
            block_on("mother_name", "birth_year"),
        ],
        retain_matching_columns=False,
    )


SCHEMA = pa.schema(
    [
        ("unique_id", pa.string()),
        ("name", pa.string()),
        ("mother_name", pa.string()),
        ("birth_place", pa.string()),
        ("birth_date", pa.string()),
        ("birth_year", pa.int32()),
        ("sex", pa.string()),
    ]
)


def _table(people: Iterable[Person]) -> pa.Table:
    rows = [p.row() for p in people]
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def _pairs(frame, threshold: float) -> list[Pair]:
    relation = frame.as_duckdbpyrelation()
    found = relation.filter(f"match_probability >= {float(threshold)}").select(
        "unique_id_l, unique_id_r, match_probability, match_weight"
    )
    return sorted(Pair(str(a), str(b), float(p), float(w)) for a, b, p, w in found.fetchall())


def _linker(con: duckdb.DuckDBPyConnection, table_name: str):
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(connection=con)
    frame = db_api.register(table_name)
    return db_api, Linker(frame, model_settings(), log_level=None)


def find_pairs(people: Iterable[Person], *, threshold: float = MATCH_PROBABILITY) -> list[Pair]:
    """Score every blocked pair of records and return those the model calls one person."""
    table = _table(people)
    if table.num_rows < 2:
        return []
    logging.getLogger("splink").setLevel(logging.WARNING)
    con = duckdb.connect()
    try:
        con.register("people_arrow", table)
        con.execute("create table people as select * from people_arrow")
        _, linker = _linker(con, "people")
        frame = linker.inference.predict(threshold_match_probability=threshold)
        return _pairs(frame, threshold)
    finally:
        con.close()


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
    left = checker.db_api.register(_table(others))
    right = checker.db_api.register(_table([person]))
    try:
        frame = checker.linker.inference.predict_between(
            left, right, threshold_match_probability=threshold
        )
        found = _pairs(frame, threshold)
        frame.drop_table_from_database_and_remove_from_cache()
    finally:
        for registered in (left, right):
            checker.con.unregister(registered.physical_name)
    pid = str(person.id)
    oriented = [
        Pair(pid, p.right if p.left == pid else p.left, p.probability, p.weight) for p in found
    ]
    return sorted(oriented, key=lambda p: -p.probability)
