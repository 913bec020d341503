"""The demographic model: trained with Splink's estimators, neutral on missing fields, TF-aware."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random

import pytest

from ektp.dedup import demographic, planting
from ektp.dedup.demographic import Person

FIRST = ["AGUS", "BUDI", "DEWI", "EKA", "FAJAR", "HADI", "INDAH", "JOKO", "LINA", "MAYA", "NINA"]
FIRST += ["PUTRI", "RINA", "SARI", "TEGUH", "WULAN", "YOGA", "RUDI", "ANDI", "CITRA"]
LAST = ["PRATAMA", "LESTARI", "HIDAYAT", "WIJAYA", "SANTOSO", "RAHAYU", "KURNIAWAN", "LUBIS"]
LAST += ["SIREGAR", "NASUTION", "SAPUTRA", "WIBOWO", "GUNAWAN", "HARAHAP"]
VILLAGES = [f"18.09.0{k}.200{d}" for k in range(1, 4) for d in range(1, 5)]


def registry(count: int = 600, planted: int = 30, seed: int = 5):
    """Return a small synthetic registry with ``planted`` second records, and their pairs."""
    rng = random.Random(seed)
    people = []
    for i in range(count):
        people.append(
            Person(
                id=f"R{i}",
                name=f"{rng.choice(FIRST)} {rng.choice(FIRST)} {rng.choice(LAST)}",
                mother_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                birth_place=rng.choice(["PESAWARAN", "METRO", "KALIANDA"]),
                birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20000)),
                sex=rng.choice("LP"),
                desa=rng.choice(VILLAGES),
                rt=f"{rng.randint(1, 9):03d}",
                rw=f"{rng.randint(1, 4):03d}",
                street=f"DUSUN {rng.randint(1, 6)}",
                phone=f"08{rng.randrange(10**9, 10**10)}" if rng.random() < 0.5 else "",
            )
        )
    pairs = set()
    for i in rng.sample(range(count), planted):
        copy, _ = planting.plant(people[i], new_id=f"D{i}", rng=rng, villages=VILLAGES)
        people.append(copy)
        pairs.add(frozenset((people[i].id, copy.id)))
    return people, pairs


@pytest.fixture(scope="module")
def trained():
    people, _ = registry()
    return demographic.train([p.row() for p in people], seed=1)


def _level(model: demographic.Model, field: str, label: str) -> dict:
    return next(x for x in model.levels() if x["field"] == field and x["label"] == label)


def test_training_runs_splinks_estimators_and_moves_every_parameter(trained):
    assert trained.records == 630
    assert trained.steps["prior"] == "deterministic rules"
    assert trained.steps["u"].startswith("random sampling")
    assert all(v == "expectation-maximisation" for k, v in trained.steps.items() if k[:2] == "m:")
    fallback = demographic.default_model()
    assert trained.model.prior != fallback.prior
    assert 0 < trained.model.prior < 1
    for field, label in (("name", "exact"), ("birth_date", "exact"), ("desa", "exact")):
        ours, typed = _level(trained.model, field, label), _level(fallback, field, label)
        assert (ours["m"], ours["u"]) != (typed["m"], typed["u"]), field


def test_a_trained_model_is_plain_json_and_scores_the_same_after_a_round_trip(trained):
    people, pairs = registry()
    restored = demographic.Model(
        settings=json.loads(json.dumps(trained.model.settings)),
        threshold=trained.model.threshold,
        term_frequencies=json.loads(json.dumps(trained.model.term_frequencies)),
        key="restored",
    )
    by_id = {p.id: p for p in people}
    sample = [tuple(by_id[i] for i in sorted(pair)) for pair in sorted(pairs, key=sorted)[:5]]
    assert demographic.score_pairs(restored, sample) == pytest.approx(
        demographic.score_pairs(trained.model, sample)
    )


def test_a_scan_with_the_trained_model_finds_most_planted_records_and_few_others(trained):
    people, pairs = registry()
    found = {
        frozenset((p.left, p.right))
        for p in demographic.find_pairs([p.row() for p in people], model=trained.model)
    }
    assert len(found & pairs) >= 0.8 * len(pairs)
    assert len(found - pairs) <= 0.1 * len(found)


def test_common_names_weigh_less_than_rare_ones(trained):
    base = Person(
        "a", "SARI LESTARI", "", "", dt.date(1980, 3, 4), "P", "18.09.01.2001", "1", "1", "", ""
    )
    people = [dataclasses.replace(base, id=f"c{i}", birth_date=None) for i in range(40)]
    people += [dataclasses.replace(base, id=f"x{i}", name=f"ORANG {i}") for i in range(200)]
    model = demographic.train([p.row() for p in people], seed=1).model
    rare = dataclasses.replace(base, name="ZULKARNAEN SIHOMBING")
    common, other = base, dataclasses.replace(base, id="b")
    rare_other = dataclasses.replace(rare, id="b")
    common_score, rare_score = demographic.score_pairs(model, [(common, other), (rare, rare_other)])
    assert rare_score > common_score


MISSING = {
    "mother_name": "",
    "birth_place": "",
    "sex": "",
    "birth_date": None,
    "desa": "",
    "rt": "",
    "street": "",
    "phone": "",
}


@pytest.mark.parametrize("field", sorted(MISSING))
@pytest.mark.parametrize("which", ["default", "trained"])
def test_a_value_missing_on_one_side_weighs_nothing(trained, field, which):
    model = trained.model if which == "trained" else demographic.default_model()
    a = Person(
        "a", "AGUS PRATAMA", "SITI AMINAH", "METRO", dt.date(1980, 3, 4), "L",
        "18.09.01.2001", "1", "2", "DUSUN 3", "081234567890",
    )  # fmt: skip
    b = dataclasses.replace(a, id="b", name="AGUS PRATAMAA")
    one_missing = dataclasses.replace(b, **{field: MISSING[field]})
    both_missing = (
        dataclasses.replace(a, **{field: MISSING[field]}),
        one_missing,
    )
    other = {"birth_date": "1901-01-01", "phone": "089999999999", "rt": "9"}.get(field, "ZZ")
    different = dataclasses.replace(b, **{field: other})
    scores = demographic.score_pairs(
        model, [(a, one_missing), both_missing, (a, b), (a, different)]
    )
    missing_one, missing_both, agreeing, disagreeing = scores
    assert missing_one == pytest.approx(missing_both)
    if which == "default":  # a tiny training registry need not make every disagreement count
        assert disagreeing < missing_one < agreeing


def test_records_without_mother_sex_or_address_are_still_linked_by_what_they_have():
    rows = [
        ("a", "Hj. Siti Aminah, S.Pd.", "", "", "1980-03-04", "", "", "", "", "", "0812 3456 7890"),
        ("b", "SITI AMINAH", "", "", "1980-03-04", "", "", "", "", "", "+62 812 3456 7890"),
        ("c", "DEWI LESTARI", "", "", "1980-03-04", "", "", "", "", "", ""),
    ]
    assert [(p.left, p.right) for p in demographic.find_pairs(rows)] == [("a", "b")]


@pytest.mark.parametrize(
    ("labels", "target", "threshold", "precision", "recall"),
    [
        # enough labels: the lowest threshold that keeps the target precision
        (
            [(0.999, True)] * 8 + [(0.97, True), (0.96, False), (0.9, True), (0.6, False)],
            0.95,
            0.97,
            1.0,
            0.9,
        ),
        (
            [(0.999, True)] * 8 + [(0.97, True), (0.96, False), (0.9, True), (0.6, False)],
            0.85,
            0.9,
            10 / 11,
            1.0,
        ),
        # never below 0.5, even when every label is a duplicate
        ([(0.3, True)] * 5 + [(0.999, True)] * 5, 0.95, 0.999, 1.0, 0.5),
        # too few labels: the default threshold, measured where possible
        ([(0.999, True), (0.2, False)], 0.95, 0.99, 1.0, 1.0),
        # no duplicate among the labels: the default, no recall
        ([(0.999, False)] * 12, 0.95, 0.99, 0.0, None),
        ([], 0.95, 0.99, None, None),
    ],
)
def test_the_threshold_is_chosen_from_labels_for_a_target_precision(
    labels, target, threshold, precision, recall
):
    chosen = demographic.choose_threshold(labels, target_precision=target)
    assert chosen.threshold == pytest.approx(threshold)
    assert chosen.precision == (None if precision is None else pytest.approx(precision))
    assert chosen.recall == (None if recall is None else pytest.approx(recall))
    assert chosen.labels == len(labels)
