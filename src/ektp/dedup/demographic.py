"""Demographic dedup with Splink on DuckDB: a model trained on the registry it judges.

A record is compared on up to nine fields; a field missing on either side weighs nothing (Splink's
null level). Each comparison has levels, best first:

    field         levels                                                         TF
    name          exact · typo (Jaro-Winkler >= 0.92 or <= 2 edits) · the same   yes
                  words reordered or some dropped · Jaro-Winkler >= 0.80 · one word
                  in common · else
    mother_name   exact · Jaro-Winkler >= 0.90 · else                            yes
    birth_date    exact · one edit · day and month swapped · else
    birth_place   exact · Jaro-Winkler >= 0.88 · else                            yes
    sex           equal · different
    desa          the same village code · else                                   yes
    rt_rw         the same RT/RW · else
    street        exact · Jaro-Winkler >= 0.90 · else
    phone         exact · one edit · else

(TF: term-frequency adjustment on the exact level, so that two "SITI AMINAH" weigh less than two
"ZULKARNAEN SIHOMBING".) Names pass through ``names.normalise_name`` first.

**Trained, not typed.** ``train`` fits the model on a registry with Splink's own estimators: u
by random sampling of record pairs (``estimate_u_using_random_sampling``), m by
expectation-maximisation over two blocking rules (born the same day; the same name), and the
prior (``probability_two_random_records_match``) from deterministic rules (the same name and birth
date, or the same name, mother and birth year), assuming those rules find ``DETERMINISTIC_RECALL``
of the true pairs. The result is Splink's settings JSON plus the term frequencies of the
registry, kept by ``dedup.models.DemographicModel`` per scope (district or province).

**Untrained fallback.** Until a scope has a trained model, ``default_model`` scores with fixed m
and u (the ``COMPARISONS`` table below), a prior of 1 in 10^6 and no term-frequency adjustment.
The training starts from the same values, so a level that a registry gives no evidence for
(e.g. the phone when nobody has one) keeps them.

**Threshold.** A pair is one person at ``MATCH_PROBABILITY`` unless the model carries its own
threshold, chosen from adjudicated cases for a target precision (``choose_threshold``).

**Blocking.** The same rules form the pairs of a scan and of a single check (``BLOCKING``): born
the same day with the name's first letter or last three letters, the mother, the village or the
phone in common; the same name born the same year or on the same day of the year; the same mother
born the same year; the same phone; the same village and street born the same year. A pair that
none of these forms is never scored, whatever its weight.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import math
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ektp.dedup.names import normalise_name, normalise_number, normalise_phone, normalise_text

__all__ = ["normalise_name"]

PRIOR = 1e-6
MATCH_PROBABILITY = 0.99
DETERMINISTIC_RECALL = 0.6
U_SAMPLE_PAIRS = 2e6
TF_KEEP = 10_000  # the most common values per column kept with a trained model

# The fields of a record as the services pass them, in this order.
ROW_FIELDS = (
    "id",
    "name",
    "mother_name",
    "birth_place",
    "birth_date",
    "sex",
    "desa",
    "rt",
    "rw",
    "street",
    "phone",
)
TF_COLUMNS = ("name", "mother_name", "birth_place", "desa")

# Per field: its levels, best first, as (kind, m, u, threshold), then the m and u of "otherwise".
# These are the untrained fallback and the starting point of training.
COMPARISONS: tuple[
    tuple[str, tuple[tuple[str, float, float, float | None], ...], float, float], ...
] = (
    (
        "name",
        (
            ("exact", 0.70, 0.0005, None),
            ("typo", 0.15, 0.003, 0.92),
            ("parts", 0.07, 0.002, None),
            ("jw", 0.03, 0.02, 0.80),
            ("word", 0.03, 0.01, None),
        ),
        0.02,
        0.9645,
    ),
    ("mother_name", (("exact", 0.85, 0.003, None), ("jw", 0.10, 0.006, 0.90)), 0.05, 0.991),
    (
        "birth_date",
        (("exact", 0.90, 0.00005, None), ("edit", 0.04, 0.0006, 1), ("swap", 0.02, 0.00005, None)),
        0.04,
        0.99935,
    ),
    ("birth_place", (("exact", 0.90, 0.35, None), ("jw", 0.05, 0.03, 0.88)), 0.05, 0.62),
    ("sex", (("exact", 0.98, 0.50, None),), 0.02, 0.50),
    ("desa", (("exact", 0.80, 0.02, None),), 0.20, 0.98),
    ("rt_rw", (("exact", 0.75, 0.05, None),), 0.25, 0.95),
    ("street", (("exact", 0.60, 0.01, None), ("jw", 0.15, 0.02, 0.90)), 0.25, 0.97),
    ("phone", (("exact", 0.90, 0.0001, None), ("edit", 0.04, 0.0002, 1)), 0.06, 0.9997),
)
BLOCKING = (
    # Born the same day with something else in common: the name's first letter or last three,
    # the mother, the village or the phone (a district has ~14 residents born on each day).
    'l."birth_date" = r."birth_date" and (substr(l."name", 1, 1) = substr(r."name", 1, 1)'
    ' or right(l."name", 3) = right(r."name", 3) or l."mother_name" = r."mother_name"'
    ' or l."desa" = r."desa" or l."phone" = r."phone")',
    'l."name" = r."name" and (l."birth_year" = r."birth_year" or l."birth_day" = r."birth_day")',
    'l."mother_name" = r."mother_name" and l."birth_year" = r."birth_year"',
    'l."phone" = r."phone"',
    'l."desa" = r."desa" and l."street" = r."street" and l."birth_year" = r."birth_year"',
)
# Broader rules a trained model adds when the registry is small enough for them: each is kept while
# the pairs it forms stay under PAIR_BUDGET per record (a district's villages are far too big).
BROAD_BLOCKING = (("desa", 'l."desa" = r."desa"'), ("street", 'l."street" = r."street"'))
PAIR_BUDGET = 5
DETERMINISTIC_RULES = (
    'l."name" = r."name" and l."birth_date" = r."birth_date"',
    'l."name" = r."name" and l."mother_name" = r."mother_name" and l."birth_year" = r."birth_year"',
)
EM_BLOCKING = ('l."birth_date" = r."birth_date"', 'l."name" = r."name"')
EM_MAX_PAIRS = 5e6

SCHEMA = pa.schema(
    [
        ("unique_id", pa.int64()),
        ("name", pa.string()),
        ("mother_name", pa.string()),
        ("birth_place", pa.string()),
        ("birth_date", pa.string()),
        ("birth_year", pa.int32()),
        ("birth_day", pa.string()),
        ("sex", pa.string()),
        ("desa", pa.string()),
        ("rt_rw", pa.string()),
        ("street", pa.string()),
        ("phone", pa.string()),
    ]
)


@dataclass(frozen=True)
class Person:
    """The demographic fields of one resident, as the model reads them ('' when unknown)."""

    id: str
    name: str
    mother_name: str = ""
    birth_place: str = ""
    birth_date: dt.date | str | None = None
    sex: str = ""
    desa: str = ""
    rt: str = ""
    rw: str = ""
    street: str = ""
    phone: str = ""

    def row(self) -> tuple:
        return tuple(getattr(self, name) for name in ROW_FIELDS)


@dataclass(frozen=True)
class Model:
    """A demographic model: Splink's settings JSON, its threshold and the registry's frequencies.

    ``key`` names the model for the per-thread cache of single checks (a stored model's id).
    """

    settings: dict
    threshold: float = MATCH_PROBABILITY
    term_frequencies: dict[str, dict[str, float]] = field(default_factory=dict)
    key: str = "default"

    @property
    def blocking(self) -> list[str]:
        """Return the rules that form the pairs this model scores."""
        return [
            rule["blocking_rule"] if isinstance(rule, dict) else str(rule)
            for rule in self.settings["blocking_rules_to_generate_predictions"]
        ]

    @property
    def prior(self) -> float:
        return float(self.settings["probability_two_random_records_match"])

    def levels(self) -> list[dict]:
        """Return one row per comparison level: field, label, m, u and weight (None if null)."""
        rows = []
        for comparison in self.settings["comparisons"]:
            for level in comparison["comparison_levels"]:
                m, u = level.get("m_probability"), level.get("u_probability")
                null = bool(level.get("is_null_level"))
                weight = None if null or not m or not u else math.log2(m / u)
                rows.append(
                    {
                        "field": comparison["output_column_name"],
                        "label": level.get("label_for_charts", ""),
                        "m": None if null else m,
                        "u": None if null else u,
                        "weight": weight,
                        "tf": bool(level.get("tf_adjustment_column")),
                    }
                )
        return rows


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


def blocking_rules(model: Model | None = None) -> list[str]:
    """Return the blocking rules that form the pairs a scan or a single check scores."""
    return (model or default_model()).blocking


def _pair_count(con, column: str) -> int:
    """Return how many pairs share a value of ``column`` (an equality rule's pairs)."""
    sql = f'select coalesce(sum(n * (n - 1) / 2), 0) from (select count(*) n from people where "{column}" is not null group by "{column}")'
    return int(con.execute(sql).fetchone()[0])


def _level_sql(column: str, kind: str, threshold: float | None) -> str:
    left, right = f'"{column}_l"', f'"{column}_r"'
    if kind == "exact":
        return f"{left} = {right}"
    if kind == "typo":
        return (
            f"(jaro_winkler_similarity({left}, {right}) >= {threshold} "
            f"or damerau_levenshtein({left}, {right}) <= 2)"
        )
    if kind == "parts":
        words_l, words_r = f"str_split({left}, ' ')", f"str_split({right}, ' ')"
        return f"(list_has_all({words_l}, {words_r}) or list_has_all({words_r}, {words_l}))"
    if kind == "word":
        return f"list_has_any(str_split({left}, ' '), str_split({right}, ' '))"
    if kind == "jw":
        return f"jaro_winkler_similarity({left}, {right}) >= {threshold}"
    if kind == "swap":
        return (
            f"(substr({left}, 1, 4) = substr({right}, 1, 4) "
            f"and substr({left}, 6, 2) = substr({right}, 9, 2) "
            f"and substr({left}, 9, 2) = substr({right}, 6, 2))"
        )
    return f"damerau_levenshtein({left}, {right}) <= {int(threshold or 1)}"


def _settings(*, term_frequencies: bool):
    """Return Splink's settings creator of the model, with the fallback m and u as its values."""
    from splink import SettingsCreator
    from splink import comparison_level_library as cll
    from splink import comparison_library as cl

    comparisons = []
    for column, levels, else_m, else_u in COMPARISONS:
        built = [cll.NullLevel(column)]
        for kind, m, u, threshold in levels:
            options = {"m_probability": m, "u_probability": u}
            if kind == "exact" and term_frequencies and column in TF_COLUMNS:
                options |= {"tf_adjustment_column": column, "tf_adjustment_weight": 1.0}
            label = f"{kind} {threshold if threshold is not None else ''}".strip()
            sql = _level_sql(column, kind, threshold)
            built.append(cll.CustomLevel(sql, label_for_charts=label).configure(**options))
        built.append(cll.ElseLevel().configure(m_probability=else_m, u_probability=else_u))
        comparisons.append(cl.CustomComparison(comparison_levels=built, output_column_name=column))
    return SettingsCreator(
        link_type="dedupe_only",
        probability_two_random_records_match=PRIOR,
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=list(BLOCKING),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


_default: Model | None = None


def default_model() -> Model:
    """Return the untrained fallback: the fixed m and u, a prior of 1e-6, no TF adjustment."""
    global _default
    if _default is None:
        settings = _settings(term_frequencies=False).create_settings_dict(sql_dialect_str="duckdb")
        _default = Model(settings=settings)
    return _default


def _column(values: Sequence, clean) -> pa.Array:
    """Return a string column with ``clean`` applied once per distinct value ('' becomes null)."""
    encoded = pa.array(values, pa.string()).dictionary_encode()
    dictionary = pa.array([clean(v) or None for v in encoded.dictionary.to_pylist()], pa.string())
    return dictionary.take(encoded.indices)


def _iso_date(value) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text


def _dates(values: Sequence) -> pa.Array:
    """Return birth dates (date objects, ISO text or YYYYMMDD text) as ISO text, '' as null."""
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = pa.array([_iso_date(v) for v in values], pa.string())
    if pa.types.is_date(array.type):
        return pc.cast(array, pa.string())
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), pa.string())
    return _column(array.cast(pa.string()).to_pylist(), _iso_date)


def _year(value: str | None) -> int | None:
    head = (value or "")[:4]
    return int(head) if head.isdigit() else None


def _rt_rw(rt, rw) -> str:
    rt, rw = normalise_number(rt), normalise_number(rw)
    return f"{rt}/{rw}" if rt and rw else ""


def _tf_column(column: pa.Array, lookup: dict[str, float]) -> pa.Array:
    """Return each value's relative frequency from a stored lookup (unknown: the rarest)."""
    floor = lookup.get("", min(lookup.values(), default=1.0))
    encoded = column.dictionary_encode()
    freqs = [
        lookup.get(v, floor) if v is not None else None for v in encoded.dictionary.to_pylist()
    ]
    return pa.array(freqs, pa.float64()).take(encoded.indices)


def _table(rows: Iterable[Sequence], first_id: int = 0) -> tuple[list, pa.Table]:
    """Return the rows' own ids and the normalised table the model reads, numbered from first_id.

    A row holds ``ROW_FIELDS`` in order; a shorter row (the first six) lacks the address and
    phone. Values repeat across a registry, so each distinct value is normalised once.
    """
    rows = rows if isinstance(rows, list) else list(rows)
    width = len(ROW_FIELDS)
    columns = [[] for _ in range(width)]
    for row in rows:
        for index in range(width):
            columns[index].append(row[index] if index < len(row) else "")
    ids = columns[0]
    born = _dates(columns[4])
    born_list = born.to_pylist()
    arrays = [
        pa.array(range(first_id, first_id + len(ids)), pa.int64()),
        _column(columns[1], normalise_name),
        _column(columns[2], normalise_name),
        _column(columns[3], normalise_text),
        born,
        pa.array([_year(b) for b in born_list], pa.int32()),
        pc.utf8_slice_codeunits(born, 5, 10),
        _column(columns[5], lambda v: str(v or "").strip().upper()),
        _column(columns[6], lambda v: str(v or "").strip()),
        _column([_rt_rw(rt, rw) for rt, rw in zip(columns[7], columns[8], strict=True)], str),
        _column(columns[9], normalise_text),
        _column(columns[10], normalise_phone),
    ]
    return ids, pa.Table.from_arrays(arrays, schema=SCHEMA)


def _found(frame, threshold: float | None) -> list[tuple[int, int, float, float]]:
    relation = frame.as_duckdbpyrelation()
    if threshold is not None:
        relation = relation.filter(f"match_probability >= {float(threshold)}")
    return relation.select("unique_id_l, unique_id_r, match_probability, match_weight").fetchall()


def _linker(con, table_name: str, model: Model):
    from splink import DuckDBAPI, Linker

    logging.getLogger("splink").setLevel(logging.WARNING)
    settings = copy.deepcopy(model.settings)
    db_api = DuckDBAPI(connection=con)
    return db_api, Linker(db_api.register(table_name), settings, log_level=None)


def term_frequencies(table: pa.Table, keep: int = TF_KEEP) -> dict[str, dict[str, float]]:
    """Return each TF column's relative frequencies: the ``keep`` most common values, and under
    '' the frequency given to any other value (one record in the registry)."""
    found = {}
    for column in TF_COLUMNS:
        values = table[column].drop_null()
        total = len(values)
        counts = pc.value_counts(values).to_pylist() if total else []
        counts.sort(key=lambda c: -c["counts"])
        lookup = {c["values"]: c["counts"] / total for c in counts[:keep]}
        lookup[""] = 1 / max(total, 1)
        found[column] = lookup
    return found


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


@dataclass
class Training:
    """A trained model and what its training did."""

    model: Model
    records: int
    steps: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def train(
    rows: Iterable[Sequence],
    *,
    seed: int = 1,
    u_pairs: float = U_SAMPLE_PAIRS,
    em_max_pairs: float = EM_MAX_PAIRS,
) -> Training:
    """Train the model on a registry's rows with Splink: u by sampling, m by EM, the prior by rule.

    A step that the data cannot support (too few records, no pair in a training block) is
    skipped and named in ``steps``; its parameters keep their starting values. Splink's error
    classes are not public, so any error of a step skips it.
    """
    started = time.perf_counter()
    _, table = _table(rows)
    steps: dict[str, str] = {}
    con = duckdb.connect()
    try:
        con.register("people_arrow", table)
        con.execute("create table people as select * from people_arrow")
        con.unregister("people_arrow")
        logging.getLogger("splink").setLevel(logging.ERROR)
        from splink import DuckDBAPI, Linker

        db_api = DuckDBAPI(connection=con)
        linker = Linker(db_api.register("people"), _settings(term_frequencies=True), log_level=None)
        training = linker.training
        try:
            training.estimate_probability_two_random_records_match(
                list(DETERMINISTIC_RULES), recall=DETERMINISTIC_RECALL
            )
            steps["prior"] = "deterministic rules"
        except Exception as error:
            steps["prior"] = f"skipped: {error}"[:200]
        try:
            training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
            steps["u"] = f"random sampling of {u_pairs:.0f} pairs"
        except Exception as error:
            steps["u"] = f"skipped: {error}"[:200]
        for rule in EM_BLOCKING:
            before = copy.deepcopy(linker.misc.save_model_to_json())
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, max_pairs=em_max_pairs if table.num_rows > 50_000 else None
                )
                steps[f"m: {rule}"] = "expectation-maximisation"
            except Exception as error:
                steps[f"m: {rule}"] = f"skipped: {error}"[:200]
                # A failed session may leave the linker without the comparisons it set aside.
                linker = Linker(db_api.register("people"), before, log_level=None)
        settings = linker.misc.save_model_to_json()
        rules = list(BLOCKING)
        for column, rule in BROAD_BLOCKING:
            if _pair_count(con, column) <= PAIR_BUDGET * table.num_rows:
                rules.append(rule)
        settings["blocking_rules_to_generate_predictions"] = [
            {"blocking_rule": rule, "sql_dialect": "duckdb"} for rule in rules
        ]
    finally:
        con.close()
    if not 0 < (settings.get("probability_two_random_records_match") or 0) < 1:
        settings["probability_two_random_records_match"] = PRIOR
        steps["prior"] = "fallback 1e-6 (no pair found by the deterministic rules)"
    model = Model(
        settings=settings,
        term_frequencies=term_frequencies(table),
        key=f"trained-{uuid.uuid4()}",
    )
    return Training(model, table.num_rows, steps, time.perf_counter() - started)


def find_pairs(
    rows: Iterable[Sequence],
    *,
    model: Model | None = None,
    threshold: float | None = None,
    timings: dict[str, float] | None = None,
) -> list[Pair]:
    """Score every blocked pair of rows (see ``ROW_FIELDS``) and return those of one person.

    ``model`` defaults to the untrained fallback, ``threshold`` to the model's. ``timings``,
    when given, receives the seconds spent per phase: ``table`` (normalise and build the Arrow
    table), ``load`` (into DuckDB), ``model`` (Splink's linker) and ``predict`` (block and
    score in Splink).
    """
    model = model or default_model()
    threshold = model.threshold if threshold is None else threshold
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
        _, linker = _linker(con, "people", model)
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


class _Checker(threading.local):
    """Per thread, one DuckDB connection per model, reused by every single-record check."""

    def get(self, model: Model):
        cache = self.__dict__.setdefault("linkers", {})
        if model.key not in cache:
            con = duckdb.connect()
            empty = _table([])[1]
            con.register("empty_people", empty)
            db_api, linker = _linker(con, "empty_people", model)
            cache[model.key] = (con, db_api, linker)
        return cache[model.key]


_checker = _Checker()


def _between(model: Model, left_rows, right_rows, rules, threshold, *, paired=False):
    """Score rows of the left against rows of the right; return (left ids, found).

    Ids in ``found`` number the left rows from 0 and the right rows after them. ``paired`` adds
    a ``pair`` column (the row's index on its side) for a rule that scores row i against row i.
    """
    con, db_api, linker = _checker.get(model)
    left_ids, left_table = _table(left_rows)
    _, right_table = _table(right_rows, first_id=len(left_ids))
    if paired:
        left_table = left_table.append_column("pair", pa.array(range(len(left_rows)), pa.int64()))
        right_table = right_table.append_column(
            "pair", pa.array(range(len(right_rows)), pa.int64())
        )
    left, right = db_api.register(left_table), db_api.register(right_table)
    lookups = _register_frequencies(db_api, linker, model, (left_table, right_table))
    try:
        frame = linker.inference.predict_between(
            left,
            right,
            blocking_rules_to_generate_predictions=list(rules),
            threshold_match_probability=threshold,
        )
        found = _found(frame, threshold)
        frame.drop_table_from_database_and_remove_from_cache()
    finally:
        for registered in (left, right, *lookups):
            con.unregister(registered.physical_name)
    return left_ids, found


def _register_frequencies(db_api, linker, model: Model, tables) -> list:
    """Register, per TF column, the stored frequency of each value the tables hold (a value
    the registry's lookup lacks is as rare as one record)."""
    registered = []
    for column, lookup in model.term_frequencies.items():
        values = pa.concat_arrays([t[column].combine_chunks() for t in tables]).drop_null()
        values = pc.unique(values)
        frequencies = _tf_column(values, lookup)
        table = pa.table({column: values, f"tf_{column}": frequencies})
        frame = db_api.register(table)
        linker.table_management.register_term_frequency_lookup(frame, column)
        registered.append(frame)
    return registered


def match_one(
    person: Person,
    candidates: Iterable[Person],
    *,
    model: Model | None = None,
    threshold: float | None = None,
) -> list[Pair]:
    """Score one new record against registry records with the same model as a scan; best first."""
    model = model or default_model()
    threshold = model.threshold if threshold is None else threshold
    others = [c for c in candidates if str(c.id) != str(person.id)]
    if not others:
        return []
    ids, found = _between(
        model, [c.row() for c in others], [person.row()], model.blocking, threshold
    )
    pid = str(person.id)
    matches = []
    for a, b, probability, weight in found:
        other = ids[min(a, b)]
        matches.append(Pair(pid, str(other), float(probability), float(weight)))
    return sorted(matches, key=lambda p: -p.probability)


def score_pairs(model: Model, pairs: Sequence[tuple[Person, Person]]) -> list[float]:
    """Return the model's match probability of each given pair, whether blocking forms it or not."""
    if not pairs:
        return []
    left = [a.row() for a, _ in pairs]
    right = [b.row() for _, b in pairs]
    _, found = _between(model, left, right, ["l.pair = r.pair"], None, paired=True)
    probability = {min(a, b): p for a, b, p, _ in found}
    return [float(probability.get(index, 0.0)) for index in range(len(pairs))]


@dataclass(frozen=True)
class Calibration:
    """A threshold chosen from labelled pairs, and the precision and recall measured there."""

    threshold: float
    precision: float | None
    recall: float | None
    labels: int
    positives: int


MIN_THRESHOLD = 0.5
MIN_LABELS = 10


def choose_threshold(
    scored: Iterable[tuple[float, bool]],
    *,
    target_precision: float,
    default: float = MATCH_PROBABILITY,
) -> Calibration:
    """Pick the lowest threshold whose labelled pairs above it reach ``target_precision``.

    ``scored`` holds (match probability, same person) for adjudicated pairs. With fewer than
    ``MIN_LABELS`` labels, or none that are the same person, the default threshold is kept and
    its precision and recall are measured where labels allow. The threshold never goes below
    ``MIN_THRESHOLD`` (a pair must be likelier one person than two).
    """
    labels = sorted(scored, key=lambda s: -s[0])
    positives = sum(1 for _, same in labels if same)

    def measured(threshold: float) -> tuple[float | None, float | None]:
        above = [same for p, same in labels if p >= threshold]
        precision = sum(above) / len(above) if above else None
        recall = sum(above) / positives if positives else None
        return precision, recall

    chosen = default
    if len(labels) >= MIN_LABELS and positives:
        candidates = sorted({p for p, _ in labels if p >= MIN_THRESHOLD}, reverse=True)
        reaching = [t for t in candidates if (measured(t)[0] or 0) >= target_precision]
        if reaching:
            chosen = reaching[-1]
    precision, recall = measured(chosen)
    return Calibration(chosen, precision, recall, len(labels), positives)
