"""Second records of one person as a registry really gets them, for benchmarks and tests.

``plant`` copies a person and applies each change below independently at its rate (``RATES``),
so a planted pair carries none, one or several of them; the rates follow the kinds of errors
double NIKs show (a name keyed again by another operator, a title written or not, a birth date
from a different document, an address after a move):

    change              rate   what the copy gets
    name_typo           0.30   one letter of the name replaced, dropped, doubled, or two swapped
    name_part_dropped   0.10   one word of a name of three or more words left out
    name_reordered      0.05   the words of the name in another order
    title_variant       0.10   a title or degree added (H., Hj., Drs., S.Pd., ...) or Muhammad
                               spelled another way (Muhamad, Moch., M.)
    day_month_swap      0.05   day and month swapped (only when the day is 12 or less)
    birth_date_typo     0.10   one digit of the day mistyped
    mother_missing      0.15   no mother's name
    mother_typo         0.10   one letter of the mother's name replaced (when not missing)
    address_moved       0.20   another village, RT/RW and street
    phone_missing       0.30   no phone number
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from ektp.dedup.demographic import Person

RATES = {
    "name_typo": 0.30,
    "name_part_dropped": 0.10,
    "name_reordered": 0.05,
    "title_variant": 0.10,
    "day_month_swap": 0.05,
    "birth_date_typo": 0.10,
    "mother_missing": 0.15,
    "mother_typo": 0.10,
    "address_moved": 0.20,
    "phone_missing": 0.30,
}
TITLES_BEFORE = ("H.", "Hj.", "Drs.", "Ir.", "Dr.")
DEGREES_AFTER = (", S.Pd.", ", S.E.", ", S.H.", ", S.Kom.", ", A.Md.")
MUHAMMAD_SPELLINGS = ("MUHAMAD", "MOCH.", "M.", "MOCHAMMAD", "MOH.")
LETTERS = "ABCDEFGHIJKLMNOPRSTUWY"


def typo(text: str, rng: random.Random) -> str:
    """Return the text with one letter replaced, dropped or doubled, or two neighbours swapped."""
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if not letters:
        return text
    at = rng.choice(letters)
    kind = rng.randrange(4)
    if kind == 0:
        return text[:at] + rng.choice([c for c in LETTERS if c != text[at]]) + text[at + 1 :]
    if kind == 1 and len(letters) > 3:
        return text[:at] + text[at + 1 :]
    if kind == 2:
        return text[:at] + text[at] + text[at:]
    if at + 1 < len(text) and text[at + 1].isalpha() and text[at + 1] != text[at]:
        return text[:at] + text[at + 1] + text[at] + text[at + 2 :]
    return text[:at] + rng.choice([c for c in LETTERS if c != text[at]]) + text[at + 1 :]


def _title_variant(name: str, rng: random.Random) -> str:
    words = name.split()
    if words and words[0] == "MUHAMMAD":
        return " ".join([rng.choice(MUHAMMAD_SPELLINGS), *words[1:]])
    if rng.random() < 0.5:
        return f"{rng.choice(TITLES_BEFORE)} {name}"
    return name + rng.choice(DEGREES_AFTER)


def _day_typo(born: dt.date, rng: random.Random) -> dt.date:
    tens, units = divmod(born.day, 10)
    choices = [tens * 10 + u for u in range(10) if u != units and 1 <= tens * 10 + u <= 28]
    return born.replace(day=rng.choice(choices)) if choices else born


def plant(
    person: Person,
    *,
    new_id: str,
    rng: random.Random,
    villages: list[str] | tuple[str, ...] = (),
    rates: dict[str, float] | None = None,
) -> tuple[Person, list[str]]:
    """Return a second record of the same person and the changes it got (see ``RATES``)."""
    rates = RATES if rates is None else rates
    changes = [change for change, rate in rates.items() if rng.random() < rate]
    name, mother, born = person.name, person.mother_name, person.birth_date
    words = name.split()
    if "name_part_dropped" in changes and len(words) >= 3:
        del words[rng.randrange(1, len(words))]
    elif "name_part_dropped" in changes:
        changes.remove("name_part_dropped")
    if "name_reordered" in changes and len(words) >= 2:
        words = words[1:] + words[:1]
    elif "name_reordered" in changes:
        changes.remove("name_reordered")
    name = " ".join(words)
    if "name_typo" in changes:
        name = typo(name, rng)
    if "title_variant" in changes:
        name = _title_variant(name, rng)
    if isinstance(born, dt.date):
        if "day_month_swap" in changes and born.day <= 12 and born.day != born.month:
            born = born.replace(day=born.month, month=born.day)
        elif "day_month_swap" in changes:
            changes.remove("day_month_swap")
        if "birth_date_typo" in changes:
            born = _day_typo(born, rng)
    if "mother_missing" in changes:
        mother = ""
        if "mother_typo" in changes:
            changes.remove("mother_typo")
    elif "mother_typo" in changes:
        mother = typo(mother, rng)
    address = {}
    if "address_moved" in changes:
        others = [v for v in villages if v != person.desa]
        address = {
            "desa": rng.choice(others) if others else person.desa,
            "rt": f"{rng.randint(1, 20):03d}",
            "rw": f"{rng.randint(1, 8):03d}",
            "street": f"DUSUN {rng.choice(['I', 'II', 'III', 'IV', 'V'])} NO {rng.randint(1, 200)}",
        }
    phone = "" if "phone_missing" in changes else person.phone
    copy = dataclasses.replace(
        person, id=new_id, name=name, mother_name=mother, birth_date=born, phone=phone, **address
    )
    return copy, changes
