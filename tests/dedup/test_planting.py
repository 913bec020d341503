"""Planted second records carry each kind of change at its documented rate."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest

from ektp.dedup import planting
from ektp.dedup.demographic import Person
from ektp.dedup.names import normalise_name

VILLAGES = ["18.09.01.2001", "18.09.01.2002", "18.09.02.2001"]
PLANTS = 4000


def _original(i: int) -> Person:
    return Person(
        id=f"R{i}",
        name=("MUHAMMAD " if i % 5 == 0 else "") + "AGUS BUDI PRATAMA",
        mother_name="SITI AMINAH",
        birth_place="PESAWARAN",
        birth_date=dt.date(1980, 1 + i % 12, 1 + i % 28),
        sex="L",
        desa=VILLAGES[0],
        rt="001",
        rw="002",
        street="DUSUN II NO 5",
        phone="081234567890",
    )


@pytest.fixture(scope="module")
def planted():
    rng = random.Random(7)
    out = []
    for i in range(PLANTS):
        original = _original(i)
        copy, changes = planting.plant(original, new_id=f"D{i}", rng=rng, villages=VILLAGES)
        out.append((original, copy, changes))
    return out


# Changes that need something of the record (three name words, a day up to 12, a mother) happen
# less often than their rate; the rest are within four standard errors of it.
ALWAYS_POSSIBLE = (
    "name_typo",
    "name_reordered",
    "title_variant",
    "birth_date_typo",
    "mother_missing",
)
ALWAYS_POSSIBLE += ("address_moved", "phone_missing", "name_part_dropped")


@pytest.mark.parametrize("change", ALWAYS_POSSIBLE)
def test_each_change_happens_at_its_documented_rate(planted, change):
    rate = planting.RATES[change]
    seen = sum(change in changes for _, _, changes in planted) / PLANTS
    assert abs(seen - rate) <= 4 * math.sqrt(rate * (1 - rate) / PLANTS), (change, seen)


def test_conditional_changes_happen_at_most_at_their_rate(planted):
    for change in ("day_month_swap", "mother_typo"):
        seen = sum(change in changes for _, _, changes in planted) / PLANTS
        assert 0 < seen <= planting.RATES[change] + 0.02, (change, seen)


def test_each_named_change_is_visible_in_the_copy(planted):
    for original, copy, changes in planted:
        assert copy.id != original.id
        assert ("mother_missing" in changes) == (copy.mother_name == "")
        assert ("phone_missing" in changes) == (copy.phone == "")
        if "address_moved" in changes:
            assert copy.desa != original.desa
        else:
            assert (copy.desa, copy.rt, copy.rw, copy.street) == (
                original.desa,
                original.rt,
                original.rw,
                original.street,
            )
        if "day_month_swap" in changes and "birth_date_typo" not in changes:
            born = original.birth_date
            assert copy.birth_date == born.replace(day=born.month, month=born.day)
        if not changes:
            assert copy == Person(**{**original.__dict__, "id": copy.id})


def test_a_title_variant_alone_disappears_in_normalisation(planted):
    alone = [(o, c) for o, c, changes in planted if changes == ["title_variant"]]
    assert alone
    for original, copy in alone:
        assert copy.name != original.name
        assert normalise_name(copy.name) == normalise_name(original.name)


def test_no_change_at_zero_rates():
    rng = random.Random(1)
    original = _original(3)
    copy, changes = planting.plant(
        original, new_id="X", rng=rng, rates=dict.fromkeys(planting.RATES, 0.0)
    )
    assert changes == []
    assert copy.name == original.name
    assert copy.birth_date == original.birth_date


def test_a_typo_always_changes_the_text_by_at_most_one_letter_in_length():
    rng = random.Random(3)
    for _ in range(200):
        changed = planting.typo("PRATAMA", rng)
        assert changed != "PRATAMA"
        assert abs(len(changed) - 7) <= 1
    assert planting.typo("123", rng) == "123"
